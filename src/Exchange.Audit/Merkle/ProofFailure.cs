namespace Exchange.Audit.Merkle;

/// <summary>Why a Merkle proof did not verify.</summary>
public enum ProofFailure
{
    /// <summary>The proof verified.</summary>
    None = 0,

    /// <summary>A tree size or leaf index is negative, or the index is not below the tree size.</summary>
    IndexOutOfRange,

    /// <summary>The sizes cannot be proven consistent: the newer tree is smaller, or the older one is empty.</summary>
    InvalidSizes,

    /// <summary>A leaf hash, root hash or proof hash is not <see cref="MerkleHash.Size"/> bytes.</summary>
    WrongHashLength,

    /// <summary>The proof has too many or too few hashes for the sizes given.</summary>
    WrongProofLength,

    /// <summary>The proof is well formed but the recomputed root differs from the one given.</summary>
    RootMismatch,
}
