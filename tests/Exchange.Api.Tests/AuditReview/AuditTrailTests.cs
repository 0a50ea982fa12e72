using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Exchange.Api.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Exchange.Api.Tests.AuditReview;

/// <summary>What the service records for each request that touches identity data: grants and refusals alike.</summary>
public abstract class AuditTrailTestsBase<TFactory>(TFactory api) where TFactory : ExchangeApiFactory
{
    protected TFactory Api => api;

    [SkippableFact]
    public async Task RegisteringAChildLeavesOnePermitEventNamingItOnlyByItsPseudonymousId()
    {
        var (nhs, upn) = (TestIdentifiers.NewNhs(), TestIdentifiers.NewUpn());
        var childId = await Problem.ChildIdAsync(await api.Council202.RegisterAsync(new { nhsNumber = nhs, upn }), HttpStatusCode.Created);

        var events = await api.EventsAsync($"childId={childId}");
        var registered = Assert.Single(events, e => e.GetProperty("action").GetString() == "child.register");
        Assert.Equal("permit", registered.GetProperty("decision").GetString());
        Assert.Equal(201, registered.GetProperty("status").GetInt32());
        Assert.Equal("identity", registered.GetProperty("category").GetString());
        Assert.Equal("pep-review", registered.GetProperty("purpose").GetString());
        Assert.Equal(["childId"], registered.GetProperty("fields").EnumerateArray().Select(f => f.GetString()));
        // The policy engine's deciding rule and its lawful basis, not placeholders.
        Assert.Equal("council-registers-child", registered.GetProperty("rule").GetString());
        Assert.StartsWith("UK GDPR Art. 6(1)(e)", registered.GetProperty("lawful_basis").GetString(), StringComparison.Ordinal);
        Assert.Equal(api.Services.GetRequiredService<Exchange.Api.Policy.PolicySet>().Hash, registered.GetProperty("policy").GetString());
        Assert.Equal(5, registered.GetProperty("v").GetInt32());
        Assert.False(registered.GetProperty("child_unrecognised").GetBoolean());
        Assert.Equal(JsonValueKind.Null, registered.GetProperty("break_glass").ValueKind);
        var actor = registered.GetProperty("actor");
        Assert.Equal("la:202", actor.GetProperty("org").GetString());
        Assert.Equal(["virtual-school"], actor.GetProperty("roles").EnumerateArray().Select(r => r.GetString()));
        Assert.False(string.IsNullOrEmpty(actor.GetProperty("sub").GetString()));
        Assert.Matches(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$", registered.GetProperty("time").GetString());

        // The exact leaf bytes carry neither the NHS number nor the UPN.
        var leaves = await LeavesAsync();
        Assert.DoesNotContain(leaves, l => l.Contains(nhs, StringComparison.Ordinal) || l.Contains(upn, StringComparison.Ordinal));
    }

    [SkippableFact]
    public async Task ReadingAChildAndResolvingIdentifiersAreRecordedWithTheChildAndTheFieldsReleased()
    {
        var nhs = TestIdentifiers.NewNhs();
        var childId = await Problem.ChildIdAsync(await api.Council202.RegisterAsync(new { nhsNumber = nhs }), HttpStatusCode.Created);
        Assert.Equal(HttpStatusCode.OK, (await api.Council202.GetAsync($"/v1/children/{childId}")).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await api.Council202.PostAsJsonAsync("/v1/enrolments", new { childId, urn = "100001", startDate = "2025-09-01" })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await api.School202.ResolveAsync(new { nhsNumber = nhs })).StatusCode);

        var events = await api.EventsAsync($"childId={childId}");
        var read = Assert.Single(events, e => e.GetProperty("action").GetString() == "child.read");
        Assert.Equal(["careEpisodes", "childId"], read.GetProperty("fields").EnumerateArray().Select(f => f.GetString()));
        var resolved = Assert.Single(events, e => e.GetProperty("action").GetString() == "identity.resolve");
        Assert.Equal("school:100001", resolved.GetProperty("actor").GetProperty("org").GetString());
        Assert.Equal("permit", resolved.GetProperty("decision").GetString());
    }

