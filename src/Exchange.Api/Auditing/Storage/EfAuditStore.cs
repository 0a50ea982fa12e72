using System.Globalization;
using System.Text.Json;
using Exchange.Audit.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;

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

        // The rows go in by the database's own bulk path, not through EF's change tracking, which cost more than the
        // writes themselves for a batch of a few thousand events (docs/BENCHMARKS.md, section 5).
        var connection = db.Database.GetDbConnection();
        var dbTransaction = transaction.GetDbTransaction();
        if (connection is Npgsql.NpgsqlConnection npgsql)
        {
            await CopyAsync(npgsql, batch, ct).ConfigureAwait(false);
        }
        else
        {
            await InsertAsync(connection, dbTransaction, batch, ct).ConfigureAwait(false);
        }

        await transaction.CommitAsync(ct).ConfigureAwait(false);
    }

    private static readonly string[] EntryColumns = ["Index", "Leaf", "LeafHash", "TimeMs", "ActorOrganisation", "ActorSubject", "ChildId", "Purpose", "Decision"];
    private static readonly string[] NodeColumns = ["Level", "Index", "Hash"];

    /// <summary>SQLite: one prepared INSERT per table, executed once per row inside the batch's transaction.</summary>
    private static async Task InsertAsync(System.Data.Common.DbConnection connection, System.Data.Common.DbTransaction transaction, MerkleAppendBatch batch, CancellationToken ct)
    {
        var entries = Prepare(connection, transaction, "audit_entries", EntryColumns);
        await using (entries.ConfigureAwait(false))
        {
            foreach (var entry in batch.Entries)
            {
                var fields = SearchFields.From(entry.Leaf);
                Bind(entries, entry.Index, entry.Leaf, entry.LeafHash, fields.TimeMs, fields.Organisation, fields.Subject, fields.ChildId, fields.Purpose, fields.Decision);
                await entries.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            }
        }

        var nodes = Prepare(connection, transaction, "audit_nodes", NodeColumns);
        await using (nodes.ConfigureAwait(false))
        {
            foreach (var node in batch.Nodes)
            {
                Bind(nodes, node.Level, node.Index, node.Hash);
                await nodes.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            }
        }
    }

    private static System.Data.Common.DbCommand Prepare(System.Data.Common.DbConnection connection, System.Data.Common.DbTransaction transaction, string table, string[] columns)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
#pragma warning disable CA2100 // fixed table and column names; every value is a parameter
        command.CommandText = $"INSERT INTO {table} ({string.Join(", ", columns.Select(c => $"\"{c}\""))}) VALUES ({string.Join(", ", columns.Select((_, i) => $"@p{i}"))})";
#pragma warning restore CA2100
        for (var i = 0; i < columns.Length; i++)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = $"@p{i}";
            command.Parameters.Add(parameter);
        }

        return command;
    }

    private static void Bind(System.Data.Common.DbCommand command, params object?[] values)
    {
        for (var i = 0; i < values.Length; i++)
        {
            command.Parameters[i].Value = values[i] ?? DBNull.Value;
        }
    }

    /// <summary>PostgreSQL: a binary COPY per table inside the batch's transaction (one round trip each).</summary>
    private static async Task CopyAsync(Npgsql.NpgsqlConnection connection, MerkleAppendBatch batch, CancellationToken ct)
    {
        var entries = await connection.BeginBinaryImportAsync(
            $"COPY audit_entries ({string.Join(", ", EntryColumns.Select(c => $"\"{c}\""))}) FROM STDIN (FORMAT BINARY)", ct).ConfigureAwait(false);
        await using (entries.ConfigureAwait(false))
        {
            foreach (var entry in batch.Entries)
            {
                var fields = SearchFields.From(entry.Leaf);
                await entries.StartRowAsync(ct).ConfigureAwait(false);
                await entries.WriteAsync(entry.Index, NpgsqlTypes.NpgsqlDbType.Bigint, ct).ConfigureAwait(false);
                await entries.WriteAsync(entry.Leaf, NpgsqlTypes.NpgsqlDbType.Bytea, ct).ConfigureAwait(false);
                await entries.WriteAsync(entry.LeafHash, NpgsqlTypes.NpgsqlDbType.Bytea, ct).ConfigureAwait(false);
                await entries.WriteAsync(fields.TimeMs, NpgsqlTypes.NpgsqlDbType.Bigint, ct).ConfigureAwait(false);
                foreach (var text in new[] { fields.Organisation, fields.Subject, fields.ChildId, fields.Purpose, fields.Decision })
                {
                    if (text is null)
                    {
                        await entries.WriteNullAsync(ct).ConfigureAwait(false);
                    }
                    else
                    {
                        await entries.WriteAsync(text, NpgsqlTypes.NpgsqlDbType.Text, ct).ConfigureAwait(false);
                    }
                }
            }

            await entries.CompleteAsync(ct).ConfigureAwait(false);
        }

        var nodes = await connection.BeginBinaryImportAsync(
            $"COPY audit_nodes ({string.Join(", ", NodeColumns.Select(c => $"\"{c}\""))}) FROM STDIN (FORMAT BINARY)", ct).ConfigureAwait(false);
        await using (nodes.ConfigureAwait(false))
        {
            foreach (var node in batch.Nodes)
            {
                await nodes.StartRowAsync(ct).ConfigureAwait(false);
                await nodes.WriteAsync(node.Level, NpgsqlTypes.NpgsqlDbType.Integer, ct).ConfigureAwait(false);
                await nodes.WriteAsync(node.Index, NpgsqlTypes.NpgsqlDbType.Bigint, ct).ConfigureAwait(false);
                await nodes.WriteAsync(node.Hash, NpgsqlTypes.NpgsqlDbType.Bytea, ct).ConfigureAwait(false);
            }

            await nodes.CompleteAsync(ct).ConfigureAwait(false);
        }
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
