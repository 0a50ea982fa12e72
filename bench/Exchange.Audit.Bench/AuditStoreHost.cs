using Exchange.Api.Auditing;
using Exchange.Api.Auditing.Storage;
using Exchange.Api.Hosting;
using Exchange.Audit.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Exchange.Audit.Bench;

internal enum StoreKind { Sqlite, Postgres }

/// <summary>
/// The service's own DI container for the audit log, built the way <c>Program.cs</c> builds it
/// (<c>AddExchangeOptions().AddExchangeAuditing()</c>, environment <c>Benchmark</c>), over a fresh
/// SQLite data directory or a fresh PostgreSQL database, with the audit store's migrations applied
/// (<see cref="AuditDatabase.MigrateAsync"/>, as <c>DatabaseInitializer</c> does). The host is never
/// run: no hosted service (start-up check, checkpointer) starts; the store, log and writer are taken
/// from the container.
/// </summary>
internal sealed class AuditStoreHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly string _dataDirectory;
    private readonly string? _postgresServer;
    private readonly string? _postgresDatabase;

    private AuditStoreHost(WebApplication app, StoreKind kind, string dataDirectory, string? postgresServer, string? postgresDatabase)
    {
        _app = app;
        Kind = kind;
        _dataDirectory = dataDirectory;
        _postgresServer = postgresServer;
        _postgresDatabase = postgresDatabase;
    }

    public StoreKind Kind { get; }

    public IServiceProvider Services => _app.Services;

    public IMerkleNodeStore Store => Services.GetRequiredService<IMerkleNodeStore>();

    public MerkleLog Log => Services.GetRequiredService<MerkleLog>();

    public AuditWriter Writer => Services.GetRequiredService<AuditWriter>();

    public AuditDatabase Database => Services.GetRequiredService<AuditDatabase>();

    public string DataDirectory => _dataDirectory;

    public string AuditFile => Path.Combine(_dataDirectory, "audit.db");

    public string Describe() => Kind == StoreKind.Sqlite
        ? $"SQLite {SqliteVersion()}, {AuditFile} (WAL, synchronous=FULL by the service's interceptor), store {Store.GetType().Name}"
        : $"PostgreSQL database {_postgresDatabase} on {new NpgsqlConnectionStringBuilder(_postgresServer).Host}:{new NpgsqlConnectionStringBuilder(_postgresServer).Port}, store {Store.GetType().Name}";

    public static async Task<AuditStoreHost> CreateAsync(StoreKind kind, string? postgresServer = null)
    {
        var dataDirectory = Directory.CreateTempSubdirectory("exchange-audit-bench-").FullName;
        string? database = null;
        var settings = new Dictionary<string, string?>
        {
            ["Exchange:DataDirectory"] = dataDirectory,
            ["Exchange:Database:Provider"] = kind == StoreKind.Sqlite ? "Sqlite" : "Postgres",
        };
        if (kind == StoreKind.Postgres)
        {
            ArgumentException.ThrowIfNullOrWhiteSpace(postgresServer);
            database = "bench_audit_" + Guid.NewGuid().ToString("N")[..12];
            await using (var connection = new NpgsqlConnection(postgresServer))
            {
                await connection.OpenAsync();
                await using var command = new NpgsqlCommand($"CREATE DATABASE {database}", connection);
                await command.ExecuteNonQueryAsync();
            }

            settings["ConnectionStrings:Exchange"] = new NpgsqlConnectionStringBuilder(postgresServer) { Database = database }.ConnectionString;
        }

        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            EnvironmentName = "Benchmark",
            ContentRootPath = dataDirectory,
            Args = [],
        });
        builder.Configuration.AddInMemoryCollection(settings);
        // EF Core logs every command at Information; the benchmark prints its own figures.
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        // A fresh database has no migrations history yet: EF logs the failed probe as an error (the service's
        // own logging filters it the same way).
        builder.Logging.AddFilter("Microsoft.EntityFrameworkCore.Database.Command", LogLevel.None);
        builder.AddExchangeOptions().AddExchangeAuditing();
        var host = new AuditStoreHost(builder.Build(), kind, dataDirectory, postgresServer, database);
        await host.Database.MigrateAsync(CancellationToken.None);
        return host;
    }

    /// <summary>Settings of the server that decide what a commit costs.</summary>
    public async Task<string> DurabilitySettingsAsync()
    {
        await using var db = Database.Create();
        await db.Database.OpenConnectionAsync();
        var connection = db.Database.GetDbConnection();
        async Task<string> Scalar(string sql)
        {
            await using var command = connection.CreateCommand();
            command.CommandText = sql;
            return Convert.ToString(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture) ?? "?";
        }

        return Kind == StoreKind.Sqlite
            ? $"journal_mode={await Scalar("PRAGMA journal_mode")}, synchronous={await Scalar("PRAGMA synchronous")} (2 = FULL)"
            : $"{await Scalar("SELECT version()")}; fsync={await Scalar("SHOW fsync")}, synchronous_commit={await Scalar("SHOW synchronous_commit")}, wal_sync_method={await Scalar("SHOW wal_sync_method")}, shared_buffers={await Scalar("SHOW shared_buffers")}";
    }

    private static string SqliteVersion()
    {
        using var connection = new SqliteConnection("Data Source=:memory:");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT sqlite_version()";
        return Convert.ToString(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture) ?? "?";
    }

    public async ValueTask DisposeAsync()
    {
        await _app.DisposeAsync();
        if (Kind == StoreKind.Postgres)
        {
            NpgsqlConnection.ClearAllPools();
            await using var connection = new NpgsqlConnection(_postgresServer);
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand($"DROP DATABASE IF EXISTS {_postgresDatabase} WITH (FORCE)", connection);
            await command.ExecuteNonQueryAsync();
        }

        SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
        catch (IOException)
        {
            // Left for the OS to clean (temp folder).
        }
    }
}