    [SkippableFact]
    public async Task RefusedRequestsLeaveDenyEvents()
    {
        // A school may not register children (403), a missing token is refused (401), an unknown purpose is refused (400).
        var nhs = TestIdentifiers.NewNhs();
        await Problem.AssertAsync(await api.School202.RegisterAsync(new { nhsNumber = nhs }), HttpStatusCode.Forbidden, "forbidden");
        var anonymous = api.WithToken(null);
        await Problem.AssertAsync(await anonymous.GetAsync("/v1/children/ch_0000000000000000000000000a"), HttpStatusCode.Unauthorized, "unauthenticated");
        var noPurpose = api.WithToken(api.Issuer.Token("la:209", "virtual-school"), purpose: null);
        await Problem.AssertAsync(await noPurpose.ResolveAsync(new { nhsNumber = nhs }), HttpStatusCode.BadRequest, "purpose-of-use-missing");

        // A body that is not JSON fails in model binding: still a refusal (400), not a service error.
        var malformed = api.WithToken(api.Issuer.Token("la:209", "virtual-school", "social-worker"));
        await Problem.AssertAsync(await malformed.PostAsync("/v1/identities/resolve", new StringContent("{not json", Encoding.UTF8, "application/json")), HttpStatusCode.BadRequest, "malformed-json");

        var denied = await api.EventsAsync("decision=deny");
        Assert.Contains(denied, e => e.GetProperty("action").GetString() == "identity.resolve" && e.GetProperty("status").GetInt32() == 400
            && e.GetProperty("actor").GetProperty("roles").GetArrayLength() == 2);
        Assert.Contains(denied, e => e.GetProperty("action").GetString() == "child.register" && e.GetProperty("status").GetInt32() == 403
            && e.GetProperty("actor").GetProperty("org").GetString() == "school:100001" && e.GetProperty("fields").GetArrayLength() == 0);
        Assert.Contains(denied, e => e.GetProperty("action").GetString() == "child.read" && e.GetProperty("status").GetInt32() == 401
            && e.GetProperty("actor").GetProperty("sub").ValueKind == JsonValueKind.Null
            && e.GetProperty("child_id").ValueKind == JsonValueKind.Null && e.GetProperty("child_unrecognised").GetBoolean());
        Assert.Contains(denied, e => e.GetProperty("action").GetString() == "identity.resolve" && e.GetProperty("status").GetInt32() == 400
            && e.GetProperty("actor").GetProperty("org").GetString() == "la:209" && e.GetProperty("actor").GetProperty("roles").GetArrayLength() == 1
            && e.GetProperty("purpose").ValueKind == JsonValueKind.Null);

        // Refused before or by the policy alike: nothing permitted it, and nothing was processed under a lawful basis.
        Assert.All(denied, e =>
        {
            Assert.Equal("default-deny", e.GetProperty("rule").GetString());
            Assert.Equal(JsonValueKind.Null, e.GetProperty("lawful_basis").ValueKind);
        });
    }

    [SkippableFact]
    public async Task TheLogRecordsTheServersRequestIdNeverTheCallersCorrelationId()
    {
        var client = api.Council202;
        client.DefaultRequestHeaders.Add("X-Correlation-Id", "caller-chosen-trace-0001");
        var response = await client.RegisterAsync(new { nhsNumber = TestIdentifiers.NewNhs() });
        var childId = await Problem.ChildIdAsync(response, HttpStatusCode.Created);
        Assert.Equal("caller-chosen-trace-0001", response.Headers.GetValues("X-Correlation-Id").Single());

        var registered = Assert.Single(await api.EventsAsync($"childId={childId}"));
        Assert.Matches("^[0-9a-f]{32}$", registered.GetProperty("request_id").GetString());
        Assert.DoesNotContain(await LeavesAsync(), l => l.Contains("caller-chosen", StringComparison.Ordinal));
    }

    [SkippableFact]
    public async Task RoutesWithoutPersonalDataAreNotAudited()
    {
        var before = await SizeAsync();
        Assert.Equal(HttpStatusCode.OK, (await api.Admin.GetAsync("/v1/organisations")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await api.CreateClient().GetAsync("/health/live")).StatusCode);
        // Only the DPO's own size query (one event each) moved the log.
        Assert.Equal(before + 1, await SizeAsync());
    }

    [SkippableFact]
    public async Task TheDposOwnUseOfTheLogIsAuditedToo()
    {
        Assert.Equal(HttpStatusCode.OK, (await api.DpoOf().GetAsync("/v1/audit/verifier-key")).StatusCode);
        var events = await api.EventsAsync("org=operator:exchange&purpose=audit-review");
        Assert.Contains(events, e => e.GetProperty("action").GetString() == "audit.verifier-key" && e.GetProperty("decision").GetString() == "permit");
        // The search that found it is there too (recorded before its answer was released).
        Assert.Contains(await api.EventsAsync("org=operator:exchange"), e => e.GetProperty("action").GetString() == "audit.events.search");
    }

    private async Task<long> SizeAsync()
    {
        var note = await (await api.DpoOf().GetAsync("/v1/audit/checkpoint")).Content.ReadAsStringAsync();
        return long.Parse(note.Split('\n')[1], System.Globalization.CultureInfo.InvariantCulture);
    }

    private async Task<List<string>> LeavesAsync()
    {
        var size = await SizeAsync();
        var leaves = new List<string>();
        for (long start = 0; start < size; start += 1000)
        {
            var body = await (await api.DpoOf().GetAsync($"/v1/audit/entries?start={start}&end={Math.Min(size, start + 1000)}")).Content.ReadAsStringAsync();
            leaves.AddRange(JsonDocument.Parse(body).RootElement.GetProperty("entries").EnumerateArray()
                .Select(e => Encoding.UTF8.GetString(Convert.FromBase64String(e.GetProperty("leaf").GetString()!))));
        }

        return leaves;
    }
}

public sealed class SqliteAuditTrailTests(ExchangeApiFactory api) : AuditTrailTestsBase<ExchangeApiFactory>(api), IClassFixture<ExchangeApiFactory>;

public sealed class PostgresAuditTrailTests : AuditTrailTestsBase<PostgresApiFactory>, IClassFixture<PostgresApiFactory>
{
    public PostgresAuditTrailTests(PostgresApiFactory api) : base(api) => Postgres.SkipUnlessAvailable();
}
