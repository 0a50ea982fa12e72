using System.Numerics;

namespace Exchange.Audit.Merkle;

/// <summary>
/// Verifies RFC 9162 inclusion proofs (section 2.1.3.2) and consistency proofs (section 2.1.4.2)
/// over SHA-256, with the edge cases (equal sizes, empty trees) handled as transparency-dev/merkle
/// does. Bad proofs and malformed input give a failed result; only null arguments throw.
/// </summary>
public static class MerkleProofVerifier
{
    /// <summary>Verifies that <paramref name="leafHash"/> is leaf <paramref name="leafIndex"/> of the tree with <paramref name="root"/>.</summary>
    /// <param name="leafIndex">The zero-based index of the leaf.</param>
    /// <param name="treeSize">The number of leaves in the tree.</param>
    /// <param name="leafHash">The leaf hash (<see cref="MerkleHash.LeafHash(ReadOnlySpan{byte})"/>).</param>
    /// <param name="proof">The inclusion path, from the leaf up.</param>
    /// <param name="root">The root hash of the tree.</param>
    /// <returns>Whether the proof verified and, if not, why.</returns>
    public static ProofVerificationResult VerifyInclusion(
        long leafIndex, long treeSize, byte[] leafHash, IReadOnlyList<byte[]> proof, byte[] root)
    {
        ArgumentNullException.ThrowIfNull(leafHash);
        ArgumentNullException.ThrowIfNull(proof);
        ArgumentNullException.ThrowIfNull(root);

        if (leafIndex < 0 || leafIndex >= treeSize)
        {
            return ProofVerificationResult.Fail(ProofFailure.IndexOutOfRange, "The leaf index is not below the tree size.");
        }

        if (leafHash.Length != MerkleHash.Size || root.Length != MerkleHash.Size || !AllHashesWellFormed(proof))
        {
            return WrongHashLength;
        }

        // RFC 9162 section 2.1.3.2, steps 2 to 5.
        var fn = (ulong)leafIndex;
        var sn = (ulong)treeSize - 1;
        Span<byte> r = stackalloc byte[MerkleHash.Size];
        leafHash.CopyTo(r);
        foreach (var p in proof)
        {
            if (sn == 0)
            {
                return TooLong;
            }

            if ((fn & 1) == 1 || fn == sn)
            {
                MerkleHash.NodeHash(p, r, r);
                ShiftWhileEven(ref fn, ref sn);
            }
            else
            {
                MerkleHash.NodeHash(r, p, r);
            }

            fn >>= 1;
            sn >>= 1;
        }

        if (sn != 0)
        {
            return TooShort;
        }

        return r.SequenceEqual(root)
            ? ProofVerificationResult.Valid
            : ProofVerificationResult.Fail(ProofFailure.RootMismatch, "The proof leads to a different root.");
    }

    /// <summary>
    /// Verifies that the tree of <paramref name="size1"/> leaves with <paramref name="root1"/> is a prefix
    /// of the tree of <paramref name="size2"/> leaves with <paramref name="root2"/>.
    /// </summary>
    /// <remarks>
    /// As in transparency-dev/merkle: an empty older tree always fails (such a proof is meaningless),
    /// and equal sizes need an empty proof and byte-identical roots.
    /// </remarks>
    /// <param name="size1">The size of the older tree.</param>
    /// <param name="size2">The size of the newer tree.</param>
    /// <param name="proof">The consistency proof.</param>
    /// <param name="root1">The root hash of the older tree.</param>
    /// <param name="root2">The root hash of the newer tree.</param>
    /// <returns>Whether the proof verified and, if not, why.</returns>
    public static ProofVerificationResult VerifyConsistency(
        long size1, long size2, IReadOnlyList<byte[]> proof, byte[] root1, byte[] root2)
    {
        ArgumentNullException.ThrowIfNull(proof);
        ArgumentNullException.ThrowIfNull(root1);
        ArgumentNullException.ThrowIfNull(root2);

        if (size1 <= 0 || size2 < size1)
        {
            return ProofVerificationResult.Fail(
                ProofFailure.InvalidSizes, "Consistency needs 0 < size1 <= size2.");
        }

        if (size1 == size2)
        {
            if (proof.Count != 0)
            {
                return TooLong;
            }

            return root1.AsSpan().SequenceEqual(root2)
                ? ProofVerificationResult.Valid
                : ProofVerificationResult.Fail(ProofFailure.RootMismatch, "Equal sizes but different roots.");
        }

        // RFC 9162 section 2.1.4.2, step 1.
        if (proof.Count == 0)
        {
            return TooShort;
        }

        if (root1.Length != MerkleHash.Size || root2.Length != MerkleHash.Size || !AllHashesWellFormed(proof))
        {
            return WrongHashLength;
        }

        // Step 2: prepending first_hash when size1 is a power of two is done by seeding from it.
        var next = BitOperations.IsPow2((ulong)size1) ? 0 : 1;
        ReadOnlySpan<byte> seed = next == 0 ? root1 : proof[0];

        // Steps 3 to 5.
        var fn = (ulong)size1 - 1;
        var sn = (ulong)size2 - 1;
        while ((fn & 1) == 1)
        {
            fn >>= 1;
            sn >>= 1;
        }

        Span<byte> fr = stackalloc byte[MerkleHash.Size];
        Span<byte> sr = stackalloc byte[MerkleHash.Size];
        seed.CopyTo(fr);
        seed.CopyTo(sr);

        // Step 6.
        for (var i = next; i < proof.Count; i++)
        {
            var c = proof[i];
            if (sn == 0)
            {
                return TooLong;
            }

            if ((fn & 1) == 1 || fn == sn)
            {
                MerkleHash.NodeHash(c, fr, fr);
                MerkleHash.NodeHash(c, sr, sr);
                ShiftWhileEven(ref fn, ref sn);
            }
            else
            {
                MerkleHash.NodeHash(sr, c, sr);
            }

            fn >>= 1;
            sn >>= 1;
        }

        // Step 7.
        if (sn != 0)
        {
            return TooShort;
        }

        if (!fr.SequenceEqual(root1))
        {
            return ProofVerificationResult.Fail(ProofFailure.RootMismatch, "The proof leads to a different older root.");
        }

        return sr.SequenceEqual(root2)
            ? ProofVerificationResult.Valid
            : ProofVerificationResult.Fail(ProofFailure.RootMismatch, "The proof leads to a different newer root.");
    }

    private static ProofVerificationResult WrongHashLength =>
        ProofVerificationResult.Fail(ProofFailure.WrongHashLength, $"Every hash must be {MerkleHash.Size} bytes.");

    private static ProofVerificationResult TooLong =>
        ProofVerificationResult.Fail(ProofFailure.WrongProofLength, "The proof has more hashes than the sizes allow.");

    private static ProofVerificationResult TooShort =>
        ProofVerificationResult.Fail(ProofFailure.WrongProofLength, "The proof has fewer hashes than the sizes need.");

    // "If LSB(fn) is not set, then right-shift both fn and sn equally until either LSB(fn) is set or fn is 0."
    private static void ShiftWhileEven(ref ulong fn, ref ulong sn)
    {
        while (fn != 0 && (fn & 1) == 0)
        {
            fn >>= 1;
            sn >>= 1;
        }
    }

    private static bool AllHashesWellFormed(IReadOnlyList<byte[]> proof)
    {
        foreach (var hash in proof)
        {
            if (hash is not { Length: MerkleHash.Size })
            {
                return false;
            }
        }

        return true;
    }
}
