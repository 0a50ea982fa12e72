using System.Net;
using System.Net.Http.Json;
using Exchange.Api.Policy;
using Exchange.Api.Tests.AuditReview;
using Exchange.Api.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Exchange.Api.Tests.Consents;

/// <summary>Restriction (Art. 18) and objection (Art. 21) recorded by the responsible council take effect on the next decision.</summary>
public abstract class ProcessingLimitTestsBase<TFactory>(TFactory api) where TFactory : ExchangeApiFactory
{
    [SkippableFact]
    public async Task RestrictionOnThenOffAndAnObjectionChangeTheNextDecision()
    {
        var childId = await Problem.ChildIdAsync(await api.Council202.RegisterAsync(new { nhsNumber = TestIdentifiers.NewNhs() }), HttpStatusCode.Created);
        Assert.True((await DecideAsync(childId, "attendance-monitoring")).Permit);

        Assert.Equal(HttpStatusCode.Created, (await api.Council202.PostAsJsonAsync($"/v1/children/{childId}/restriction",
            new { active = true, purposes = new[] { "safeguarding" }, reason = "The accuracy of the record is contested" })).StatusCode);
        Assert.Equal(DenyReason.Restricted, (await DecideAsync(childId, "attendance-monitoring")).Reason);
        Assert.True((await DecideAsync(childId, "safeguarding")).Permit);

        Assert.Equal(HttpStatusCode.Created, (await api.Council202.PostAsJsonAsync($"/v1/children/{childId}/restriction",
            new { active = false, purposes = Array.Empty<string>(), reason = "Accuracy confirmed with the family", dataSubjectInformedOn = Today })).StatusCode);
        Assert.True((await DecideAsync(childId, "attendance-monitoring")).Permit);

        Assert.Equal(HttpStatusCode.Created, (await api.Council202.PostAsJsonAsync($"/v1/children/{childId}/objections",
            new { active = true, purposes = new[] { "attendance-monitoring" }, reason = "The young person objects to monitoring" })).StatusCode);
        Assert.Equal(DenyReason.Restricted, (await DecideAsync(childId, "attendance-monitoring")).Reason);
        Assert.True((await DecideAsync(childId, "safeguarding")).Permit);
        Assert.Equal(HttpStatusCode.Created, (await api.Council202.PostAsJsonAsync($"/v1/children/{childId}/objections",
            new { active = false, purposes = new[] { "attendance-monitoring" }, reason = "Objection withdrawn in writing" })).StatusCode);
        Assert.True((await DecideAsync(childId, "attendance-monitoring")).Permit);

        var actions = (await api.EventsAsync($"childId={childId}")).Select(e => e.GetProperty("action").GetString()).ToList();
        Assert.Equal(2, actions.Count(a => a == "restriction.record"));
        Assert.Equal(2, actions.Count(a => a == "objection.record"));
    }

    [SkippableTheory]
    [InlineData("""{"purposes":["safeguarding"],"reason":"A reason long enough"}""")]
    [InlineData("""{"active":true,"purposes":["gossip"],"reason":"A reason long enough"}""")]
    [InlineData("""{"active":true,"purposes":["safeguarding"],"reason":"short"}""")]
    [InlineData("""{"active":true,"reason":"A reason long enough"}""")]
    public async Task AnInvalidRestrictionIsRefused(string body)
    {
        var childId = await Problem.ChildIdAsync(await api.Council202.RegisterAsync(new { nhsNumber = TestIdentifiers.NewNhs() }), HttpStatusCode.Created);
        foreach (var route in new[] { "restriction", "objections" })
        {
            await Problem.AssertAsync(await api.Council202.PostAsync($"/v1/children/{childId}/{route}", new StringContent(body, System.Text.Encoding.UTF8, "application/json")), HttpStatusCode.BadRequest, "processing-limit-invalid");
        }

        Assert.True((await DecideAsync(childId, "attendance-monitoring")).Permit);
        await Problem.AssertAsync(await api.Council209.PostAsJsonAsync($"/v1/children/{childId}/restriction",
            new { active = true, purposes = new[] { "safeguarding" }, reason = "Another council has no say here" }), HttpStatusCode.NotFound, "child-not-found");
    }

