namespace Exchange.Audit.Checkpoints;

/// <summary>Signs <see cref="Checkpoint"/>s as C2SP signed notes with a <see cref="NoteSigner"/>.</summary>
/// <param name="signer">The log's signing key; not owned (the caller disposes it).</param>
public sealed class CheckpointSigner(NoteSigner signer)
{
    private readonly NoteSigner _signer = signer ?? throw new ArgumentNullException(nameof(signer));

    /// <summary>Gets the origin of checkpoints made by <see cref="Sign(long, ReadOnlySpan{byte})"/>: the key name.</summary>
    public string Origin => _signer.Name;

    /// <summary>Gets the verifier key to publish (<see cref="NoteSigner.VerifierKey"/>).</summary>
    public string VerifierKey => _signer.VerifierKey;

    /// <summary>Signs a checkpoint.</summary>
    /// <param name="checkpoint">The checkpoint.</param>
    /// <returns>The signed note: checkpoint text, blank line, signature line.</returns>
    public string Sign(Checkpoint checkpoint)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        return _signer.Sign(checkpoint.ToNoteText());
    }

    /// <summary>Signs the checkpoint of this log (origin = key name) at a tree size and root hash.</summary>
    /// <param name="treeSize">The number of entries.</param>
    /// <param name="rootHash">The 32-byte RFC 6962 root hash at that size.</param>
    /// <returns>The signed note.</returns>
    /// <exception cref="ArgumentException">The size is negative or the hash not 32 bytes.</exception>
    public string Sign(long treeSize, ReadOnlySpan<byte> rootHash) => Sign(new Checkpoint(Origin, treeSize, rootHash));
}
