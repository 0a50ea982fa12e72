using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Exchange.Api.Tests.AuditReview;
using Exchange.Api.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Exchange.Api.Tests.Relationships;

/// <summary>Placements, enrolments, health responsibility and the end of care, recorded by the responsible council as dated facts.</summary>
public abstract class RelationshipsTestsBase<TFactory>(TFactory api) where TFactory : ExchangeApiFactory
{
    /// <summary>When each of the child's relationships (kind, organisation) and care episodes had its end recorded (EndedAt).</summary>
    private async Task<(List<(string Kind, string Organisation, DateTimeOffset? EndedAt)> Relationships, List<DateTimeOffset?> Episodes)> EndsAsync(string childId)
    {
        using var scope = api.Services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<Exchange.Api.Storage.ExchangeDbContext>();
        var relationships = await db.ChildRelationships.AsNoTracking().Where(r => r.ChildId == childId).Select(r => new { r.Kind, r.OrganisationId, r.EndedAt }).ToListAsync();
        var episodes = await db.CareEpisodes.AsNoTracking().Where(e => e.ChildId == childId).Select(e => e.EndedAt).ToListAsync();
        return (relationships.Select(r => (r.Kind, r.OrganisationId, r.EndedAt)).ToList(), episodes);
    }

    private async Task<string> ChildInCamdenAsync() =>
        await Problem.ChildIdAsync(await api.Council202.RegisterAsync(new { nhsNumber = TestIdentifiers.NewNhs() }), HttpStatusCode.Created);

