using Exchange.Api.Auth;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Exchange.Audit.Bench;

/// <summary>
/// The real API (<c>Program</c> of Exchange.Api) hosted in this process: environment <c>Benchmark</c>,
/// SQLite in its own temp data directory, demo organisations seeded, the local development issuer
/// trusted, and auditing on or off (<c>Exchange:Audit:DisabledForBenchmark</c>). Either in memory
/// (TestServer) or on Kestrel at a loopback port.
/// </summary>
internal sealed class BenchApiFactory : WebApplicationFactory<Program>
{
    private readonly bool _auditing;
    private readonly string? _postgres;

    private readonly TimeProvider? _clock;

    /// <param name="postgres">A connection string to an existing, empty PostgreSQL database; null for SQLite.</param>
    private readonly IReadOnlyDictionary<string, string?> _extra;

    /// <param name="clock">The service's clock, where a part needs another day than today (tokens keep real time).</param>
    /// <param name="extra">More settings for one part (the webhook part allows a receiver on loopback).</param>
    public BenchApiFactory(bool auditing, bool kestrel, string? postgres = null, TimeProvider? clock = null, IReadOnlyDictionary<string, string?>? extra = null)
    {
        _extra = extra ?? new Dictionary<string, string?>();
        _auditing = auditing;
        _postgres = postgres;
        _clock = clock;
        Kestrel = kestrel;
        DataDirectory = Directory.CreateTempSubdirectory("exchange-audit-bench-api-").FullName;
        if (kestrel)
        {
            UseKestrel(0);
        }
    }

    public string DataDirectory { get; }

    public bool Kestrel { get; }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Benchmark");
        // The factory looks for its manifest in the current directory (the test runner's is the output folder;
        // `dotnet run`'s is not), so name the content root, src/Exchange.Api, from the manifest here.
        builder.UseContentRoot(ContentRoot());
        var settings = new Dictionary<string, string?>
        {
            ["Exchange:DataDirectory"] = DataDirectory,
            ["Exchange:Database:Provider"] = "Sqlite",
            ["Exchange:Auth:DevIssuer:Enabled"] = "true",
            ["Exchange:Demo:SeedOrganisations"] = "true",
            // The scheduled checks would run a minute after start, beside whatever a part measures.
            ["Exchange:Checks:Interval"] = "00:00:00",
            ["Exchange:Audit:DisabledForBenchmark"] = _auditing ? "false" : "true",
            // The per-client limit (1,200 a minute) would cap both instances alike; the benchmark measures the service.
            ["Exchange:Limits:RequestsPerMinute"] = "100000000",
            // Request logging writes a JSON line per request to the console; off for both instances alike.
            ["Serilog:MinimumLevel:Default"] = "Warning",
        };
        if (_postgres is not null)
        {
            settings["Exchange:Database:Provider"] = "Postgres";
            settings["ConnectionStrings:Exchange"] = _postgres;
        }

        foreach (var (key, value) in settings.Concat(_extra))
        {
            builder.UseSetting(key, value);
        }

        if (_clock is { } clock)
        {
            builder.ConfigureServices(services => services.AddSingleton(clock));
        }
    }

    private static string ContentRoot()
    {
        var manifest = Path.Combine(AppContext.BaseDirectory, "MvcTestingAppManifest.json");
        using var document = System.Text.Json.JsonDocument.Parse(File.ReadAllText(manifest));
        return document.RootElement.EnumerateObject()
            .Single(p => p.Name.StartsWith(typeof(Program).Assembly.GetName().Name + ",", StringComparison.Ordinal)).Value.GetString()!;
    }

    /// <summary>A token the instance accepts: minted by its own development issuer (the key in its data directory).</summary>
    public string Token(string organisation, params string[] roles) =>
        DevIssuer.LoadOrCreate(DataDirectory).Mint("exchange", $"bench-{roles[0]}@{organisation}", organisation, roles,
            "exchange-audit-bench", TimeSpan.FromHours(2), DateTimeOffset.UtcNow);

    public override async ValueTask DisposeAsync()
    {
        // Stop the host the way the service stops (hosted services first: the checkpointer signs a last
        // checkpoint) before the factory disposes it.
        await Services.GetRequiredService<IHost>().StopAsync();
        await base.DisposeAsync();
        SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
            // Left for the OS to clean (temp folder).
        }
    }
}
