using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Exchange.Api.Tests.AuditReview;
using Exchange.Api.Tests.Infrastructure;

namespace Exchange.Api.Tests.SubjectAccess;

/// <summary>The operator's DPO answers a subject access request (Art. 15) with everything held about a child.</summary>
public abstract class SubjectAccessExportTestsBase<TFactory>(TFactory api) where TFactory : ExchangeApiFactory
{
    private HttpClient OperatorDpo => api.WithToken(api.Issuer.Token("operator:exchange", "dpo"), "subject-access");

    private static string Export(string childId) => $"/v1/children/{childId}/subject-access-export";

    [SkippableFact]
    public async Task TheExportHoldsTheChildsIdentifiersRecordsAndEveryAccessWithoutStaffIds()
    {
        var (nhs, upn) = (TestIdentifiers.NewNhs(), TestIdentifiers.NewUpn());
        var childId = await Problem.ChildIdAsync(await api.Council202.RegisterAsync(new { nhsNumber = nhs, upn }), HttpStatusCode.Created);
        Assert.Equal(HttpStatusCode.Created, (await api.Council202.PostAsJsonAsync($"/v1/children/{childId}/placements", new { la = "209", startDate = "2025-10-01" })).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await api.Council202.PostAsJsonAsync($"/v1/children/{childId}/consents",
            new { givenBy = "young-person", categories = new[] { "pep" }, recipients = new[] { "school:100001" }, purposes = new[] { "pep-review" }, from = "2025-09-01" })).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await api.Council202.PostAsJsonAsync($"/v1/children/{childId}/objections",
            new { active = true, purposes = new[] { "attendance-monitoring" }, reason = "The young person objects to monitoring" })).StatusCode);
        var lewisham = api.WithToken(api.Issuer.Token("la:209", "social-worker"), "safeguarding");
        Assert.Equal(HttpStatusCode.Created, (await lewisham.PostAsJsonAsync($"/v1/children/{childId}/break-glass",
            new { reason = "Reported missing overnight from the placement", durationMinutes = 15 })).StatusCode);

        var response = await OperatorDpo.GetAsync(Export(childId));
        var body = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var export = JsonDocument.Parse(body).RootElement;
        Assert.Equal(childId, export.GetProperty("childId").GetString());
        var identifiers = export.GetProperty("identifiers").EnumerateArray().ToDictionary(i => i.GetProperty("type").GetString()!, i => i.GetProperty("value").GetString());
        Assert.Equal(nhs, identifiers["nhs"]);
        Assert.Equal(upn, identifiers["upn"]);
        Assert.Equal("202", Assert.Single(export.GetProperty("careEpisodes").EnumerateArray()).GetProperty("responsibleLa").GetString());
        Assert.Contains(export.GetProperty("relationships").EnumerateArray(), r => r.GetProperty("organisation").GetString() == "la:209" && r.GetProperty("startDate").GetString() == "2025-10-01");
        var consent = Assert.Single(export.GetProperty("consents").EnumerateArray());
        Assert.Equal("young-person", consent.GetProperty("consent").GetProperty("givenBy").GetString());
        Assert.Equal("la:202", consent.GetProperty("recordedBy").GetString());
        Assert.Equal("la:202", export.GetProperty("registration").GetProperty("createdBy").GetString());
        Assert.Equal("The young person objects to monitoring", Assert.Single(export.GetProperty("processingLimits").EnumerateArray()).GetProperty("reason").GetString());
        var grant = Assert.Single(export.GetProperty("breakGlassGrants").EnumerateArray());
        Assert.Equal("la:209", grant.GetProperty("organisation").GetString());
        Assert.Equal("Reported missing overnight from the placement", grant.GetProperty("reason").GetString());

        // Every access, by organisation and role: the registration, the break-glass opening by Lewisham.
        var log = export.GetProperty("accessLog").EnumerateArray().ToList();
        Assert.Contains(log, a => a.GetProperty("action").GetString() == "child.register" && a.GetProperty("organisation").GetString() == "la:202"
            && a.GetProperty("roles")[0].GetString() == "virtual-school" && a.GetProperty("decision").GetString() == "permit");
        Assert.Contains(log, a => a.GetProperty("action").GetString() == "break-glass.open" && a.GetProperty("organisation").GetString() == "la:209");
        // Staff are not named: no user id of anyone who touched the record.
        Assert.DoesNotContain("user-la:202", body, StringComparison.Ordinal);
        Assert.DoesNotContain("user-la:209", body, StringComparison.Ordinal);

        // The export is itself audited, and its log line carries no identifier.
        var exported = Assert.Single(await api.EventsAsync($"childId={childId}"), e => e.GetProperty("action").GetString() == "child.subject-access-export");
        Assert.Equal("dpo-subject-access", exported.GetProperty("rule").GetString());
        Assert.Equal(["export"], exported.GetProperty("fields").EnumerateArray().Select(f => f.GetString()));
        Assert.DoesNotContain(nhs, api.Logs.All, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task TheSurvivorsExportIncludesWhatWasHeldUnderTheIdsMergedIntoIt()
    {
        var (nhs, upn) = (TestIdentifiers.NewNhs(), TestIdentifiers.NewUpn());
        var a = await Problem.ChildIdAsync(await api.Council202.RegisterAsync(new { nhsNumber = nhs }), HttpStatusCode.Created);
        var b = await Problem.ChildIdAsync(await api.Council202.RegisterAsync(new { upn }), HttpStatusCode.Created);
        var reviewId = (await Problem.AssertAsync(await api.Council209.ResolveAsync(new { nhsNumber = nhs, upn }), HttpStatusCode.Conflict, "identity-conflict"))
            .GetProperty("reviewId").GetString();
        Assert.Equal(HttpStatusCode.Created, (await api.Council202.PostAsJsonAsync($"/v1/children/{b}/objections",
            new { active = true, purposes = new[] { "pep-review" }, reason = "Objection recorded under the merged id" })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await api.Admin.PostAsJsonAsync($"/v1/identity-reviews/{reviewId}/merge", new { survivorChildId = a })).StatusCode);

        var export = JsonDocument.Parse(await OperatorDpo.GetStringAsync(Export(b))).RootElement; // the merged id finds the survivor
        // The objection moved to the survivor, its reason sealed again under the survivor's key.
        Assert.Equal("Objection recorded under the merged id", Assert.Single(export.GetProperty("processingLimits").EnumerateArray()).GetProperty("reason").GetString());
        Assert.Equal(a, export.GetProperty("childId").GetString());
        Assert.Equal(b, Assert.Single(export.GetProperty("registration").GetProperty("merged").EnumerateArray()).GetProperty("childId").GetString());
        var values = export.GetProperty("identifiers").EnumerateArray().Select(i => i.GetProperty("value").GetString()!).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(new[] { nhs, upn }.Order(StringComparer.Ordinal), values);
        // Both registrations are in the access log: the one under the merged id too.
        Assert.Equal(2, export.GetProperty("accessLog").EnumerateArray().Count(e => e.GetProperty("action").GetString() == "child.register"));
    }

    [SkippableFact]
    public async Task OnlyTheOperatorsDpoExportsAndOnlyForSubjectAccess()
    {
        var childId = await Problem.ChildIdAsync(await api.Council202.RegisterAsync(new { nhsNumber = TestIdentifiers.NewNhs() }), HttpStatusCode.Created);
        foreach (var (org, role) in new[] { ("la:202", "dpo"), ("school:100001", "dpo"), ("la:202", "virtual-school"), ("la:202", "social-worker"), ("operator:exchange", "exchange-admin") })
        {
            await Problem.AssertAsync(await api.WithToken(api.Issuer.Token(org, role), "subject-access").GetAsync(Export(childId)), HttpStatusCode.Forbidden, "forbidden");
        }

        await Problem.AssertAsync(await api.WithToken(api.Issuer.Token("operator:exchange", "dpo"), "audit-review").GetAsync(Export(childId)),
            HttpStatusCode.Forbidden, "purpose-not-permitted");
        await Problem.AssertAsync(await OperatorDpo.GetAsync(Export("ch_00000000000000000000000000")), HttpStatusCode.NotFound, "child-not-found");
        await Problem.AssertAsync(await OperatorDpo.GetAsync(Export("9434765919")), HttpStatusCode.NotFound, "child-not-found");

        var denied = (await api.EventsAsync($"childId={childId}&decision=deny")).Count(e => e.GetProperty("action").GetString() == "child.subject-access-export");
        Assert.Equal(6, denied);
    }

    [SkippableFact]
    public async Task AfterErasureTheDpoStillExportsWhatIsHeldWithoutIdentifiers()
    {
        var nhs = TestIdentifiers.NewNhs();
        var childId = await Problem.ChildIdAsync(await api.Council202.RegisterAsync(new { nhsNumber = nhs }), HttpStatusCode.Created);
        Assert.Equal(HttpStatusCode.Created, (await api.Council202.PostAsJsonAsync($"/v1/children/{childId}/objections",
            new { active = true, purposes = new[] { "attendance-monitoring" }, reason = "The young person objects to monitoring" })).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await api.WithToken(api.Issuer.Token("la:209", "social-worker"), "safeguarding").PostAsJsonAsync(
            $"/v1/children/{childId}/break-glass", new { reason = "Reported missing overnight from the placement", durationMinutes = 15 })).StatusCode);
        var erasedAt = (await (await OperatorDpo.PostAsync($"/v1/children/{childId}/erase", null)).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("erasedAt").GetDateTimeOffset();

        var response = await OperatorDpo.GetAsync(Export(childId));
        var body = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var export = JsonDocument.Parse(body).RootElement;
        Assert.Equal(erasedAt, export.GetProperty("erasedAt").GetDateTimeOffset());
        Assert.Empty(export.GetProperty("identifiers").EnumerateArray());
        Assert.DoesNotContain(nhs, body, StringComparison.Ordinal);
        // What the exchange still holds under the pseudonymous id is there; the text sealed under the shredded key is reported erased.
        Assert.Single(export.GetProperty("careEpisodes").EnumerateArray());
        var objection = Assert.Single(export.GetProperty("processingLimits").EnumerateArray());
        Assert.Equal("la:202", objection.GetProperty("recordedBy").GetString());
        Assert.Equal(JsonValueKind.Null, objection.GetProperty("reason").ValueKind);
        Assert.Equal(JsonValueKind.Null, Assert.Single(export.GetProperty("breakGlassGrants").EnumerateArray()).GetProperty("reason").ValueKind);
        Assert.Contains(export.GetProperty("accessLog").EnumerateArray(), a => a.GetProperty("action").GetString() == "child.erase");

        // Only the export: every other route still answers 410 for the erased child, to the DPO as well.
        await Problem.AssertAsync(await api.Council202.GetAsync($"/v1/children/{childId}/consents"), HttpStatusCode.Gone, "child-erased");
        await Problem.AssertAsync(await OperatorDpo.PostAsJsonAsync($"/v1/children/{childId}/objections",
            new { active = false, purposes = new[] { "attendance-monitoring" }, reason = "Withdrawn after the erasure" }), HttpStatusCode.Gone, "child-erased");
        await Problem.AssertAsync(await api.WithToken(api.Issuer.Token("la:202", "dpo"), "subject-access").GetAsync(Export(childId)), HttpStatusCode.Forbidden, "forbidden");
    }
}

public sealed class SqliteSubjectAccessExportTests(ExchangeApiFactory api) : SubjectAccessExportTestsBase<ExchangeApiFactory>(api), IClassFixture<ExchangeApiFactory>;

public sealed class PostgresSubjectAccessExportTests : SubjectAccessExportTestsBase<PostgresApiFactory>, IClassFixture<PostgresApiFactory>
{
    public PostgresSubjectAccessExportTests(PostgresApiFactory api) : base(api) => Postgres.SkipUnlessAvailable();
}
