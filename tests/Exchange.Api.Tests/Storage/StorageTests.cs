using System.Net;
using System.Text;
using Exchange.Api.Storage;
using Exchange.Api.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Exchange.Api.Tests.Storage;

public abstract class StorageTestsBase<TFactory>(TFactory api) where TFactory : ExchangeApiFactory
{
    // Canary identifiers: valid, and used nowhere else in the suite.
    protected const string CanaryNhs = "9990000069";
    protected const string CanaryUpn = "H209123425001";
    protected const string CanaryLaId = "CANARY-LA-77";

    protected TFactory Api => api;

    [SkippableFact]
    public async Task MigrationsApplyCleanlyToAnEmptyDatabase()
    {
        _ = api.CreateClient(); // starting the host migrates the empty database
        using var scope = api.Services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<ExchangeDbContext>();
        Assert.NotEmpty(await db.Database.GetAppliedMigrationsAsync());
        Assert.Empty(await db.Database.GetPendingMigrationsAsync());
        Assert.False(db.Database.HasPendingModelChanges(), "the model has changes that no migration describes");
        var organisations = await db.Organisations.Select(o => o.Id).ToListAsync();
        Assert.Contains("operator:exchange", organisations);
        Assert.Contains("la:202", organisations);
        Assert.Contains("la:209", organisations);
    }

    [SkippableFact]
    public async Task IdentifiersAreStoredOnlyAsBlindIndexAndCiphertext()
    {
        var response = await api.Council202.RegisterAsync(new { nhsNumber = CanaryNhs, upn = CanaryUpn, laChildId = new { la = "202", id = CanaryLaId } });
        var childId = await Problem.ChildIdAsync(response, HttpStatusCode.Created);
        // A conflict stores the presented identifiers in the review case: those must be protected too.
        await api.Council202.RegisterAsync(new { nhsNumber = "9990000077", upn = CanaryUpn });

        var contents = await RawContentsAsync();
        Assert.Contains(childId, contents, StringComparison.Ordinal); // the scan does see the data
        foreach (var canary in new[] { CanaryNhs, "999 000 0069", CanaryUpn, CanaryLaId, "9990000077" })
        {
            Assert.DoesNotContain(canary, contents, StringComparison.OrdinalIgnoreCase);
        }
    }

    [SkippableFact]
    public async Task AnExclusionsReasonTextIsStoredOnlySealed()
    {
        const string canary = "CANARY-EXCLUSION-WORDS-31 threw a chair";
        var (org, mis) = await RollCheck.RollCheckSupport.NewSchoolAsync(api);
        var childId = await RollCheck.RollCheckSupport.RegisterChildAsync(api, new { upn = TestIdentifiers.NewUpn() });
        Assert.Equal(HttpStatusCode.Created, (await System.Net.Http.Json.HttpClientJsonExtensions.PostAsJsonAsync(api.Council202, "/v1/enrolments",
            new { childId, urn = org[7..], startDate = "2025-09-01" })).StatusCode);
        var recorded = await System.Net.Http.Json.HttpClientJsonExtensions.PostAsJsonAsync(mis, $"/v1/children/{childId}/exclusions",
            new { type = "suspension", startDate = "2026-11-03", sessions = 2, reasonCode = "PP", reasonText = canary });
        Assert.Equal(HttpStatusCode.Created, recorded.StatusCode);

        var contents = await RawContentsAsync();
        Assert.Contains(childId, contents, StringComparison.Ordinal);
        Assert.DoesNotContain("CANARY-EXCLUSION-WORDS-31", contents, StringComparison.OrdinalIgnoreCase);
    }

    [SkippableFact]
    public async Task APepsWordsAndHealthSectionAreStoredOnlySealed()
    {
        var (org, _) = await RollCheck.RollCheckSupport.NewSchoolAsync(api);
        var childId = await RollCheck.RollCheckSupport.RegisterChildAsync(api, new { upn = TestIdentifiers.NewUpn() });
        Assert.Equal(HttpStatusCode.Created, (await System.Net.Http.Json.HttpClientJsonExtensions.PostAsJsonAsync(api.Council202, "/v1/enrolments",
            new { childId, urn = org[7..], startDate = "2025-09-01" })).StatusCode);
        var council = api.WithToken(api.Issuer.Token("la:202", ["virtual-school"]), "pep-review");
        var saved = await council.PutAsync($"/v1/children/{childId}/pep", System.Net.Http.Json.JsonContent.Create(new
        {
            meetingDate = "2026-11-10", designatedTeacher = "CANARY-PEP-TEACHER-47", pupilVoice = "CANARY-PEP-VOICE-47 wants to stay",
            targets = new[] { new { id = "T1", description = "CANARY-PEP-TARGET-47", measure = "m", dueBy = "2027-01-01", status = "in-progress" } },
            healthSection = "CANARY-PEP-HEALTH-47 epilepsy",
        }));
        Assert.Equal(HttpStatusCode.Created, saved.StatusCode);

        var contents = await RawContentsAsync();
        Assert.Contains(childId, contents, StringComparison.Ordinal);
        Assert.DoesNotContain("CANARY-PEP-", contents, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>Everything the database holds, as text, read below the application.</summary>
    protected abstract Task<string> RawContentsAsync();
}

public sealed class SqliteStorageTests(ExchangeApiFactory api) : StorageTestsBase<ExchangeApiFactory>(api), IClassFixture<ExchangeApiFactory>
{
    protected override Task<string> RawContentsAsync()
    {
        // The raw bytes of the database file and its write-ahead log, as an attacker with the disk would read them.
        var text = new StringBuilder();
        foreach (var file in Directory.GetFiles(Api.DataDirectory, "exchange.db*"))
        {
            using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var memory = new MemoryStream();
            stream.CopyTo(memory);
            text.Append(Encoding.Latin1.GetString(memory.ToArray()));
        }

        return Task.FromResult(text.ToString());
    }
}

public sealed class PostgresStorageTests : StorageTestsBase<PostgresApiFactory>, IClassFixture<PostgresApiFactory>
{
    public PostgresStorageTests(PostgresApiFactory api) : base(api) => Postgres.SkipUnlessAvailable();

    protected override async Task<string> RawContentsAsync()
    {
        var text = new StringBuilder();
        await using var connection = new NpgsqlConnection(Api.PostgresConnectionString);
        await connection.OpenAsync();
        var tables = new List<string>();
        await using (var list = new NpgsqlCommand("SELECT tablename FROM pg_tables WHERE schemaname = 'public'", connection))
        await using (var reader = await list.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                tables.Add(reader.GetString(0));
            }
        }

        Assert.Contains("child_identifiers", tables);
        foreach (var table in tables)
        {
            // Every row as text, bytea columns included (as hex and as escaped bytes).
            await using var dump = new NpgsqlCommand($"SELECT t::text, encode(convert_to(t::text, 'UTF8'), 'escape') FROM \"{table}\" t", connection);
            await using var reader = await dump.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                text.AppendLine(reader.GetString(0)).AppendLine(reader.GetString(1));
            }
        }

        return text.ToString();
    }
}
