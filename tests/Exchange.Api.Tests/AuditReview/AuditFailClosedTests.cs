using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Exchange.Api.Tests.Infrastructure;

namespace Exchange.Api.Tests.AuditReview;

/// <summary>If a request's audit event cannot be made durable, the request answers 503 and has no effect.</summary>
public abstract class AuditFailClosedTestsBase<TFactory>(TFactory api) where TFactory : ExchangeApiFactory
{
    [SkippableFact]
    public async Task AWriteWhoseEventCannotBeRecordedIsNotCarriedOut()
    {
        _ = api.CreateClient();
        var nhs = TestIdentifiers.NewNhs();
        await api.BreakAuditStoreAsync();
        try
        {
            await Problem.AssertAsync(await api.Council202.RegisterAsync(new { nhsNumber = nhs }), HttpStatusCode.ServiceUnavailable, "audit-unavailable");
        }
        finally
        {
            await api.RepairAuditStoreAsync();
        }

        // Nothing was registered: the identifiers resolve to no child, and registering now creates it afresh.
        await Problem.AssertAsync(await api.Council202.ResolveAsync(new { nhsNumber = nhs }), HttpStatusCode.NotFound, "child-not-found");
        await Problem.ChildIdAsync(await api.Council202.RegisterAsync(new { nhsNumber = nhs }), HttpStatusCode.Created);
    }

    /// <summary>The unit of work appends the event before it commits: a consent whose event fails is not stored.</summary>
    [SkippableFact]
    public async Task AConsentWhoseEventCannotBeRecordedIsNotStored()
    {
        var childId = await Problem.ChildIdAsync(await api.Council202.RegisterAsync(new { nhsNumber = TestIdentifiers.NewNhs() }), HttpStatusCode.Created);
        var consent = new
        {
            givenBy = "young-person", categories = new[] { "pep" }, recipients = new[] { "school:100001" }, purposes = new[] { "pep-review" },
            from = "2025-10-01",
        };
        await api.BreakAuditStoreAsync();
        try
        {
            await Problem.AssertAsync(await api.Council202.PostAsJsonAsync($"/v1/children/{childId}/consents", consent), HttpStatusCode.ServiceUnavailable, "audit-unavailable");
        }
        finally
        {
            await api.RepairAuditStoreAsync();
        }

        Assert.Equal(0, JsonDocument.Parse(await api.Council202.GetStringAsync($"/v1/children/{childId}/consents")).RootElement.GetArrayLength());
    }

    [SkippableFact]
    public async Task AReadWhoseEventCannotBeRecordedReleasesNothing()
    {
        var childId = await Problem.ChildIdAsync(await api.Council202.RegisterAsync(new { nhsNumber = TestIdentifiers.NewNhs() }), HttpStatusCode.Created);
        await api.BreakAuditStoreAsync();
        HttpResponseMessage response;
        try
        {
            response = await api.Council202.GetAsync($"/v1/children/{childId}");
        }
        finally
        {
            await api.RepairAuditStoreAsync();
        }

        var problem = await Problem.AssertAsync(response, HttpStatusCode.ServiceUnavailable, "audit-unavailable");
        Assert.DoesNotContain("careEpisodes", problem.ToString(), StringComparison.Ordinal);
        Assert.Contains("AUDIT: an event could not be made durable", api.Logs.All, StringComparison.Ordinal);

        // Once the log is back the same read works, and the log verifies as a whole.
        Assert.Equal(HttpStatusCode.OK, (await api.Council202.GetAsync($"/v1/children/{childId}")).StatusCode);
    }

    [SkippableFact]
    public async Task AnErasureWhoseEventCannotBeRecordedIsRolledBack()
    {
        var nhs = TestIdentifiers.NewNhs();
        var childId = await Problem.ChildIdAsync(await api.Council202.RegisterAsync(new { nhsNumber = nhs }), HttpStatusCode.Created);
        var dpo = api.WithToken(api.Issuer.Token("operator:exchange", "dpo"), "subject-access");
        await api.BreakAuditStoreAsync();
        try
        {
            await Problem.AssertAsync(await dpo.PostAsync($"/v1/children/{childId}/erase", null), HttpStatusCode.ServiceUnavailable, "audit-unavailable");
        }
        finally
        {
            await api.RepairAuditStoreAsync();
        }

        // The child was not erased: its identifiers still resolve to it.
        var resolved = await Problem.ChildIdAsync(await api.Council202.ResolveAsync(new { nhsNumber = nhs }), HttpStatusCode.OK);
        Assert.Equal(childId, resolved);
    }

    [SkippableFact]
    public async Task KeyRotationWhoseEventCannotBeRecordedMovesNoKeyAndMakesNoKeyFile()
    {
        await Problem.ChildIdAsync(await api.Council202.RegisterAsync(new { nhsNumber = TestIdentifiers.NewNhs() }), HttpStatusCode.Created);
        var keyFiles = Directory.GetFiles(api.DataDirectory, "*", SearchOption.AllDirectories).Length;
        await api.BreakAuditStoreAsync();
        try
        {
            // A new KEK version is a file: refused before it is written.
            await Problem.AssertAsync(await api.Admin.PostAsync("/v1/admin/keys/kek-versions", null), HttpStatusCode.ServiceUnavailable, "audit-unavailable");
            Assert.Equal(keyFiles, Directory.GetFiles(api.DataDirectory, "*", SearchOption.AllDirectories).Length);
        }
        finally
        {
            await api.RepairAuditStoreAsync();
        }

        Assert.Equal(HttpStatusCode.Created, (await api.Admin.PostAsync("/v1/admin/keys/kek-versions", null)).StatusCode);
        var before = JsonDocument.Parse(await api.Admin.GetStringAsync("/v1/admin/keys")).RootElement.GetProperty("remaining").GetInt32();
        Assert.True(before > 0);
        await api.BreakAuditStoreAsync();
        try
        {
            // Re-wrapping a batch is one unit of work: nothing moves without its event.
            await Problem.AssertAsync(await api.Admin.PostAsync("/v1/admin/keys/rotate?batchSize=10", null), HttpStatusCode.ServiceUnavailable, "audit-unavailable");
        }
        finally
        {
            await api.RepairAuditStoreAsync();
        }

        Assert.Equal(before, JsonDocument.Parse(await api.Admin.GetStringAsync("/v1/admin/keys")).RootElement.GetProperty("remaining").GetInt32());
    }
}

public sealed class SqliteAuditFailClosedTests(ExchangeApiFactory api) : AuditFailClosedTestsBase<ExchangeApiFactory>(api), IClassFixture<ExchangeApiFactory>;

public sealed class PostgresAuditFailClosedTests : AuditFailClosedTestsBase<PostgresApiFactory>, IClassFixture<PostgresApiFactory>
{
    public PostgresAuditFailClosedTests(PostgresApiFactory api) : base(api) => Postgres.SkipUnlessAvailable();
}