    [SkippableFact]
    public async Task TheResponsibleCouncilRecordsEachRelationshipOnceAndARetryFindsIt()
    {
        var childId = await ChildInCamdenAsync();
        var placement = await api.Council202.PostAsJsonAsync($"/v1/children/{childId}/placements", new { la = "209", startDate = "2025-10-01" });
        Assert.Equal(HttpStatusCode.Created, placement.StatusCode);
        var placed = JsonDocument.Parse(await placement.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("host-council", placed.GetProperty("kind").GetString());
        Assert.Equal("la:209", placed.GetProperty("organisation").GetString());
        var again = await api.Council202.PostAsJsonAsync($"/v1/children/{childId}/placements", new { la = "209", startDate = "2025-10-01" });
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal(placed.GetProperty("id").GetString(), JsonDocument.Parse(await again.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString());

        var enrolment = await api.Council202.PostAsJsonAsync("/v1/enrolments", new { childId, urn = "100002", startDate = "2025-10-02" });
        Assert.Equal(HttpStatusCode.Created, enrolment.StatusCode);
        var enrolmentId = JsonDocument.Parse(await enrolment.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString();
        var health = await api.Council202.PostAsJsonAsync($"/v1/children/{childId}/health-responsibility", new { ods = "ZZ901", startDate = "2025-09-01" });
        Assert.Equal(HttpStatusCode.Created, health.StatusCode);

        var ended = await api.Council202.PostAsJsonAsync($"/v1/enrolments/{enrolmentId}/end", new { endDate = "2026-01-31" });
        Assert.Equal(HttpStatusCode.OK, ended.StatusCode);
        Assert.Equal("2026-01-31", JsonDocument.Parse(await ended.Content.ReadAsStringAsync()).RootElement.GetProperty("endDate").GetString());
        Assert.Equal(HttpStatusCode.OK, (await api.Council202.PostAsJsonAsync($"/v1/enrolments/{enrolmentId}/end", new { endDate = "2026-01-31" })).StatusCode);
        await Problem.AssertAsync(await api.Council202.PostAsJsonAsync($"/v1/enrolments/{enrolmentId}/end", new { endDate = "2026-02-28" }), HttpStatusCode.Conflict, "relationship-ended");

        // A move ends the placement before it. Each end keeps when it was recorded (an incremental cohort pull sees it).
        Assert.Equal(HttpStatusCode.Created, (await api.Council202.PostAsJsonAsync($"/v1/children/{childId}/placements", new { la = "202", startDate = "2026-02-01" })).StatusCode);
        var (relationships, _) = await EndsAsync(childId);
        Assert.NotNull(relationships.Single(r => r.Kind == "enrolled-school").EndedAt);
        Assert.NotNull(relationships.Single(r => r.Organisation == "la:209").EndedAt);
        Assert.Null(relationships.Single(r => r.Organisation == "la:202" && r.Kind == "host-council").EndedAt);

        // Every fact is in the audit log with the child's pseudonymous id.
        var actions = (await api.EventsAsync($"childId={childId}")).Select(e => e.GetProperty("action").GetString()).ToList();
        Assert.Contains("placement.record", actions);
        Assert.Contains("enrolment.record", actions);
        Assert.Contains("health-responsibility.record", actions);
        Assert.Contains("enrolment.end", actions);
    }

    [SkippableFact]
    public async Task EndingTheCareEpisodeEndsTheCouncilsResponsibility()
    {
        var childId = await ChildInCamdenAsync();
        var child = JsonDocument.Parse(await api.Council202.GetStringAsync($"/v1/children/{childId}")).RootElement;
        var episodeId = child.GetProperty("careEpisodes")[0].GetProperty("id").GetString();
        var ended = await api.Council202.PostAsJsonAsync($"/v1/children/{childId}/care-episodes/{episodeId}/end", new { endDate = "2026-03-31" });
        Assert.Equal(HttpStatusCode.OK, ended.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await api.Council202.PostAsJsonAsync($"/v1/children/{childId}/care-episodes/{episodeId}/end", new { endDate = "2026-03-31" })).StatusCode);
        Assert.Equal("2026-03-31", JsonDocument.Parse(await api.Council202.GetStringAsync($"/v1/children/{childId}")).RootElement.GetProperty("careEpisodes")[0].GetProperty("endDate").GetString());
        Assert.NotNull(Assert.Single((await EndsAsync(childId)).Episodes));

        // No longer responsible: the council still keeps its case record, but records no new education facts.
        await Problem.AssertAsync(await api.Council202.PostAsJsonAsync($"/v1/children/{childId}/placements", new { la = "209", startDate = "2026-04-01" }),
            HttpStatusCode.Forbidden, "relationship-not-current");
        Assert.Contains(await api.EventsAsync($"childId={childId}&decision=deny"), e => e.GetProperty("action").GetString() == "placement.record"
            && e.GetProperty("rule").GetString() == "default-deny" && e.GetProperty("status").GetInt32() == 403);
    }

    [SkippableFact]
    public async Task AnotherCouncilOrRoleLearnsNothing()
    {
        var childId = await ChildInCamdenAsync();
        await Problem.AssertAsync(await api.Council209.PostAsJsonAsync($"/v1/children/{childId}/placements", new { la = "209", startDate = "2025-10-01" }), HttpStatusCode.NotFound, "child-not-found");
        await Problem.AssertAsync(await api.Council209.PostAsJsonAsync("/v1/enrolments", new { childId, urn = "100002", startDate = "2025-10-02" }), HttpStatusCode.NotFound, "child-not-found");
        await Problem.AssertAsync(await api.Council209.PostAsJsonAsync($"/v1/children/{childId}/care-episodes/{Guid.NewGuid()}/end", new { endDate = "2026-01-01" }), HttpStatusCode.NotFound, "child-not-found");
        // A school's MIS declares enrolments only for attendance monitoring, and only of a child its roll check found.
        await Problem.AssertAsync(await api.School202.PostAsJsonAsync("/v1/enrolments", new { childId, urn = "100001", startDate = "2025-10-02" }), HttpStatusCode.Forbidden, "purpose-not-permitted");
        await Problem.AssertAsync(await api.WithToken(api.Issuer.Token("school:100001", ["school-mis"]), "attendance-monitoring")
            .PostAsJsonAsync("/v1/enrolments", new { childId, urn = "100001", startDate = "2025-10-02" }), HttpStatusCode.NotFound, "child-not-found");
        await Problem.AssertAsync(await api.Council202.PostAsJsonAsync($"/v1/enrolments/{Guid.NewGuid()}/end", new { endDate = "2026-01-01" }), HttpStatusCode.NotFound, "relationship-not-found");
        Assert.Contains(await api.EventsAsync("decision=deny&org=la:209"), e => e.GetProperty("action").GetString() == "placement.record" && e.GetProperty("status").GetInt32() == 404);
    }

    [SkippableTheory]
    [InlineData("placements", """{"la":"20","startDate":"2025-10-01"}""", "la-number-format")]
    [InlineData("placements", """{"la":"209","startDate":"01/10/2025"}""", "relationship-date")]
    [InlineData("placements", """{"la":"209","startDate":"2099-01-01"}""", "relationship-date")]
    [InlineData("placements", """{"la":"209","startDate":"2025-10-01","endDate":"2025-09-01"}""", "relationship-date")]
    [InlineData("placements", """{"la":"999","startDate":"2025-10-01"}""", "organisation-not-registered")]
    [InlineData("health-responsibility", """{"ods":"zz 901","startDate":"2025-10-01"}""", "ods-format")]
    [InlineData("health-responsibility", """{"ods":"QQ999","startDate":"2025-10-01"}""", "organisation-not-registered")]
    [InlineData("health-responsibility", """{"ods":"ZZ901"}""", "relationship-date")]
    [InlineData("enrolments", """{"urn":"12345","startDate":"2025-10-01"}""", "urn-format")]
    [InlineData("enrolments", """{"urn":"999999","startDate":"2025-10-01"}""", "organisation-not-registered")]
    [InlineData("enrolments", """{"urn":"100001","startDate":"yesterday"}""", "relationship-date")]
    public async Task BadInputGetsAClearErrorAndRecordsNothing(string route, string body, string code)
    {
        var childId = await ChildInCamdenAsync();
        var json = route == "enrolments" ? body.Replace("{", $"{{\"childId\":\"{childId}\",", StringComparison.Ordinal) : body;
        var path = route == "enrolments" ? "/v1/enrolments" : $"/v1/children/{childId}/{route}";
        var status = code == "organisation-not-registered" || code.EndsWith("format", StringComparison.Ordinal) || code == "relationship-date" ? HttpStatusCode.BadRequest : HttpStatusCode.NotFound;
        await Problem.AssertAsync(await api.Council202.PostAsync(path, new StringContent(json, System.Text.Encoding.UTF8, "application/json")), status, code);
        Assert.DoesNotContain(await api.EventsAsync($"childId={childId}"), e => e.GetProperty("decision").GetString() == "permit" && e.GetProperty("status").GetInt32() == 201
            && e.GetProperty("action").GetString() != "child.register");
    }

    [SkippableFact]
    public async Task AnEnrolmentCannotEndBeforeItStarted()
    {
        var childId = await ChildInCamdenAsync();
        var enrolment = await api.Council202.PostAsJsonAsync("/v1/enrolments", new { childId, urn = "100001", startDate = "2025-10-02" });
        var id = JsonDocument.Parse(await enrolment.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString();
        await Problem.AssertAsync(await api.Council202.PostAsJsonAsync($"/v1/enrolments/{id}/end", new { endDate = "2025-09-01" }), HttpStatusCode.BadRequest, "relationship-date");
        await Problem.AssertAsync(await api.Council202.PostAsJsonAsync($"/v1/enrolments/{id}/end", new { endDate = "soon" }), HttpStatusCode.BadRequest, "relationship-date");
    }
}

public sealed class SqliteRelationshipsTests(ExchangeApiFactory api) : RelationshipsTestsBase<ExchangeApiFactory>(api), IClassFixture<ExchangeApiFactory>;

public sealed class PostgresRelationshipsTests : RelationshipsTestsBase<PostgresApiFactory>, IClassFixture<PostgresApiFactory>
{
    public PostgresRelationshipsTests(PostgresApiFactory api) : base(api) => Postgres.SkipUnlessAvailable();
}

/// <summary>The recorded facts, read back for an organisation, drive the policy engine's decisions over time.</summary>
public sealed class RelationshipDecisionTests(ExchangeApiFactory api) : IClassFixture<ExchangeApiFactory>
{
    [Fact]
    public async Task ASchoolMayWriteAttendanceOnlyWhileThePupilIsEnrolled()
    {
        var childId = await Problem.ChildIdAsync(await api.Council202.RegisterAsync(new { nhsNumber = TestIdentifiers.NewNhs() }), HttpStatusCode.Created);
        var enrolment = await api.Council202.PostAsJsonAsync("/v1/enrolments", new { childId, urn = "100001", startDate = "2025-10-02" });
        var id = JsonDocument.Parse(await enrolment.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString();
        Assert.Equal(HttpStatusCode.OK, (await api.Council202.PostAsJsonAsync($"/v1/enrolments/{id}/end", new { endDate = "2026-02-13" })).StatusCode);

        using var scope = api.Services.CreateScope();
        var facts = scope.ServiceProvider.GetRequiredService<Exchange.Api.Policy.IRelationshipFacts>();
        var engine = scope.ServiceProvider.GetRequiredService<Exchange.Api.Policy.PolicyEngine>();
        var school = await facts.ForAsync("school:100001", childId, default);
        var otherSchool = await facts.ForAsync("school:100002", childId, default);
        var council = await facts.ForAsync("la:202", childId, default);

        Exchange.Api.Policy.PolicyDecision Decide(IReadOnlyList<Exchange.Api.Policy.RelationshipFact> held, string role, string category, string on) =>
            engine.Decide(new Exchange.Api.Policy.PolicyRequest([role], "write", category, "attendance-monitoring",
                DateOnly.Parse(on, System.Globalization.CultureInfo.InvariantCulture), held, []));

        Assert.True(Decide(school, "school-mis", "attendance", "2026-01-15").Permit);
        Assert.Equal(Exchange.Api.Policy.DenyReason.OutsideRelationshipDates, Decide(school, "school-mis", "attendance", "2026-02-16").Reason);
        Assert.Equal(Exchange.Api.Policy.DenyReason.OutsideRelationshipDates, Decide(school, "school-mis", "attendance", "2025-09-30").Reason);
        Assert.Equal(Exchange.Api.Policy.DenyReason.NoRelationship, Decide(otherSchool, "school-mis", "attendance", "2026-01-15").Reason);
        Assert.Equal("vs-responsible-education", Decide(council, "virtual-school", "attendance", "2026-01-15").Rule);
    }
}
