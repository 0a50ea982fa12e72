using Exchange.Audit.Merkle;

namespace Exchange.Audit.Storage;

/// <summary>
/// The offline check of an audit log export against trusted tree heads (from verified checkpoints): it rehashes
/// every leaf, recomputes the root at each trusted size in one streaming pass (memory O(log n)), and names the
/// first entry that does not match.
/// </summary>
/// <remarks>
/// <para>What it can locate:</para>
/// <list type="bullet">
/// <item>Missing, duplicated or out-of-order entries, and entries beyond the largest trusted size: always, by index.</item>
/// <item>An entry whose leaf bytes were edited but whose stored leaf hash (carried in the export) was not:
/// named exactly (<see cref="AuditLogVerificationOutcome.LeafMismatch"/>).</item>
/// <item>An entry rewritten together with its stored hash: the root no longer matches, and the verifier can
/// only bracket the first altered entry between the last trusted size that still verifies and the first that
/// does not (<see cref="AuditLogVerificationOutcome.RootMismatch"/>); trusted heads at consecutive sizes name it
/// exactly. Passing every checkpoint the log has signed narrows the bracket.</item>
/// </list>
/// <para>
/// The export must hold exactly the entries <c>[0, largest trusted size)</c>, in index order; to check a longer
/// export against an older checkpoint, pass only its first entries. The verifier never reads stored interior
/// node hashes: checking those is <see cref="MerkleLog.RootAsync"/>'s job against the same checkpoint.
/// </para>
/// </remarks>
public static class AuditLogVerifier
{
    /// <summary>Verifies an export against one trusted tree size and root hash.</summary>
    /// <param name="entries">The exported entries in index order, starting at 0; read once.</param>
    /// <param name="treeSize">The trusted tree size.</param>
    /// <param name="rootHash">The trusted root hash for <paramref name="treeSize"/>.</param>
    /// <returns>The conclusion, naming the first entry that does not match where it can.</returns>
    /// <exception cref="ArgumentException">An argument is malformed (a null entry or leaf, a root of the wrong length).</exception>
    public static AuditLogVerificationResult Verify(
        IEnumerable<AuditExportEntry> entries, long treeSize, byte[] rootHash) =>
        Verify(entries, [new TrustedTreeHead(treeSize, rootHash)]);

    /// <summary>
    /// Verifies an export against several trusted tree heads, for instance every checkpoint the log has signed.
    /// </summary>
    /// <param name="entries">The exported entries in index order, starting at 0; read once.</param>
    /// <param name="treeHeads">The trusted sizes and roots, in any order; at least one, with distinct sizes.</param>
    /// <returns>The conclusion, naming the first entry that does not match where it can.</returns>
    /// <exception cref="ArgumentException">An argument is malformed (a null entry or leaf, no tree heads,
    /// a repeated size, a root of the wrong length).</exception>
    public static AuditLogVerificationResult Verify(
        IEnumerable<AuditExportEntry> entries, IReadOnlyList<TrustedTreeHead> treeHeads)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var run = new Run(treeHeads);
        if (run.Result is not null)
        {
            return run.Result;
        }

        foreach (var entry in entries)
        {
            if (run.Add(entry) is { } result)
            {
                return result;
            }
        }