    [SkippableFact]
    public async Task ARestrictedChildIsNotResolvedForAPurposeTheRestrictionDoesNotAllow()
    {
        var nhs = TestIdentifiers.NewNhs();
        var childId = await Problem.ChildIdAsync(await api.Council202.RegisterAsync(new { nhsNumber = nhs }), HttpStatusCode.Created);
        Assert.Equal(HttpStatusCode.Created, (await api.Council202.PostAsJsonAsync("/v1/enrolments", new { childId, urn = "100001", startDate = "2025-09-01" })).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await api.Council202.PostAsJsonAsync($"/v1/children/{childId}/restriction",
            new { active = true, purposes = new[] { "safeguarding" }, reason = "The accuracy of the record is contested" })).StatusCode);

        // The child's school, for PEP review: answered as for an unknown child, and the pseudonymous id is withheld.
        var refused = await Problem.AssertAsync(await api.School202.ResolveAsync(new { nhsNumber = nhs }), HttpStatusCode.NotFound, "child-not-found");
        Assert.DoesNotContain(childId, refused.ToString(), StringComparison.Ordinal);
        var safeguarding = api.WithToken(api.Issuer.Token("school:100001", "school-mis"), "safeguarding");
        Assert.Equal(childId, await Problem.ChildIdAsync(await safeguarding.ResolveAsync(new { nhsNumber = nhs }), HttpStatusCode.OK));

        // The refused resolution names no child: the school's own DPO reads its events, and they must not tell it the
        // identifier matched.
        var denied = (await api.EventsAsync($"childId={childId}&decision=deny")).Select(e => (Action: e.GetProperty("action").GetString(), Rule: e.GetProperty("rule").GetString())).ToList();
        Assert.DoesNotContain(denied, d => d.Action == "identity.resolve");

