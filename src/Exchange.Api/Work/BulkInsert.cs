using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Storage;
using Npgsql;

namespace Exchange.Api.Work;

/// <summary>
/// Inserts many new rows of one entity inside the unit of work's transaction by the database's own bulk path (SQLite:
/// one prepared INSERT executed per row; PostgreSQL: binary COPY), not through EF's change tracking, which for a batch
/// of thousands of rows cost about as much again as the writes (docs/BENCHMARKS.md, section 5). Column names, value
/// converters and store types come from the EF model, so a row reads back through EF exactly as if EF had written it.
/// Only for plain tables whose every column the entity sets itself (no database-generated values, no owned types).
/// </summary>
internal static class BulkInsert
{
    public static async Task WriteAsync<T>(DbContext db, IReadOnlyCollection<T> rows, CancellationToken ct) where T : class
    {
        if (rows.Count == 0)
        {
            return;
        }

        var entity = db.Model.FindEntityType(typeof(T)) ?? throw new InvalidOperationException($"{typeof(T).Name} is not in the model.");
        var table = StoreObjectIdentifier.Table(entity.GetTableName()!, entity.GetSchema());
        var columns = entity.GetProperties().Select(p => new Column(p, p.GetColumnName(table)!, p.GetRelationalTypeMapping())).ToList();
        if (columns.Any(c => c.Property.IsShadowProperty() || c.Property.ValueGenerated != ValueGenerated.Never && !c.Property.IsKey())
            || entity.GetNavigations().Any(n => n.TargetEntityType.IsOwned()))
        {
            throw new InvalidOperationException($"{typeof(T).Name} has columns the database or EF fills in; add its rows through the context.");
        }

        var connection = db.Database.GetDbConnection();
        var transaction = db.Database.CurrentTransaction?.GetDbTransaction()
            ?? throw new InvalidOperationException("A bulk insert runs inside the unit of work's transaction.");
        var tableName = Quote(table.Name, table.Schema);
        var columnList = string.Join(", ", columns.Select(c => Quote(c.Name)));
        if (connection is NpgsqlConnection npgsql)
        {
            await CopyAsync(npgsql, tableName, columnList, columns, rows, ct).ConfigureAwait(false);
        }
        else
        {
            await InsertEachAsync(connection, transaction, tableName, columnList, columns, rows, ct).ConfigureAwait(false);
        }
    }

    private sealed record Column(IProperty Property, string Name, RelationalTypeMapping Mapping)
    {
        public object? Value(object row) => Property.GetGetter().GetClrValueUsingContainingEntity(row);
    }

    private static async Task InsertEachAsync<T>(
        DbConnection connection, DbTransaction transaction, string table, string columnList, List<Column> columns, IReadOnlyCollection<T> rows, CancellationToken ct)
        where T : class
    {
        var command = connection.CreateCommand();
        await using (command.ConfigureAwait(false))
        {
            command.Transaction = transaction;
#pragma warning disable CA2100 // table and column names from the EF model; every value is a parameter
            command.CommandText = $"INSERT INTO {table} ({columnList}) VALUES ({string.Join(", ", columns.Select((_, i) => $"@b{i}"))})";
#pragma warning restore CA2100
            foreach (var row in rows)
            {
                // The type mapping makes each parameter (converter applied, store type set) as EF would for this column.
                command.Parameters.Clear();
                for (var i = 0; i < columns.Count; i++)
                {
                    command.Parameters.Add(columns[i].Mapping.CreateParameter(command, $"@b{i}", columns[i].Value(row), columns[i].Property.IsNullable));
                }

                await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            }
        }
    }

    private static async Task CopyAsync<T>(
        NpgsqlConnection connection, string table, string columnList, List<Column> columns, IReadOnlyCollection<T> rows, CancellationToken ct)
        where T : class
    {
        // COPY's binary format is typed per column: the store type without its length (varchar(32) is written as varchar).
        var types = columns.Select(c => StripFacets(c.Mapping.StoreType)).ToArray();
        var import = await connection.BeginBinaryImportAsync($"COPY {table} ({columnList}) FROM STDIN (FORMAT BINARY)", ct).ConfigureAwait(false);
        await using (import.ConfigureAwait(false))
        {
            foreach (var row in rows)
            {
                await import.StartRowAsync(ct).ConfigureAwait(false);
                for (var i = 0; i < columns.Count; i++)
                {
                    var value = columns[i].Value(row);
                    value = value is null ? null : columns[i].Mapping.Converter is { } converter ? converter.ConvertToProvider(value) : value;
                    if (value is null)
                    {
                        await import.WriteNullAsync(ct).ConfigureAwait(false);
                    }
                    else
                    {
                        await import.WriteAsync(value, types[i], ct).ConfigureAwait(false);
                    }
                }
            }

            await import.CompleteAsync(ct).ConfigureAwait(false);
        }
    }

    private static string StripFacets(string storeType) => storeType.IndexOf('(', StringComparison.Ordinal) is var open and >= 0
        ? storeType[..open].TrimEnd() : storeType;

    private static string Quote(string name, string? schema = null) =>
        (schema is null ? "" : $"\"{schema.Replace("\"", "\"\"", StringComparison.Ordinal)}\".") + $"\"{name.Replace("\"", "\"\"", StringComparison.Ordinal)}\"";
}
