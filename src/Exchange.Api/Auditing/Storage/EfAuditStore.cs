using System.Globalization;
using System.Text.Json;
using Exchange.Audit.Storage;
using Microsoft.EntityFrameworkCore;

namespace Exchange.Api.Auditing.Storage;

/// <summary>
/// The audit log's Merkle store: <c>audit_entries</c> (index, exact leaf bytes, leaf hash, and search
/// columns copied from the leaf) and <c>audit_nodes</c> (complete-subtree hashes), both append-only by
/// trigger. Each call uses its own context on the audit store, independent of any request's transaction.
/// </summary>
internal sealed class EfAuditStore(AuditDatabase database) : IMerkleNodeStore
{
    // Any constant: instances of the service appending to one PostgreSQL log take turns on it.
    private const long AppendLockKey = 0x4155_4449_5400;

    public async Task<long> GetSizeAsync(CancellationToken ct = default)
    {
        await using var db = database.Create();
        // MAX, not COUNT: the primary key answers it without scanning the table.
        var last = await db.Entries.MaxAsync(e => (long?)e.Index, ct).ConfigureAwait(false);
        return last is null ? 0 : last.Value + 1;
    }

    public async Task<IReadOnlyList<byte[]>> ReadHashesAsync(IReadOnlyList<MerkleNodeId> nodes, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        if (nodes.Count == 0)
        {
            return [];
        }

        // A proof asks for about 2·log2(n) nodes on about log2(n) levels. One command reads them all: a UNION ALL
        // of one primary-key lookup per level, leaf hashes (level 0) from the entries, the rest from the nodes.
        // It goes straight to the context's connection (interceptors included): EF's query pipeline, with a newly
        // compiled query for each shape of request, cost several times the reads themselves. Every value is a
        // parameter; a very large request is split to stay far below the providers' parameter limits.
        await using var db = database.Create();
        await db.Database.OpenConnectionAsync(ct).ConfigureAwait(false);
        var found = new Dictionary<MerkleNodeId, byte[]>();
        foreach (var chunk in nodes.Distinct().Chunk(500))
        {
            var command = db.Database.GetDbConnection().CreateCommand();
            await using (command.ConfigureAwait(false))
            {
                string Parameter(object value)
                {
                    var parameter = command.CreateParameter();
                    parameter.ParameterName = "@p" + command.Parameters.Count.ToString(CultureInfo.InvariantCulture);
                    parameter.Value = value;
                    command.Parameters.Add(parameter);
                    return parameter.ParameterName;
                }

                var sql = new System.Text.StringBuilder();
                foreach (var level in chunk.GroupBy(n => n.Level))
                {
                    var indexes = string.Join(", ", level.Select(n => Parameter(n.Index)));
                    sql.Append(sql.Length == 0 ? "" : " UNION ALL ").Append(level.Key == 0
                        ? $"SELECT 0, \"Index\", \"LeafHash\" FROM audit_entries WHERE \"Index\" IN ({indexes})"
                        : $"SELECT \"Level\", \"Index\", \"Hash\" FROM audit_nodes WHERE \"Level\" = {Parameter(level.Key)} AND \"Index\" IN ({indexes})");
                }

#pragma warning disable CA2100 // fixed text and parameter names only; every value is a parameter
                command.CommandText = sql.ToString();
#pragma warning restore CA2100
                var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
                await using (reader.ConfigureAwait(false))
                {
                    while (await reader.ReadAsync(ct).ConfigureAwait(false))
                    {
                        found[new MerkleNodeId(reader.GetInt32(0), reader.GetInt64(1))] = reader.GetFieldValue<byte[]>(2);
                    }
                }
            }
        }

        return nodes.Select(n => found.TryGetValue(n, out var hash)
            ? hash
            : throw new KeyNotFoundException($"Audit log node {n.Level}/{n.Index} is missing.")).ToList();
    }

    public async Task<IReadOnlyList<MerkleLogEntry>> ReadEntriesAsync(long startIndex, long endIndex, CancellationToken ct = default)
    {
        await using var db = database.Create();
        return (await db.Entries.AsNoTracking().Where(e => e.Index >= startIndex && e.Index < endIndex)
                .OrderBy(e => e.Index).Select(e => new { e.Index, e.Leaf, e.LeafHash }).ToListAsync(ct).ConfigureAwait(false))
            .Select(e => new MerkleLogEntry(e.Index, e.Leaf, e.LeafHash)).ToList();
    }

    /// <summary>One transaction for the whole batch (group commit); durable when this returns.</summary>
    public async Task AppendAsync(MerkleAppendBatch batch, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(batch);
        await using var db = database.Create();
        await using var transaction = await db.Database.BeginTransactionAsync(ct).ConfigureAwait(false);
        if (!database.IsSqlite)
        {
            await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock({AppendLockKey})", ct).ConfigureAwait(false);
        }

        var last = await db.Entries.MaxAsync(e => (long?)e.Index, ct).ConfigureAwait(false);
        if ((last ?? -1) + 1 != batch.FirstIndex)
        {
            // Another instance appended first: nothing was written; group commit rebuilds the batch on the new edge.
            throw new MerkleLogConflictException();
        }

        db.Entries.AddRange(batch.Entries.Select(ToRecord));
        db.Nodes.AddRange(batch.Nodes.Select(n => new AuditNodeRecord { Level = n.Level, Index = n.Index, Hash = n.Hash }));
        await db.SaveChangesAsync(ct).ConfigureAwait(false);
        await transaction.CommitAsync(ct).ConfigureAwait(false);
    }

    private static AuditEntryRecord ToRecord(MerkleLogEntry entry)
    {
        var fields = SearchFields.From(entry.Leaf);
        return new AuditEntryRecord
        {
            Index = entry.Index,
            Leaf = entry.Leaf,
            LeafHash = entry.LeafHash,
            TimeMs = fields.TimeMs,
            ActorOrganisation = fields.Organisation,
            ActorSubject = fields.Subject,
            ChildId = fields.ChildId,
            Purpose = fields.Purpose,
            Decision = fields.Decision,
        };
    }

    /// <summary>The leaf fields copied into search columns; empty for a leaf that is not an audit event.</summary>
    internal readonly record struct SearchFields(long TimeMs, string? Organisation, string? Subject, string? ChildId, string? Purpose, string? Decision)
    {
        public static SearchFields From(byte[] leaf)
        {
            try
            {
                using var doc = JsonDocument.Parse(leaf);
                var root = doc.RootElement;
                if (root.ValueKind != JsonValueKind.Object)
                {
                    return default;
                }

                string? Text(JsonElement e, string name) =>
                    e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
                var time = Text(root, "time") is { } t && DateTimeOffset.TryParse(t, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed)
                    ? parsed.ToUnixTimeMilliseconds() : 0;
                var actor = root.TryGetProperty("actor", out var a) ? a : default;
                return new SearchFields(time, Text(actor, "org"), Text(actor, "sub"), Text(root, "child_id"), Text(root, "purpose"), Text(root, "decision"));
            }
            catch (JsonException)
            {
                return default;
            }
        }
    }
}
