using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Exchange.Api.Auditing;
using Exchange.Api.Tests.AuditReview;
using Exchange.Api.Tests.Infrastructure;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Exchange.Api.Tests.Policy;

/// <summary>
/// OWASP API1 (object level), API3 (property level) and API5 (function level) authorization, over the running API:
/// every route that takes a child, called by each role from an organisation with no relationship to the child,
/// is refused (404, or 403 where nothing about the child is revealed) and leaves a deny event; the admin and DPO
/// routes refuse every other role.
/// </summary>
public abstract class AccessMatrixTestsBase<TFactory>(TFactory api) where TFactory : ExchangeApiFactory
{
    /// <summary>Each role, in an organisation of its kind that has no relationship to the child.</summary>
    public static readonly (string Org, string Role)[] Unrelated =
    [
        ("la:209", "virtual-school"), ("la:209", "social-worker"), ("la:209", "dpo"),
        ("school:100002", "school-mis"), ("school:100002", "designated-teacher"), ("school:100002", "dpo"),
        ("health:ZZ901", "lac-nurse"), ("health:ZZ901", "dpo"),
        ("operator:exchange", "exchange-admin"),
    ];

    private sealed record Call(string Method, string Path, string? Body);

    [SkippableFact]
    public async Task EveryChildRouteRefusesEveryRoleOfAnUnrelatedOrganisationAndAuditsTheDenial()
    {
        // A child of Camden (la:202), placed in Camden's own area, at Camden's school, with a consent on record.
        var childId = await Problem.ChildIdAsync(await api.Council202.RegisterAsync(new { nhsNumber = TestIdentifiers.NewNhs() }), HttpStatusCode.Created);
        var child = JsonDocument.Parse(await api.Council202.GetStringAsync($"/v1/children/{childId}")).RootElement;
        var episodeId = child.GetProperty("careEpisodes")[0].GetProperty("id").GetString();
        Assert.Equal(HttpStatusCode.Created, (await api.Council202.PostAsJsonAsync($"/v1/children/{childId}/placements", new { la = "202", startDate = "2025-10-01" })).StatusCode);
        var enrolment = await api.Council202.PostAsJsonAsync("/v1/enrolments", new { childId, urn = "100001", startDate = "2025-10-02" });
        var enrolmentId = JsonDocument.Parse(await enrolment.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString();
        var consent = await api.Council202.PostAsJsonAsync($"/v1/children/{childId}/consents", new
        {
            givenBy = "young-person", categories = new[] { "pep" }, recipients = new[] { "school:100001" }, purposes = new[] { "pep-review" }, from = "2025-10-01",
        });
        var consentId = JsonDocument.Parse(await consent.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString();

        var calls = new Dictionary<string, Call>(StringComparer.Ordinal)
        {
            ["GET /v1/children/{childId}"] = new("GET", $"/v1/children/{childId}", null),
            ["POST /v1/children/{childId}/erase"] = new("POST", $"/v1/children/{childId}/erase", null),
            ["POST /v1/children/{childId}/placements"] = new("POST", $"/v1/children/{childId}/placements", """{"la":"209","startDate":"2025-10-01"}"""),
            ["POST /v1/children/{childId}/health-responsibility"] = new("POST", $"/v1/children/{childId}/health-responsibility", """{"ods":"ZZ901","startDate":"2025-10-01"}"""),
            ["POST /v1/children/{childId}/care-episodes/{episodeId}/end"] = new("POST", $"/v1/children/{childId}/care-episodes/{episodeId}/end", """{"endDate":"2026-01-01"}"""),
            ["POST /v1/enrolments/"] = new("POST", "/v1/enrolments", $$"""{"childId":"{{childId}}","urn":"100002","startDate":"2025-10-02"}"""),
            ["POST /v1/enrolments/{enrolmentId}/end"] = new("POST", $"/v1/enrolments/{enrolmentId}/end", """{"endDate":"2026-01-01"}"""),
            ["GET /v1/children/{childId}/placements"] = new("GET", $"/v1/children/{childId}/placements", null),
            ["GET /v1/children/{childId}/enrolments"] = new("GET", $"/v1/children/{childId}/enrolments", null),
            ["GET /v1/children/{childId}/attendance"] = new("GET", $"/v1/children/{childId}/attendance", null),
            ["GET /v1/children/{childId}/attendance/summary"] = new("GET", $"/v1/children/{childId}/attendance/summary", null),
            ["POST /v1/children/{childId}/exclusions/"] = new("POST", $"/v1/children/{childId}/exclusions",
                """{"type":"suspension","startDate":"2025-11-03","sessions":2,"reasonCode":"DB"}"""),
            ["GET /v1/children/{childId}/exclusions/"] = new("GET", $"/v1/children/{childId}/exclusions", null),
            ["GET /v1/children/{childId}/pep/"] = new("GET", $"/v1/children/{childId}/pep", null),
            ["PUT /v1/children/{childId}/pep/"] = new("PUT", $"/v1/children/{childId}/pep", """{"meetingDate":"2025-11-03","pupilVoice":"Taken over"}"""),
            ["GET /v1/children/{childId}/pep/versions"] = new("GET", $"/v1/children/{childId}/pep/versions", null),
            ["GET /v1/children/{childId}/pep/versions/{version:int}"] = new("GET", $"/v1/children/{childId}/pep/versions/1", null),
            ["POST /v1/children/{childId}/pep/submit"] = new("POST", $"/v1/children/{childId}/pep/submit", null),
            ["POST /v1/children/{childId}/pep/return"] = new("POST", $"/v1/children/{childId}/pep/return", """{"reason":"Not good enough"}"""),
            ["POST /v1/children/{childId}/pep/approve"] = new("POST", $"/v1/children/{childId}/pep/approve", """{"quality":"green"}"""),
            ["GET /v1/children/{childId}/placement-notice"] = new("GET", $"/v1/children/{childId}/placement-notice", null),
            ["POST /v1/children/{childId}/consents/"] = new("POST", $"/v1/children/{childId}/consents",
                """{"givenBy":"young-person","categories":["pep"],"recipients":["school:100002"],"purposes":["pep-review"],"from":"2025-10-01"}"""),
            ["GET /v1/children/{childId}/consents/"] = new("GET", $"/v1/children/{childId}/consents", null),
            ["POST /v1/children/{childId}/consents/{consentId}/withdraw"] = new("POST", $"/v1/children/{childId}/consents/{consentId}/withdraw", null),
            ["POST /v1/children/{childId}/restriction"] = new("POST", $"/v1/children/{childId}/restriction", """{"active":true,"purposes":["safeguarding"],"reason":"Accuracy is contested"}"""),
            ["POST /v1/children/{childId}/objections"] = new("POST", $"/v1/children/{childId}/objections", """{"active":true,"purposes":["pep-review"],"reason":"The young person objects"}"""),
            ["POST /v1/children/{childId}/handovers/"] = new("POST", $"/v1/children/{childId}/handovers", """{"to":"la:209","categories":["placement"]}"""),
            ["GET /v1/children/{childId}/handovers/"] = new("GET", $"/v1/children/{childId}/handovers", null),
            ["POST /v1/children/{childId}/handovers/{handoverId}/revoke"] = new("POST", $"/v1/children/{childId}/handovers/{Guid.NewGuid()}/revoke", null),
            // Only the operator's DPO, who is not in the list of unrelated callers, exports.
            ["GET /v1/children/{childId}/subject-access-export"] = new("GET", $"/v1/children/{childId}/subject-access-export", null),
        };

        // Break-glass is by design the one way in without a relationship; BreakGlassTests checks who it refuses.
        var excluded = new HashSet<string>(StringComparer.Ordinal) { "POST /v1/children/{childId}/break-glass" };
        var childRoutes = ChildRoutes().Except(excluded).ToList();
        Assert.True(childRoutes.All(calls.ContainsKey), "child routes without a matrix call: " + string.Join(", ", childRoutes.Where(r => !calls.ContainsKey(r))));

        var refusals = new List<string>();
        foreach (var (org, role) in Unrelated)
        {
            foreach (var purpose in new[] { "safeguarding", "pep-review", "subject-access" })
            {
                var client = api.WithToken(api.Issuer.Token(org, [role]), purpose);
                foreach (var (route, call) in calls)
                {
                    var response = await client.SendAsync(new HttpRequestMessage(new HttpMethod(call.Method), call.Path)
                    {
                        Content = call.Body is null ? null : new StringContent(call.Body, Encoding.UTF8, "application/json"),
                    });
                    var body = await response.Content.ReadAsStringAsync();
                    Assert.True(response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Forbidden,
                        $"{role}@{org} ({purpose}) {route}: {(int)response.StatusCode} {body}");
                    Assert.DoesNotContain("careEpisodes", body, StringComparison.Ordinal);
                    refusals.Add($"{org}|{role}|{route}|{(int)response.StatusCode}");
                }
            }
        }

        // Each refusal left a deny event naming the caller, the child and the status it was given.
        foreach (var (org, _) in Unrelated.DistinctBy(u => u.Org))
        {
            var denials = await AllEventsAsync($"decision=deny&org={org}&childId={childId}");
            var expected = refusals.Where(r => r.StartsWith(org + "|", StringComparison.Ordinal)).ToList();
            Assert.True(denials.Count >= expected.Count, $"{org}: {denials.Count} deny events for {expected.Count} refusals");
            Assert.All(denials, e => Assert.Equal("default-deny", e.GetProperty("rule").GetString()));
        }

        // Nothing was changed for the child: no permit event from anyone but Camden.
        Assert.DoesNotContain(await AllEventsAsync($"childId={childId}&decision=permit"), e => e.GetProperty("actor").GetProperty("org").GetString() != "la:202");
    }

    [SkippableFact]
    public async Task TheCohortOfEveryUnrelatedOrganisationLeavesOutTheChild()
    {
        // A child of Camden (la:202), placed in and at school in Lewisham's area (la:209): the host council and the
        // school know of it, and still its cohort row is Camden's alone.
        var childId = await Problem.ChildIdAsync(await api.Council202.RegisterAsync(new { nhsNumber = TestIdentifiers.NewNhs() }), HttpStatusCode.Created);
        Assert.Equal(HttpStatusCode.Created, (await api.Council202.PostAsJsonAsync($"/v1/children/{childId}/placements", new { la = "209", startDate = "2025-10-01" })).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await api.Council202.PostAsJsonAsync("/v1/enrolments", new { childId, urn = "100002", startDate = "2025-10-02" })).StatusCode);
        Assert.Contains(childId, await api.Council202.GetStringAsync("/v1/cohort?limit=5000"), StringComparison.Ordinal);
        foreach (var (org, role) in Unrelated)
        {
            foreach (var purpose in new[] { "safeguarding", "pep-review", "attendance-monitoring" })
            {
                var response = await api.WithToken(api.Issuer.Token(org, [role]), purpose).GetAsync("/v1/cohort?limit=5000");
                var body = await response.Content.ReadAsStringAsync();
                // Only another council's own virtual school or social worker has a cohort at all, and it is its own.
                Assert.True(response.StatusCode == HttpStatusCode.Forbidden || (response.StatusCode == HttpStatusCode.OK && org.StartsWith("la:", StringComparison.Ordinal)
                    && role is "virtual-school" or "social-worker"), $"{role}@{org} ({purpose}) /v1/cohort: {(int)response.StatusCode} {body}");
                Assert.DoesNotContain(childId, body, StringComparison.Ordinal);
            }
        }

        Assert.DoesNotContain(await AllEventsAsync($"childId={childId}&decision=permit"), e => e.GetProperty("actor").GetProperty("org").GetString() != "la:202");
    }

    [SkippableFact]
    public async Task AfterErasureEvenTheResponsibleCouncilGetsOnlyGone()
    {
        var childId = await Problem.ChildIdAsync(await api.Council202.RegisterAsync(new { nhsNumber = TestIdentifiers.NewNhs() }), HttpStatusCode.Created);
        Assert.Equal(HttpStatusCode.Created, (await api.Council202.PostAsJsonAsync($"/v1/children/{childId}/placements", new { la = "209", startDate = "2025-10-01" })).StatusCode);
        var dpo = api.WithToken(api.Issuer.Token("operator:exchange", "dpo"), "subject-access");
        Assert.Equal(HttpStatusCode.OK, (await dpo.PostAsync($"/v1/children/{childId}/erase", null)).StatusCode);

        foreach (var path in new[] { "placements", "enrolments", "consents" })
        {
            await Problem.AssertAsync(await api.Council202.GetAsync($"/v1/children/{childId}/{path}"), HttpStatusCode.Gone, "child-erased");
        }

        await Problem.AssertAsync(await api.WithToken(api.Issuer.Token("la:209", "virtual-school"), "safeguarding").GetAsync($"/v1/children/{childId}/placement-notice"), HttpStatusCode.Gone, "child-erased");
        await Problem.AssertAsync(await api.Council202.PostAsJsonAsync($"/v1/children/{childId}/placements", new { la = "209", startDate = "2025-11-01" }), HttpStatusCode.Gone, "child-erased");
        // Unrelated callers still learn nothing, not even that the child was erased.
        await Problem.AssertAsync(await api.ClientFor("school:100002", "school-mis").GetAsync($"/v1/children/{childId}/placements"), HttpStatusCode.Forbidden, "forbidden");
        await Problem.AssertAsync(await api.Council209.GetAsync($"/v1/children/{childId}/enrolments"), HttpStatusCode.NotFound, "child-not-found");
    }

    [SkippableFact]
    public async Task AdminAndDpoRoutesRefuseEveryOtherRole()
    {
        string[] adminRoutes = ["/v1/organisations", "/v1/identity-reviews", "/v1/admin/keys"];
        string[] dpoRoutes = ["/v1/audit/events", "/v1/audit/checkpoint", "/v1/audit/alerts", "/v1/audit/export"];
        foreach (var (org, role) in Unrelated.Append(("la:202", "virtual-school")).Append(("operator:exchange", "dpo")))
        {
            foreach (var route in adminRoutes.Where(_ => role != "exchange-admin"))
            {
                var response = await api.WithToken(api.Issuer.Token(org, [role]), "safeguarding").GetAsync(route);
                Assert.True(response.StatusCode is HttpStatusCode.Forbidden or HttpStatusCode.NotFound, $"{role}@{org} {route}: {(int)response.StatusCode}");
            }

            foreach (var route in dpoRoutes.Where(_ => role != "dpo"))
            {
                await Problem.AssertAsync(await api.WithToken(api.Issuer.Token(org, [role]), "audit-review").GetAsync(route), HttpStatusCode.Forbidden, "forbidden");
            }
        }

        Assert.Contains(await api.EventsAsync("decision=deny&org=la:209"), e => e.GetProperty("action").GetString() == "audit.events.search"
            && e.GetProperty("status").GetInt32() == 403 && e.GetProperty("rule").GetString() == "default-deny");
    }

    private IEnumerable<string> ChildRoutes() =>
        api.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.Metadata.GetMetadata<AuditedEndpoint>() is not null)
            .Where(e => e.RoutePattern.RawText!.Contains("{childId}", StringComparison.Ordinal) || e.RoutePattern.RawText.StartsWith("/v1/enrolments", StringComparison.Ordinal))
            .SelectMany(e => (e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? []).Select(m => $"{m} {e.RoutePattern.RawText}"))
            .Distinct();

    private async Task<List<JsonElement>> AllEventsAsync(string query)
    {
        var events = new List<JsonElement>();
        string? cursor = null;
        do
        {
            var response = await api.DpoOf().GetAsync($"/v1/audit/events?limit=200&{query}" + (cursor is null ? "" : "&cursor=" + cursor));
            var page = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
            events.AddRange(page.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("event").Clone()));
            cursor = page.TryGetProperty("nextCursor", out var next) && next.ValueKind == JsonValueKind.String ? next.GetString() : null;
        }
        while (cursor is not null);
        return events;
    }
}

public sealed class SqliteAccessMatrixTests(ExchangeApiFactory api) : AccessMatrixTestsBase<ExchangeApiFactory>(api), IClassFixture<ExchangeApiFactory>;

public sealed class PostgresAccessMatrixTests : AccessMatrixTestsBase<PostgresApiFactory>, IClassFixture<PostgresApiFactory>
{
    public PostgresAccessMatrixTests(PostgresApiFactory api) : base(api) => Postgres.SkipUnlessAvailable();
}
