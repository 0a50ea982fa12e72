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
            await ExecuteEachAsync(connection, transaction, $"INSERT INTO {tableName} ({columnList}) VALUES ({RowParameters(columns)})", columns, rows, ct).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Adds each row to the row of the same key, or inserts it where there is none, by
    /// <c>INSERT ... ON CONFLICT (key) DO UPDATE</c> (both databases speak it; PostgreSQL one statement over unnest of
    /// an array per column, SQLite one prepared statement per row): the
    /// <paramref name="sum"/> columns are added, the <paramref name="least"/> and <paramref name="greatest"/> columns keep
    /// the lower or higher value. For running counts that many writers change at once (the database adds, so no update
    /// is lost). The rows must have distinct keys; sorted by key, two writers lock the rows they share in the same order.
    /// </summary>
    public static async Task AddAsync<T>(DbContext db, IReadOnlyCollection<T> rows, string[] sum, string[] least, string[] greatest, CancellationToken ct)
        where T : class
    {
        if (rows.Count == 0)
        {
            return;
        }

        var entity = db.Model.FindEntityType(typeof(T)) ?? throw new InvalidOperationException($"{typeof(T).Name} is not in the model.");
        var table = StoreObjectIdentifier.Table(entity.GetTableName()!, entity.GetSchema());
        var columns = entity.GetProperties().Select(p => new Column(p, p.GetColumnName(table)!, p.GetRelationalTypeMapping())).ToList();
        var key = entity.FindPrimaryKey()!.Properties.Select(p => Quote(p.GetColumnName(table)!)).ToList();
        string Named(string property) => Quote(columns.Single(c => c.Property.Name == property).Name);
        var tableName = Quote(table.Name, table.Schema);
        var postgres = db.Database.GetDbConnection() is NpgsqlConnection;
        string Combine(string function, string property) => $"{Named(property)} = {function}({tableName}.{Named(property)}, excluded.{Named(property)})";
        var set = sum.Select(p => $"{Named(p)} = {tableName}.{Named(p)} + excluded.{Named(p)}")
            .Concat(least.Select(p => Combine(postgres ? "LEAST" : "MIN", p)))
            .Concat(greatest.Select(p => Combine(postgres ? "GREATEST" : "MAX", p)));
        var head = $"INSERT INTO {tableName} ({string.Join(", ", columns.Select(c => Quote(c.Name)))})";
        var tail = $" ON CONFLICT ({string.Join(", ", key)}) DO UPDATE SET {string.Join(", ", set)}";

        var connection = db.Database.GetDbConnection();
        var transaction = db.Database.CurrentTransaction?.GetDbTransaction()
            ?? throw new InvalidOperationException("A bulk upsert runs inside the unit of work's transaction.");
        if (connection is NpgsqlConnection npgsql)
        {
            // One statement whatever the number of rows: each column sent as one array and turned back into rows by unnest.
            var command = npgsql.CreateCommand();
            await using (command.ConfigureAwait(false))
            {
                command.Transaction = (NpgsqlTransaction)transaction;
                for (var i = 0; i < columns.Count; i++)
                {
                    var mapping = columns[i].Mapping;
                    var array = Array.CreateInstance(mapping.Converter?.ProviderClrType ?? mapping.ClrType, rows.Count);
                    var r = 0;
                    foreach (var row in rows)
                    {
                        var value = columns[i].Value(row) ?? throw new InvalidOperationException($"{typeof(T).Name}.{columns[i].Property.Name} is null: counts have no empty columns.");
                        array.SetValue(mapping.Converter is { } converter ? converter.ConvertToProvider(value) : value, r++);
                    }

                    command.Parameters.Add(new NpgsqlParameter($"u{i}", array) { DataTypeName = StripFacets(mapping.StoreType) + "[]" });
                }

#pragma warning disable CA2100 // table and column names from the EF model; every value is a parameter
                command.CommandText = head + $" SELECT * FROM unnest({string.Join(", ", columns.Select((_, i) => $"@u{i}"))})" + tail;
#pragma warning restore CA2100
                await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            }

            return;
        }

        // SQLite binds parameters by name with a linear search, so a statement of many rows costs the square of its
        // parameters (2,500 rows in statements of 500 took 0.8 s): one prepared statement, executed per row.
        await ExecuteEachAsync(connection, transaction, head + $" VALUES ({RowParameters(columns)})" + tail, columns, rows, ct).ConfigureAwait(false);
    }

    private sealed record Column(IProperty Property, string Name, RelationalTypeMapping Mapping)
    {
        public object? Value(object row) => Property.GetGetter().GetClrValueUsingContainingEntity(row);
    }

    /// <summary>The parameters of one row, in column order (<c>@b0, @b1...</c>).</summary>
    private static string RowParameters(List<Column> columns) => string.Join(", ", columns.Select((_, i) => $"@b{i}"));

    /// <summary>Executes <paramref name="commandText"/> (one row's statement, see <see cref="RowParameters"/>) once per row, prepared once.</summary>
    private static async Task ExecuteEachAsync<T>(
        DbConnection connection, DbTransaction transaction, string commandText, List<Column> columns, IReadOnlyCollection<T> rows, CancellationToken ct)
        where T : class
    {
        var command = connection.CreateCommand();
        await using (command.ConfigureAwait(false))
        {
            command.Transaction = transaction;
#pragma warning disable CA2100 // table and column names from the EF model; every value is a parameter
            command.CommandText = commandText;
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
