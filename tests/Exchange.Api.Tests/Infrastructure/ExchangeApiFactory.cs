using System.Net.Http.Headers;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Serilog.Core;

namespace Exchange.Api.Tests.Infrastructure;

public enum StorageKind { Sqlite, Postgres }

/// <summary>
/// The real API in the test host, over a fresh SQLite file (or a fresh PostgreSQL database),
/// trusting a WireMock-served OpenID Connect issuer. Nothing of ours is mocked.
/// </summary>
public class ExchangeApiFactory : WebApplicationFactory<Program>, IAsyncLifetime
{
    private readonly StorageKind _storage;
    private string? _postgresConnection;

    public ExchangeApiFactory() : this(StorageKind.Sqlite) { }

    protected ExchangeApiFactory(StorageKind storage)
    {
        _storage = storage;
        DataDirectory = Path.Combine(Path.GetTempPath(), "exchange-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(DataDirectory);
    }

    public TestIssuer Issuer { get; } = new();

    public CapturedLogs Logs { get; } = new();

    public string DataDirectory { get; }

    public string SqliteFile => Path.Combine(DataDirectory, "exchange.db");

    /// <summary>The audit log's own SQLite file.</summary>
    public string AuditSqliteFile => Path.Combine(DataDirectory, "audit.db");

    public string? PostgresConnectionString => _postgresConnection;

    /// <summary>Extra configuration a test class needs (set before first use).</summary>
    public Dictionary<string, string?> Settings { get; } = new();

    public string Environment { get; set; } = "Testing";

    public async Task InitializeAsync()
    {
        if (_storage == StorageKind.Postgres && !string.IsNullOrWhiteSpace(Postgres.ServerConnectionString))
        {
            _postgresConnection = await Postgres.CreateDatabaseAsync();
        }
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment(Environment);
        var settings = new Dictionary<string, string?>
        {
            ["Exchange:DataDirectory"] = DataDirectory,
            ["Exchange:Auth:Authority"] = Issuer.Authority,
            ["Exchange:Auth:Audience"] = TestIssuer.Audience,
            // The stub issuer speaks plain HTTP on loopback; production keeps the HTTPS requirement.
            ["Exchange:Auth:RequireHttpsMetadata"] = "false",
            ["Exchange:Auth:DevIssuer:Enabled"] = "false",
            ["Exchange:Demo:SeedOrganisations"] = "true",
            // Tests run the scheduled checks themselves (ChildChecksTests), on the clock they set.
            ["Exchange:Checks:Interval"] = "00:00:00",
            ["Serilog:MinimumLevel:Default"] = "Debug",
        };
        if (_storage == StorageKind.Postgres)
        {
            settings["Exchange:Database:Provider"] = "Postgres";
            settings["ConnectionStrings:Exchange"] = _postgresConnection;
        }

        foreach (var (key, value) in Settings)
        {
            settings[key] = value;
        }

        foreach (var (key, value) in settings)
        {
            builder.UseSetting(key, value);
        }

        builder.ConfigureServices(services =>
        {
            services.AddSingleton<ILogEventSink>(Logs);
            ConfigureTestServices(services);
        });
    }

    /// <summary>Where a derived fixture adds the stand-ins for services we cannot run here (e.g. the Key Vault credential).</summary>
    protected virtual void ConfigureTestServices(IServiceCollection services) { }

    /// <summary>Runs SQL straight against the SQLite file, below the application (as someone with the disk could).</summary>
    public object? SqliteScalar(string sql, string? file = null)
    {
        using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={file ?? SqliteFile};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }

    /// <summary>Reads one value straight from the store in use (SQLite file or PostgreSQL), below the application.</summary>
    public async Task<object?> StoreScalarAsync(string sql)
    {
        if (PostgresConnectionString is not { } pg)
        {
            return SqliteScalar(sql);
        }

        await using var connection = new Npgsql.NpgsqlConnection(pg);
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand(sql, connection);
        return await command.ExecuteScalarAsync();
    }

    /// <summary>Changes rows straight in the SQLite file (a rogue administrator); returns the rows changed.</summary>
    public int SqliteExecute(string sql, string? file = null)
    {
        using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={file ?? SqliteFile};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteNonQuery();
    }

    /// <summary>
    /// A client of the test host whose every response is checked against openapi.yaml (status,
    /// content type, body schema): a departure fails the call with <see cref="ContractViolationException"/>.
    /// Redirects are not followed.
    /// </summary>
    public new HttpClient CreateClient() => CreateDefaultClient(new ContractCheckingHandler());

    public HttpClient ClientFor(string org, params string[] roles) => WithToken(Issuer.Token(org, roles));

    public HttpClient WithToken(string? token, string? purpose = "pep-review")
    {
        var client = CreateClient();
        if (token is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        if (purpose is not null)
        {
            client.DefaultRequestHeaders.Add("X-Purpose-Of-Use", purpose);
        }

        return client;
    }

    public HttpClient Council202 => ClientFor("la:202", "virtual-school");
    public HttpClient Council209 => ClientFor("la:209", "virtual-school");
    public HttpClient School202 => ClientFor("school:100001", "school-mis");
    public HttpClient Admin => ClientFor("operator:exchange", "exchange-admin");

    /// <summary>A DPO of <paramref name="org"/> declaring the audit-review purpose.</summary>
    public HttpClient DpoOf(string org = "operator:exchange") => WithToken(Issuer.Token(org, ["dpo"]), "audit-review");

    /// <summary>The environment a separate process of the service needs to run against this fixture's storage.</summary>
    public Dictionary<string, string> ProcessEnvironment()
    {
        var environment = new Dictionary<string, string>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Testing",
            ["ASPNETCORE_URLS"] = "http://127.0.0.1:0",
            ["Exchange__DataDirectory"] = DataDirectory,
            ["Exchange__Auth__Authority"] = Issuer.Authority,
            ["Exchange__Auth__Audience"] = TestIssuer.Audience,
            ["Exchange__Auth__RequireHttpsMetadata"] = "false",
        };
        if (_postgresConnection is not null)
        {
            environment["Exchange__Database__Provider"] = "Postgres";
            environment["ConnectionStrings__Exchange"] = _postgresConnection;
        }

        return environment;
    }

    async Task IAsyncLifetime.DisposeAsync()
    {
        await base.DisposeAsync();
        Issuer.Dispose();
        if (_postgresConnection is not null)
        {
            Npgsql.NpgsqlConnection.ClearAllPools();
            await Postgres.DropDatabaseAsync(_postgresConnection);
        }

        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
            // A file still held open on some platform: the temp folder is cleaned by the OS.
        }
    }
}

public sealed class PostgresApiFactory() : ExchangeApiFactory(StorageKind.Postgres);

public static class JsonRequests
{
    public static Task<HttpResponseMessage> RegisterAsync(this HttpClient client, object identifiers, string startDate = "2025-09-01") =>
        client.PostAsJsonAsync("/v1/children", new { identifiers, careEpisode = new { startDate } });

    public static Task<HttpResponseMessage> ResolveAsync(this HttpClient client, object identifiers) =>
        client.PostAsJsonAsync("/v1/identities/resolve", new { identifiers });
}
