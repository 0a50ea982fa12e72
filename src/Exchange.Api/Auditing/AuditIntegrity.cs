using System.Globalization;
using System.Runtime.CompilerServices;
using Exchange.Audit.Checkpoints;
using Exchange.Audit.Storage;

namespace Exchange.Api.Auditing;

/// <summary>
/// Holds the stored audit log to the checkpoints this service signed: every stored checkpoint must carry a
/// valid signature by the log's key, the log must be at least as long as the newest, every leaf is rehashed
/// and the roots recomputed at each checkpoint (naming the first entry that does not match), and the stored
/// subtree hashes that proofs are built from must give the same root.
/// </summary>
internal static class AuditIntegrity
{
    private const int Page = 5_000;

    public sealed record Finding(bool IsIntact, string Message, long? EntryIndex = null);

    public static async Task<Finding> CheckAsync(AuditCheckpoints checkpoints, MerkleLog log, IMerkleNodeStore store, CancellationToken cancellationToken)
    {
        var stored = await checkpoints.AllAsync(cancellationToken).ConfigureAwait(false);
        var size = await log.GetSizeAsync(cancellationToken).ConfigureAwait(false);
        var head = await checkpoints.MirroredHeadAsync(cancellationToken).ConfigureAwait(false);
        if (stored.Count == 0)
        {
            // The service signs a checkpoint at every start, before any request: a log with entries and no
            // checkpoint, or a main database that remembers one, means the checkpoints were removed.
            return size == 0 && head is null
                ? new Finding(true, "No checkpoint has been signed yet.")
                : new Finding(false, string.Create(CultureInfo.InvariantCulture,
                    $"The audit log has {size} entries but no signed checkpoint{(head is null ? "" : $", while the main database recorded one at tree size {head.TreeSize}")}: its checkpoints were removed."));
        }

        if (head is not null && head.TreeSize > stored[^1].TreeSize)
        {
            return new Finding(false, string.Create(CultureInfo.InvariantCulture,
                $"The main database recorded a checkpoint at tree size {head.TreeSize}, but the audit store's newest is at {stored[^1].TreeSize}: the audit store was restored from an older copy or its checkpoints were removed."));
        }

        if (head is not null && stored.FirstOrDefault(c => c.TreeSize == head.TreeSize) is { } same && !same.RootHash.AsSpan().SequenceEqual(head.RootHash))
        {
            return new Finding(false, string.Create(CultureInfo.InvariantCulture,
                $"The checkpoint at tree size {head.TreeSize} differs from the one the main database recorded: the audit store was replaced."));
        }

        var verifier = checkpoints.CreateVerifier();
        var heads = new List<TrustedTreeHead>();
        foreach (var record in stored)
        {
            var verified = verifier.Verify(record.SignedNote);
            if (!verified.IsValid || verified.Checkpoint!.TreeSize != record.TreeSize || !verified.Checkpoint.RootHash.Span.SequenceEqual(record.RootHash))
            {
                return new Finding(false, string.Create(CultureInfo.InvariantCulture,
                    $"The stored checkpoint at tree size {record.TreeSize} is not one this log's key signed ({(verified.IsValid ? "its size or root was changed" : verified.Detail)}). Instances sharing one log must share its signing key."));
            }

            if (record.TreeSize > 0)
            {
                heads.Add(new TrustedTreeHead(record.TreeSize, record.RootHash));
            }
        }

        var latest = stored[^1];
        if (size < latest.TreeSize)
        {
            return new Finding(false, string.Create(CultureInfo.InvariantCulture,
                $"The audit log has {size} entries but a checkpoint was signed at {latest.TreeSize}: the log was truncated from entry {size}."), size);
        }

        if (heads.Count == 0)
        {
            return new Finding(true, "Only the empty log has been checkpointed.");
        }

        var result = await AuditLogVerifier.VerifyAsync(ReadAsync(store, latest.TreeSize, cancellationToken), heads, cancellationToken).ConfigureAwait(false);
        if (!result.IsValid)
        {
            return new Finding(false, "The audit log does not match the checkpoints it signed: " + result.Detail, result.EntryIndex ?? result.SuspectStart);
        }

        var root = await log.RootAsync(latest.TreeSize, cancellationToken).ConfigureAwait(false);
        if (!root.AsSpan().SequenceEqual(latest.RootHash))
        {
            return new Finding(false, string.Create(CultureInfo.InvariantCulture,
                $"The audit log's entries match checkpoint {latest.TreeSize}, but its stored subtree hashes do not: the audit_nodes table was altered, and proofs built from it would not verify."));
        }

        return new Finding(true, string.Create(CultureInfo.InvariantCulture, $"The audit log matches its {stored.Count} signed checkpoint(s), the newest at {latest.TreeSize} of {size} entries."));
    }

    private static async IAsyncEnumerable<AuditExportEntry> ReadAsync(IMerkleNodeStore store, long end, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        for (long start = 0; start < end; start += Page)
        {
            foreach (var entry in await store.ReadEntriesAsync(start, Math.Min(start + Page, end), cancellationToken).ConfigureAwait(false))
            {
                yield return new AuditExportEntry(entry.Index, entry.Leaf, entry.LeafHash);
            }
        }
    }
}
