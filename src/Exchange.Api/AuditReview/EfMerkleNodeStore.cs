using Exchange.Api.Storage;
using Exchange.Audit.Storage;
using Microsoft.EntityFrameworkCore;

namespace Exchange.Api.AuditReview;

/// <summary>
/// The audit log's Merkle store in the service's database: <c>audit_entries</c> (index, exact leaf
/// bytes, leaf hash) and <c>audit_nodes</c> (complete-subtree hashes), both append-only by trigger.
/// Each call uses its own context, so the log's single writer is independent of request scopes.
/// </summary>
internal sealed class EfMerkleNodeStore(IServiceScopeFactory scopes, IWriteGate gate) : IMerkleNodeStore
{
    public async Task<long> GetSizeAsync(CancellationToken ct = default)
    {
        using var scope = scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<ExchangeDbContext>();
        // MAX, not COUNT: the primary key answers it without scanning the table.
        var last = await db.AuditEntries.MaxAsync(e => (long?)e.Index, ct).ConfigureAwait(false);
        return last is null ? 0 : last.Value + 1;
    }

    public async Task<IReadOnlyList<byte[]>> ReadHashesAsync(IReadOnlyList<MerkleNodeId> nodes, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        using var scope = scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<ExchangeDbContext>();
        var found = new Dictionary<MerkleNodeId, byte[]>();
        foreach (var level in nodes.GroupBy(n => n.Level))
        {
            var indexes = level.Select(n => n.Index).Distinct().ToList();
            if (level.Key == 0)
            {
                foreach (var row in await db.AuditEntries.AsNoTracking().Where(e => indexes.Contains(e.Index))
                             .Select(e => new { e.Index, e.LeafHash }).ToListAsync(ct).ConfigureAwait(false))
                {
                    found[new MerkleNodeId(0, row.Index)] = row.LeafHash;
                }
            }
            else
            {
                var l = level.Key;
                foreach (var row in await db.AuditNodes.AsNoTracking().Where(n => n.Level == l && indexes.Contains(n.Index))
                             .Select(n => new { n.Index, n.Hash }).ToListAsync(ct).ConfigureAwait(false))
                {
                    found[new MerkleNodeId(l, row.Index)] = row.Hash;
                }
            }
        }

        return nodes.Select(n => found.TryGetValue(n, out var hash)
            ? hash
            : throw new KeyNotFoundException($"Audit log node {n.Level}/{n.Index} is missing.")).ToList();
    }

    public async Task<IReadOnlyList<MerkleLogEntry>> ReadEntriesAsync(long startIndex, long endIndex, CancellationToken ct = default)
    {
        using var scope = scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<ExchangeDbContext>();
        return (await db.AuditEntries.AsNoTracking().Where(e => e.Index >= startIndex && e.Index < endIndex)
                .OrderBy(e => e.Index).ToListAsync(ct).ConfigureAwait(false))
            .Select(e => new MerkleLogEntry(e.Index, e.Leaf, e.LeafHash)).ToList();
    }

    /// <summary>One transaction for the whole batch (group commit); durable when this returns.</summary>
    public async Task AppendAsync(MerkleAppendBatch batch, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(batch);
        using var _ = await gate.EnterAsync(ct).ConfigureAwait(false);
        using var scope = scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<ExchangeDbContext>();
        await using var transaction = await db.Database.BeginTransactionAsync(ct).ConfigureAwait(false);
        var last = await db.AuditEntries.MaxAsync(e => (long?)e.Index, ct).ConfigureAwait(false);
        if ((last ?? -1) + 1 != batch.FirstIndex)
        {
            throw new InvalidOperationException("The audit log grew under this writer; the batch was not appended.");
        }

        db.AuditEntries.AddRange(batch.Entries.Select(e => new AuditEntryRecord { Index = e.Index, Leaf = e.Leaf, LeafHash = e.LeafHash }));
        db.AuditNodes.AddRange(batch.Nodes.Select(n => new AuditNodeRecord { Level = n.Level, Index = n.Index, Hash = n.Hash }));
        await db.SaveChangesAsync(ct).ConfigureAwait(false);
        await transaction.CommitAsync(ct).ConfigureAwait(false);
    }
}