        return run.Complete();
    }

    /// <summary>
    /// Verifies entries streamed asynchronously (for instance straight from the database at start-up) against
    /// trusted tree heads, exactly as <see cref="Verify(IEnumerable{AuditExportEntry}, IReadOnlyList{TrustedTreeHead})"/>.
    /// Stops reading at the first problem.
    /// </summary>
    /// <param name="entries">The entries in index order, starting at 0; enumerated once.</param>
    /// <param name="treeHeads">The trusted sizes and roots, in any order; at least one, with distinct sizes.</param>
    /// <param name="cancellationToken">Cancels the enumeration.</param>
    /// <returns>The conclusion, naming the first entry that does not match where it can.</returns>
    /// <exception cref="ArgumentException">An argument is malformed.</exception>
    public static async Task<AuditLogVerificationResult> VerifyAsync(
        IAsyncEnumerable<AuditExportEntry> entries,
        IReadOnlyList<TrustedTreeHead> treeHeads,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var run = new Run(treeHeads);
        if (run.Result is not null)
        {
            return run.Result;
        }

        await foreach (var entry in entries.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            if (run.Add(entry) is { } result)
            {
                return result;
            }
        }

        return run.Complete();
    }

    // One pass over the entries; Add returns a result as soon as the outcome is known.
    private sealed class Run
    {
        private readonly TrustedTreeHead[] heads;
        private readonly CompactRange range = new();
        private readonly long finalSize;
        private int next;
        private long verified;
        private long? firstHashMismatch;
        private long withheld;

        public Run(IReadOnlyList<TrustedTreeHead> treeHeads)
        {
            heads = Normalise(treeHeads);
            finalSize = heads[^1].TreeSize;
            while (next < heads.Length && heads[next].TreeSize == 0)
            {
                if (!heads[next].RootHash.AsSpan().SequenceEqual(MerkleHash.EmptyRoot))
                {
                    Result = new(AuditLogVerificationOutcome.RootMismatch, null, 0, 0, 0,
                        "The trusted root for the empty tree is not SHA-256 of the empty string.");
                    return;
                }

                next++;
            }
        }

        // Set when the tree heads alone decide the outcome.
        public AuditLogVerificationResult? Result { get; }

        private long Position => range.Size;

        public AuditLogVerificationResult? Add(AuditExportEntry entry)
        {
            if (entry?.Leaf is null)
            {
                throw new ArgumentException($"The export entry at position {Position} or its leaf is null.", nameof(entry));
            }

            if (entry.Index != Position)
            {
                return firstHashMismatch is { } earlier
                    ? LeafMismatch(earlier, "its root could not be checked")
                    : entry.Index > Position
                        ? Located(AuditLogVerificationOutcome.MissingEntry, Position,
                            $"Entry {Position} is missing: the export goes on with entry {entry.Index}.")
                        : Located(AuditLogVerificationOutcome.UnexpectedEntry, Position,
                            $"Where entry {Position} was expected the export has entry {entry.Index} again (duplicated or out of order).");
            }

            if (Position >= finalSize)
            {
                return Located(AuditLogVerificationOutcome.ExtraEntry, Position,
                    $"The export has entries from {Position} on, beyond the trusted tree size {finalSize}.");
            }

            if (entry.Withheld)
            {
                if (entry.StoredLeafHash is not { Length: MerkleHash.Size } withheldHash)
                {
                    return Located(AuditLogVerificationOutcome.LeafMismatch, Position,
                        $"Entry {Position} is withheld but its leaf hash is missing or malformed.");
                }

                // Only the hash goes into the root: the root check still covers it.
                withheld++;
                range.Append(withheldHash, completed: null);
                return Position == heads[next].TreeSize ? CheckRoot() : null;
            }

            var leafHash = MerkleHash.LeafHash(entry.Leaf);
            if (firstHashMismatch is null && entry.StoredLeafHash is not null
                && !entry.StoredLeafHash.AsSpan().SequenceEqual(leafHash))
            {
                firstHashMismatch = Position;
            }

            range.Append(leafHash, completed: null);
            return Position == heads[next].TreeSize ? CheckRoot() : null;
        }

        public AuditLogVerificationResult Complete()
        {
            if (Position < finalSize)
            {
                return firstHashMismatch is { } earlier
                    ? LeafMismatch(earlier, "its root could not be checked")
                    : Located(AuditLogVerificationOutcome.MissingEntry, Position,
                        $"The export ends before entry {Position} but the trusted tree size is {finalSize}; entry {Position} is missing.");
            }

            return new(AuditLogVerificationOutcome.Verified, null, verified, null, null,
                withheld == 0
                    ? $"All {verified} entries verify against {heads.Length} trusted root(s)."
                    : $"All {verified} entries verify against {heads.Length} trusted root(s); {withheld} of them were withheld from this export and were checked by their leaf hashes only.");
        }

        private AuditLogVerificationResult? CheckRoot()
        {
            var size = Position;
            if (!range.Root().AsSpan().SequenceEqual(heads[next].RootHash))
            {
                if (firstHashMismatch is { } index)
                {
                    return LeafMismatch(index, $"the root at size {size} does not match");
                }

                return size - verified == 1
                    ? LeafMismatch(size - 1, $"the roots at sizes {verified} and {size} isolate it")
                    : new(AuditLogVerificationOutcome.RootMismatch, null, verified, verified, size,
                        $"The root at size {size} does not match; the first altered entry lies in [{verified}, {size}).");
            }

            if (firstHashMismatch is { } stored)
            {
                return new(AuditLogVerificationOutcome.StoredLeafHashMismatch, stored, size, null, null,
                    $"Entry {stored}'s leaf verifies against the root at size {size}, but its stored leaf hash differs.");
            }

            verified = size;
            next++;
            return null;
        }

        private AuditLogVerificationResult Located(AuditLogVerificationOutcome outcome, long index, string detail) =>
            new(outcome, index, verified, null, null, detail);

        private AuditLogVerificationResult LeafMismatch(long index, string why) =>
            Located(AuditLogVerificationOutcome.LeafMismatch, index,
                $"Entry {index} does not match ({why}); it is the first entry that does not.");
    }

    private static TrustedTreeHead[] Normalise(IReadOnlyList<TrustedTreeHead> treeHeads)
    {
        ArgumentNullException.ThrowIfNull(treeHeads);
        if (treeHeads.Count == 0)
        {
            throw new ArgumentException("At least one trusted tree head is needed.", nameof(treeHeads));
        }

        var heads = treeHeads.ToArray();
        foreach (var head in heads)
        {
            if (head is null || head.TreeSize < 0 || head.RootHash is not { Length: MerkleHash.Size })
            {
                throw new ArgumentException(
                    $"Every tree head needs a size of at least 0 and a {MerkleHash.Size}-byte root.", nameof(treeHeads));
            }
        }

        Array.Sort(heads, (a, b) => a.TreeSize.CompareTo(b.TreeSize));
        for (var i = 1; i < heads.Length; i++)
        {
            if (heads[i].TreeSize == heads[i - 1].TreeSize)
            {
                throw new ArgumentException($"Tree size {heads[i].TreeSize} is given twice.", nameof(treeHeads));
            }
        }

        return heads;
    }
}