        // Lifting the restriction lets the next request through.
        Assert.Equal(HttpStatusCode.Created, (await api.Council202.PostAsJsonAsync($"/v1/children/{childId}/restriction",
            new { active = false, purposes = Array.Empty<string>(), reason = "Accuracy confirmed with the family", dataSubjectInformedOn = Today })).StatusCode);
        Assert.Equal(childId, await Problem.ChildIdAsync(await api.School202.ResolveAsync(new { nhsNumber = nhs }), HttpStatusCode.OK));
    }

    /// <summary>
    /// Registration is decided as the council about to be responsible, and a restriction limits processing while
    /// Art. 18(1) still allows storage: the responsible council re-registering its restricted child with a new
    /// identifier stores it (and a council that was never responsible is not told of the restriction: review finding F3).
    /// </summary>
    [SkippableFact]
    public async Task ARestrictedChildsCouncilRegisteringItAgainStoresTheNewIdentifier()
    {
        var nhs = TestIdentifiers.NewNhs();
        var childId = await Problem.ChildIdAsync(await api.Council202.RegisterAsync(new { nhsNumber = nhs }), HttpStatusCode.Created);
        Assert.Equal(HttpStatusCode.Created, (await api.Council202.PostAsJsonAsync($"/v1/children/{childId}/restriction",
            new { active = true, purposes = new[] { "safeguarding" }, reason = "The accuracy of the record is contested" })).StatusCode);

        var upn = TestIdentifiers.NewUpn();
        Assert.Equal(childId, await Problem.ChildIdAsync(await api.Council202.RegisterAsync(new { nhsNumber = nhs, upn }), HttpStatusCode.OK));
        var safeguarding = api.WithToken(api.Issuer.Token("la:202", "virtual-school"), "safeguarding");
        Assert.Equal(childId, await Problem.ChildIdAsync(await safeguarding.ResolveAsync(new { upn }), HttpStatusCode.OK));
        Assert.Contains(await api.EventsAsync($"childId={childId}&decision=permit"),
            e => e.GetProperty("action").GetString() == "child.register" && e.GetProperty("rule").GetString() == "council-registers-child" && e.GetProperty("status").GetInt32() == 200);
    }

    [SkippableFact]
    public async Task AfterItsEpisodeEndsAFormerCouncilReadsTheRightsOnRecordButChangesNothing()
    {
        var childId = await Problem.ChildIdAsync(await api.Council202.RegisterAsync(new { nhsNumber = TestIdentifiers.NewNhs() }, "2024-09-01"), HttpStatusCode.Created);
        Assert.Equal(HttpStatusCode.Created, (await api.Council202.PostAsJsonAsync($"/v1/children/{childId}/consents",
            new { givenBy = "young-person", categories = new[] { "pep" }, recipients = new[] { "school:100001" }, purposes = new[] { "pep-review" }, from = "2025-01-01" })).StatusCode);
        var episodeId = (await api.Council202.GetFromJsonAsync<System.Text.Json.JsonElement>($"/v1/children/{childId}")).GetProperty("careEpisodes")[0].GetProperty("id").GetString();
        Assert.Equal(HttpStatusCode.OK, (await api.Council202.PostAsJsonAsync($"/v1/children/{childId}/care-episodes/{episodeId}/end", new { endDate = "2025-03-31" })).StatusCode);

        // The policy alone decides (no handler re-checks the council): council-rights-record lets the former
        // council read what is on record; changing it, naming a health body (which would open health data to it)
        // or recording education data need the episode.
        var consents = await api.Council202.GetFromJsonAsync<System.Text.Json.JsonElement>($"/v1/children/{childId}/consents");
        Assert.Equal(1, consents.GetArrayLength());
        await Problem.AssertAsync(await api.Council202.PostAsJsonAsync($"/v1/children/{childId}/objections",
            new { active = false, purposes = new[] { "attendance-monitoring" }, reason = "Lifting what the new council decided" }), HttpStatusCode.Forbidden, "relationship-not-current");
        await Problem.AssertAsync(await api.Council202.PostAsync($"/v1/children/{childId}/consents/{consents[0].GetProperty("id").GetString()}/withdraw", null),
            HttpStatusCode.Forbidden, "relationship-not-current");
        await Problem.AssertAsync(await api.Council202.PostAsJsonAsync($"/v1/children/{childId}/health-responsibility", new { ods = "ZZ901", startDate = "2025-04-01" }),
            HttpStatusCode.Forbidden, "relationship-not-current");
        await Problem.AssertAsync(await api.Council202.PostAsJsonAsync($"/v1/children/{childId}/placements", new { la = "209", startDate = "2025-02-01" }),
            HttpStatusCode.Forbidden, "relationship-not-current");
    }

    [SkippableFact]
    public async Task TheOperatorsDpoRecordsACareLeaversObjectionWhenNoCouncilIsResponsible()
    {
        var childId = await Problem.ChildIdAsync(await api.Council202.RegisterAsync(new { nhsNumber = TestIdentifiers.NewNhs() }, "2024-09-01"), HttpStatusCode.Created);
        var episodeId = (await api.Council202.GetFromJsonAsync<System.Text.Json.JsonElement>($"/v1/children/{childId}")).GetProperty("careEpisodes")[0].GetProperty("id").GetString();
        Assert.Equal(HttpStatusCode.OK, (await api.Council202.PostAsJsonAsync($"/v1/children/{childId}/care-episodes/{episodeId}/end", new { endDate = "2025-03-31" })).StatusCode);
        var objection = new { active = true, purposes = new[] { "attendance-monitoring" }, reason = "The care leaver objects to monitoring" };

        var dpo = api.WithToken(api.Issuer.Token("operator:exchange", "dpo"), "subject-access");
        Assert.Equal(HttpStatusCode.Created, (await dpo.PostAsJsonAsync($"/v1/children/{childId}/objections", objection)).StatusCode);
        Assert.Equal(DenyReason.Restricted, (await DecideAsync(childId, "attendance-monitoring")).Reason);

        // Only the operator's DPO, only for subject access, and only for a child that exists.
        await Problem.AssertAsync(await api.WithToken(api.Issuer.Token("la:202", "dpo"), "subject-access").PostAsJsonAsync($"/v1/children/{childId}/objections", objection),
            HttpStatusCode.Forbidden, "forbidden");
        await Problem.AssertAsync(await api.WithToken(api.Issuer.Token("operator:exchange", "dpo"), "audit-review").PostAsJsonAsync($"/v1/children/{childId}/objections", objection),
            HttpStatusCode.Forbidden, "purpose-not-permitted");
        await Problem.AssertAsync(await dpo.PostAsJsonAsync("/v1/children/ch_00000000000000000000000000/objections", objection), HttpStatusCode.NotFound, "child-not-found");
        var recorded = Assert.Single(await api.EventsAsync($"childId={childId}&decision=permit"), e => e.GetProperty("action").GetString() == "objection.record");
        Assert.Equal("operator-dpo-restriction-and-objection", recorded.GetProperty("rule").GetString());
    }

    private static readonly string Today = DateOnly.FromDateTime(DateTime.UtcNow).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);

    private HttpClient OperatorDpo => api.WithToken(api.Issuer.Token("operator:exchange", "dpo"), "subject-access");

    private HttpClient SocialWorker202 => api.WithToken(api.Issuer.Token("la:202", "social-worker"), "safeguarding");

    [SkippableFact]
    public async Task ASocialWorkerCannotLiftOrLoosenARestrictionOrObjectionTheOperatorsDpoRecorded()
    {
        var childId = await Problem.ChildIdAsync(await api.Council202.RegisterAsync(new { nhsNumber = TestIdentifiers.NewNhs() }), HttpStatusCode.Created);
        Assert.Equal(HttpStatusCode.Created, (await OperatorDpo.PostAsJsonAsync($"/v1/children/{childId}/restriction",
            new { active = true, purposes = new[] { "safeguarding" }, reason = "The data subject contests the record's accuracy" })).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await OperatorDpo.PostAsJsonAsync($"/v1/children/{childId}/objections",
            new { active = true, purposes = new[] { "pep-review" }, reason = "The young person objects to PEP sharing" })).StatusCode);

        // Lifting, or replacing it with a looser restriction (the newest is in force), is the DPO's call.
        await Problem.AssertAsync(await SocialWorker202.PostAsJsonAsync($"/v1/children/{childId}/restriction",
            new { active = false, purposes = Array.Empty<string>(), reason = "The social worker wants to lift it", dataSubjectInformedOn = Today }), HttpStatusCode.Forbidden, "processing-limit-authority");
        await Problem.AssertAsync(await api.Council202.PostAsJsonAsync($"/v1/children/{childId}/restriction",
            new { active = true, purposes = new[] { "safeguarding", "attendance-monitoring" }, reason = "A looser restriction in its place" }), HttpStatusCode.Forbidden, "processing-limit-authority");
        await Problem.AssertAsync(await SocialWorker202.PostAsJsonAsync($"/v1/children/{childId}/objections",
            new { active = false, purposes = new[] { "pep-review" }, reason = "The social worker withdraws it" }), HttpStatusCode.Forbidden, "processing-limit-authority");
        Assert.Equal(DenyReason.Restricted, (await DecideAsync(childId, "attendance-monitoring")).Reason);
        Assert.Equal(DenyReason.Restricted, (await DecideAsync(childId, "pep-review")).Reason);

        // An objection to another purpose is the council's own to record.
        Assert.Equal(HttpStatusCode.Created, (await SocialWorker202.PostAsJsonAsync($"/v1/children/{childId}/objections",
            new { active = true, purposes = new[] { "attendance-monitoring" }, reason = "The young person objects to monitoring" })).StatusCode);

        // The DPO lifts its own restriction, having told the data subject.
        Assert.Equal(HttpStatusCode.Created, (await OperatorDpo.PostAsJsonAsync($"/v1/children/{childId}/restriction",
            new { active = false, purposes = Array.Empty<string>(), reason = "Accuracy verified with the data subject", dataSubjectInformedOn = Today })).StatusCode);
        Assert.True((await DecideAsync(childId, "safeguarding")).Permit);
    }

    [SkippableFact]
    public async Task TheOperatorsDpoCanLiftACouncilsRestrictionAndTheLiftingRecordsWhenTheDataSubjectWasTold()
    {
        var childId = await Problem.ChildIdAsync(await api.Council202.RegisterAsync(new { nhsNumber = TestIdentifiers.NewNhs() }), HttpStatusCode.Created);
        Assert.Equal(HttpStatusCode.Created, (await SocialWorker202.PostAsJsonAsync($"/v1/children/{childId}/restriction",
            new { active = true, purposes = new[] { "safeguarding" }, reason = "The accuracy of the record is contested" })).StatusCode);
        Assert.Equal(DenyReason.Restricted, (await DecideAsync(childId, "attendance-monitoring")).Reason);

        var lifted = await OperatorDpo.PostAsJsonAsync($"/v1/children/{childId}/restriction",
            new { active = false, purposes = Array.Empty<string>(), reason = "Accuracy verified with the data subject", dataSubjectInformedOn = "2025-06-02" });
        Assert.Equal(HttpStatusCode.Created, lifted.StatusCode);
        var view = await lifted.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>();
        Assert.Equal("2025-06-02", view.GetProperty("dataSubjectInformedOn").GetString());
        Assert.Equal("operator-dpo", view.GetProperty("authority").GetString());
        Assert.True((await DecideAsync(childId, "attendance-monitoring")).Permit);

        var export = await OperatorDpo.GetFromJsonAsync<System.Text.Json.JsonElement>($"/v1/children/{childId}/subject-access-export");
        var limits = export.GetProperty("processingLimits").EnumerateArray().ToList();
        Assert.Equal(["council", "operator-dpo"], limits.Select(l => l.GetProperty("authority").GetString()));
        Assert.Equal("2025-06-02", limits[1].GetProperty("dataSubjectInformedOn").GetString());

        // The council, as high as the council that recorded it, lifts its own too.
        Assert.Equal(HttpStatusCode.Created, (await api.Council202.PostAsJsonAsync($"/v1/children/{childId}/restriction",
            new { active = true, purposes = new[] { "safeguarding" }, reason = "Contested again by the family" })).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await SocialWorker202.PostAsJsonAsync($"/v1/children/{childId}/restriction",
            new { active = false, purposes = Array.Empty<string>(), reason = "Accuracy confirmed with the family", dataSubjectInformedOn = Today })).StatusCode);
    }

    [SkippableTheory]
    [InlineData(null, "data-subject-not-informed")]
    [InlineData("", "data-subject-not-informed")]
    [InlineData("2025-13-01", "data-subject-not-informed")]
    [InlineData("02/06/2025", "data-subject-not-informed")]
    [InlineData("2999-01-01", "data-subject-not-informed")]
    [InlineData("1990-01-01", "data-subject-not-informed")]
    public async Task LiftingARestrictionNeedsTheDateTheDataSubjectWasInformed(string? informedOn, string code)
    {
        var childId = await Problem.ChildIdAsync(await api.Council202.RegisterAsync(new { nhsNumber = TestIdentifiers.NewNhs() }), HttpStatusCode.Created);
        Assert.Equal(HttpStatusCode.Created, (await api.Council202.PostAsJsonAsync($"/v1/children/{childId}/restriction",
            new { active = true, purposes = new[] { "safeguarding" }, reason = "The accuracy of the record is contested" })).StatusCode);

        // null: the date left out (an explicit null is refused as validation-failed before this rule, as in every body).
        object lift = informedOn is null
            ? new { active = false, purposes = Array.Empty<string>(), reason = "Accuracy confirmed with the family" }
            : new { active = false, purposes = Array.Empty<string>(), reason = "Accuracy confirmed with the family", dataSubjectInformedOn = informedOn };
        await Problem.AssertAsync(await api.Council202.PostAsJsonAsync($"/v1/children/{childId}/restriction", lift), HttpStatusCode.BadRequest, code);
        Assert.Equal(DenyReason.Restricted, (await DecideAsync(childId, "attendance-monitoring")).Reason);
    }

    [SkippableFact]
    public async Task TheDateTheDataSubjectWasInformedBelongsOnlyToLiftingARestriction()
    {
        var childId = await Problem.ChildIdAsync(await api.Council202.RegisterAsync(new { nhsNumber = TestIdentifiers.NewNhs() }), HttpStatusCode.Created);
        await Problem.AssertAsync(await api.Council202.PostAsJsonAsync($"/v1/children/{childId}/restriction",
            new { active = true, purposes = new[] { "safeguarding" }, reason = "The accuracy of the record is contested", dataSubjectInformedOn = Today }), HttpStatusCode.BadRequest, "processing-limit-invalid");
        Assert.True((await DecideAsync(childId, "attendance-monitoring")).Permit);
    }

    private async Task<PolicyDecision> DecideAsync(string childId, string purpose)
    {
        using var scope = api.Services.CreateScope();
        var (restricted, allows) = await scope.ServiceProvider.GetRequiredService<IProcessingLimitFacts>().ForAsync(childId, default);
        var today = DateOnly.FromDateTime(DateTime.UtcNow);
        return scope.ServiceProvider.GetRequiredService<PolicyEngine>().Decide(new PolicyRequest(["virtual-school"], "read", "attendance", purpose, today,
            [new RelationshipFact("responsible-council", today.AddMonths(-1))], [], restricted, allows));
    }
}

public sealed class SqliteProcessingLimitTests(ExchangeApiFactory api) : ProcessingLimitTestsBase<ExchangeApiFactory>(api), IClassFixture<ExchangeApiFactory>;

public sealed class PostgresProcessingLimitTests : ProcessingLimitTestsBase<PostgresApiFactory>, IClassFixture<PostgresApiFactory>
{
    public PostgresProcessingLimitTests(PostgresApiFactory api) : base(api) => Postgres.SkipUnlessAvailable();
}
