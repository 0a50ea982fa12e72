using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Exchange.Api.Tests.AuditReview;
using Exchange.Api.Tests.Infrastructure;

namespace Exchange.Api.Tests.Relationships;

/// <summary>
/// A council taking over a child another council looked after: its episode may not reach back into the other's,
/// it reads only facts dated within its own episodes (and the current enrolment) unless the former council hands
/// the history over, its DPO does not see the former council's staff, and both councils' DPOs are alerted.
/// </summary>
public sealed class TakeoverTests(ExchangeApiFactory api) : IClassFixture<ExchangeApiFactory>
{
    private static readonly DateOnly Today = DateOnly.FromDateTime(DateTime.UtcNow);
    private static readonly string CamdenEnd = Iso(Today.AddDays(-10));
    private static readonly string LewishamStart = Iso(Today.AddDays(-9));

    private static string Iso(DateOnly d) => d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    /// <summary>A child Camden (la:202) looked after from 2025-09-01 until ten days ago, with history recorded then.</summary>
    private async Task<(string ChildId, string Nhs)> FormerlyCamdensChildAsync()
    {
        var nhs = TestIdentifiers.NewNhs();
        var childId = await Problem.ChildIdAsync(await api.Council202.RegisterAsync(new { nhsNumber = nhs }, "2025-09-01"), HttpStatusCode.Created);
        Assert.Equal(HttpStatusCode.Created, (await api.Council202.PostAsJsonAsync($"/v1/children/{childId}/placements",
            new { la = "202", startDate = "2025-10-01", endDate = CamdenEnd })).StatusCode);
        var old = await api.Council202.PostAsJsonAsync("/v1/enrolments", new { childId, urn = "100001", startDate = "2025-10-02" });
        var oldId = JsonDocument.Parse(await old.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString();
        Assert.Equal(HttpStatusCode.OK, (await api.Council202.PostAsJsonAsync($"/v1/enrolments/{oldId}/end", new { endDate = Iso(Today.AddDays(-30)) })).StatusCode);
        // The school the child is at now: enrolled while Camden was responsible, still current.
        Assert.Equal(HttpStatusCode.Created, (await api.Council202.PostAsJsonAsync("/v1/enrolments", new { childId, urn = "100002", startDate = Iso(Today.AddDays(-29)) })).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await api.Council202.PostAsJsonAsync($"/v1/children/{childId}/consents", new
        {
            givenBy = "young-person", categories = new[] { "pep" }, recipients = new[] { "school:100001" }, purposes = new[] { "pep-review" },
            from = "2025-10-01", until = CamdenEnd,
        })).StatusCode);
        var child = JsonDocument.Parse(await api.Council202.GetStringAsync($"/v1/children/{childId}")).RootElement;
        var episodeId = child.GetProperty("careEpisodes")[0].GetProperty("id").GetString();
        Assert.Equal(HttpStatusCode.OK, (await api.Council202.PostAsJsonAsync($"/v1/children/{childId}/care-episodes/{episodeId}/end", new { endDate = CamdenEnd })).StatusCode);
        return (childId, nhs);
    }

    private async Task<JsonElement> ItemsAsync(HttpClient client, string path)
    {
        var response = await client.GetAsync(path);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        var root = JsonDocument.Parse(body).RootElement;
        return root.ValueKind == JsonValueKind.Array ? root : root.GetProperty("items");
    }

    [Theory]
    [InlineData("2024-01-01")] // years before Camden's episode
    [InlineData("2025-09-01")] // the same start
    [InlineData("2026-01-01")] // inside it
    [InlineData(null)] // on its last day
    public async Task ANewEpisodeMayNotStartBeforeOrOverlapAnotherCouncilsEpisode(string? start)
    {
        var (childId, nhs) = await FormerlyCamdensChildAsync();
        var response = await api.Council209.RegisterAsync(new { nhsNumber = nhs }, start ?? CamdenEnd);
        var problem = await Problem.AssertAsync(response, HttpStatusCode.BadRequest, "care-episode-overlap");
        // The answer names neither the other council nor its dates.
        Assert.DoesNotContain("202", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.DoesNotContain(CamdenEnd, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        await Problem.AssertAsync(await api.Council209.GetAsync($"/v1/children/{childId}"), HttpStatusCode.NotFound, "child-not-found");
        await Problem.AssertAsync(await api.Council209.GetAsync($"/v1/children/{childId}/placements"), HttpStatusCode.NotFound, "child-not-found");
    }

    [Fact]
    public async Task ACouncilTakingOverReadsOnlyFactsInItsOwnEpisodesAndTheCurrentEnrolment()
    {
        var (childId, nhs) = await FormerlyCamdensChildAsync();
        Assert.Equal(childId, await Problem.ChildIdAsync(await api.Council209.RegisterAsync(new { nhsNumber = nhs }, LewishamStart), HttpStatusCode.OK));

        Assert.Equal(0, (await ItemsAsync(api.Council209, $"/v1/children/{childId}/placements")).GetArrayLength());
        var enrolments = await ItemsAsync(api.Council209, $"/v1/children/{childId}/enrolments");
        Assert.Equal("100002", Assert.Single(enrolments.EnumerateArray()).GetProperty("urn").GetString());
        Assert.Equal(0, (await ItemsAsync(api.Council209, $"/v1/children/{childId}/consents")).GetArrayLength());

        // What Lewisham records itself it reads; Camden, the former council, still reads its own history.
        Assert.Equal(HttpStatusCode.Created, (await api.Council209.PostAsJsonAsync($"/v1/children/{childId}/placements", new { la = "209", startDate = LewishamStart })).StatusCode);
        Assert.Equal("209", Assert.Single((await ItemsAsync(api.Council209, $"/v1/children/{childId}/placements")).EnumerateArray()).GetProperty("hostLa").GetString());
        var camdenConsents = await ItemsAsync(api.WithToken(api.Issuer.Token("la:202", "virtual-school"), "subject-access"), $"/v1/children/{childId}/consents");
        Assert.Equal(1, camdenConsents.GetArrayLength());
    }

    [Fact]
    public async Task TheNewCouncilsDpoDoesNotSeeTheFormerCouncilsStaffInTheChildsAuditTrail()
    {
        var (childId, nhs) = await FormerlyCamdensChildAsync();
        Assert.Equal(childId, await Problem.ChildIdAsync(await api.Council209.RegisterAsync(new { nhsNumber = nhs }, LewishamStart), HttpStatusCode.OK));
        // Lewisham's own staff act on the child; Camden's staff read Camden's record after Lewisham took over.
        Assert.Equal(HttpStatusCode.OK, (await api.Council209.GetAsync($"/v1/children/{childId}/enrolments")).StatusCode);
        var events = await api.EventsAsync($"childId={childId}", dpoOrg: "la:209");
        Assert.Contains(events, e => e.GetProperty("actor").GetProperty("org").GetString() == "la:209");
        Assert.DoesNotContain(events, e => e.GetProperty("actor").GetProperty("org").GetString() == "la:202");
        Assert.DoesNotContain("user-la:202", JsonSerializer.Serialize(events), StringComparison.Ordinal);

        // The same holds for the entries and the export: Camden's events are withheld from Lewisham's DPO.
        var lewishamDpo = api.DpoOf("la:209");
        Assert.Equal(HttpStatusCode.OK, (await lewishamDpo.GetAsync("/v1/audit/checkpoint")).StatusCode); // signs the tree the export runs to
        // (Only this child's: other tests here have Camden act during Lewisham's episodes, which Lewisham's DPO may see.)
        var leaves = DecodedLeaves(await lewishamDpo.GetStringAsync("/v1/audit/export")).Split('\n').Where(l => l.Contains(childId, StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(leaves);
        Assert.DoesNotContain(leaves, l => l.Contains("user-la:202", StringComparison.Ordinal));
        // And Camden's DPO does not see Lewisham's staff either, nor does the operator's DPO miss anything.
        Assert.DoesNotContain(await api.EventsAsync($"childId={childId}", dpoOrg: "la:202"), e => e.GetProperty("actor").GetProperty("org").GetString() == "la:209");
        Assert.Contains(await api.EventsAsync($"childId={childId}"), e => e.GetProperty("actor").GetProperty("org").GetString() == "la:202");
    }

    private async Task<string> TakenOverChildAsync()
    {
        var (childId, nhs) = await FormerlyCamdensChildAsync();
        Assert.Equal(childId, await Problem.ChildIdAsync(await api.Council209.RegisterAsync(new { nhsNumber = nhs }, LewishamStart), HttpStatusCode.OK));
        return childId;
    }

    [Fact]
    public async Task TheFormerCouncilDoesNotReadWhatTheNewCouncilRecords()
    {
        var childId = await TakenOverChildAsync();
        Assert.Equal(HttpStatusCode.Created, (await api.Council209.PostAsJsonAsync($"/v1/children/{childId}/consents", new
        {
            givenBy = "young-person", categories = new[] { "pep" }, recipients = new[] { "school:100002" }, purposes = new[] { "pep-review" }, from = LewishamStart,
        })).StatusCode);
        var camden = api.WithToken(api.Issuer.Token("la:202", "virtual-school"), "subject-access");
        var consents = await ItemsAsync(camden, $"/v1/children/{childId}/consents");
        Assert.Equal("school:100001", Assert.Single(consents.EnumerateArray()).GetProperty("recipients")[0].GetString());
        await Problem.AssertAsync(await api.Council202.GetAsync($"/v1/children/{childId}/placements"), HttpStatusCode.Forbidden, "relationship-not-current");
        var episodes = JsonDocument.Parse(await api.Council202.GetStringAsync($"/v1/children/{childId}")).RootElement.GetProperty("careEpisodes");
        Assert.Equal("202", Assert.Single(episodes.EnumerateArray()).GetProperty("responsibleLa").GetString());
    }

    [Fact]
    public async Task AHandoverByTheFormerCouncilOpensTheCategoriesItNamesUntilItIsRevoked()
    {
        var childId = await TakenOverChildAsync();
        var recorded = await api.Council202.PostAsJsonAsync($"/v1/children/{childId}/handovers", new { to = "la:209", categories = new[] { "placement", "consent" } });
        Assert.Equal(HttpStatusCode.Created, recorded.StatusCode);
        var handover = JsonDocument.Parse(await recorded.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("la:202", handover.GetProperty("from").GetString());
        var handoverId = handover.GetProperty("id").GetString();
        // A retry finds the same handover.
        var again = await api.Council202.PostAsJsonAsync($"/v1/children/{childId}/handovers", new { to = "la:209", categories = new[] { "consent", "placement" } });
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);

        Assert.Equal("202", Assert.Single((await ItemsAsync(api.Council209, $"/v1/children/{childId}/placements")).EnumerateArray()).GetProperty("hostLa").GetString());
        Assert.Equal(1, (await ItemsAsync(api.Council209, $"/v1/children/{childId}/consents")).GetArrayLength());
        Assert.Equal(1, (await ItemsAsync(api.Council209, $"/v1/children/{childId}/enrolments")).GetArrayLength()); // not handed over
        Assert.Equal(1, (await ItemsAsync(api.Council209, $"/v1/children/{childId}/handovers")).GetArrayLength());
        Assert.Contains(await api.EventsAsync($"childId={childId}"), e => e.GetProperty("action").GetString() == "handover.record"
            && e.GetProperty("actor").GetProperty("org").GetString() == "la:202" && e.GetProperty("rule").GetString() == "council-handover");

        // Lewisham cannot revoke what Camden gave; Camden can, and from then on the history is closed again.
        await Problem.AssertAsync(await api.Council209.PostAsync($"/v1/children/{childId}/handovers/{handoverId}/revoke", null), HttpStatusCode.NotFound, "handover-not-found");
        var revoked = await api.Council202.PostAsync($"/v1/children/{childId}/handovers/{handoverId}/revoke", null);
        Assert.Equal(HttpStatusCode.OK, revoked.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await api.Council202.PostAsync($"/v1/children/{childId}/handovers/{handoverId}/revoke", null)).StatusCode);
        Assert.Equal(0, (await ItemsAsync(api.Council209, $"/v1/children/{childId}/placements")).GetArrayLength());
        Assert.Equal(0, (await ItemsAsync(api.Council209, $"/v1/children/{childId}/consents")).GetArrayLength());
        Assert.Contains(await api.EventsAsync($"childId={childId}"), e => e.GetProperty("action").GetString() == "handover.revoke");
    }

    [Fact]
    public async Task TheOperatorsDpoMayHandOverForTheFormerCouncilNamingIt()
    {
        var childId = await TakenOverChildAsync();
        var dpo = api.WithToken(api.Issuer.Token("operator:exchange", "dpo"), "safeguarding");
        await Problem.AssertAsync(await dpo.PostAsJsonAsync($"/v1/children/{childId}/handovers", new { to = "la:209", categories = new[] { "enrolment" } }),
            HttpStatusCode.BadRequest, "handover-invalid");
        Assert.Equal(HttpStatusCode.Created, (await dpo.PostAsJsonAsync($"/v1/children/{childId}/handovers",
            new { to = "la:209", from = "la:202", categories = new[] { "enrolment" } })).StatusCode);
        Assert.Equal(2, (await ItemsAsync(api.Council209, $"/v1/children/{childId}/enrolments")).GetArrayLength());
        Assert.Equal(0, (await ItemsAsync(api.Council209, $"/v1/children/{childId}/placements")).GetArrayLength());
    }

    [Theory]
    [InlineData("""{"to":"la:209","categories":["audit"]}""")]
    [InlineData("""{"to":"la:209","categories":["handover"]}""")]
    [InlineData("""{"to":"la:209","categories":["everything"]}""")]
    [InlineData("""{"to":"la:209","categories":[]}""")]
    [InlineData("""{"to":"la:209"}""")]
    [InlineData("""{"to":"school:100002","categories":["placement"]}""")]
    [InlineData("""{"to":"9434765919","categories":["placement"]}""")]
    [InlineData("""{"categories":["placement"]}""")]
    [InlineData("""{"to":"la:999","categories":["placement"]}""")] // no episode for the child there
    [InlineData("""{"to":"la:202","categories":["placement"]}""")] // to itself
    [InlineData("""{"to":"la:209","from":"la:209","categories":["placement"]}""")] // someone else's history
    public async Task ABadHandoverIsRefusedAndOpensNothing(string body)
    {
        var childId = await TakenOverChildAsync();
        var response = await api.Council202.PostAsync($"/v1/children/{childId}/handovers", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
        var problem = await Problem.AssertAsync(response, HttpStatusCode.BadRequest, "handover-invalid");
        Assert.DoesNotContain("9434765919", problem.ToString(), StringComparison.Ordinal);
        Assert.Equal(0, (await ItemsAsync(api.Council209, $"/v1/children/{childId}/placements")).GetArrayLength());
    }

    [Fact]
    public async Task TheNewCouncilASchoolAnotherDpoOrNoTokenCannotHandOverTheFormerCouncilsHistory()
    {
        var childId = await TakenOverChildAsync();
        var body = new { to = "la:209", from = "la:202", categories = new[] { "placement" } };
        await Problem.AssertAsync(await api.Council209.PostAsJsonAsync($"/v1/children/{childId}/handovers", body), HttpStatusCode.BadRequest, "handover-invalid");
        await Problem.AssertAsync(await api.ClientFor("school:100002", "school-mis").PostAsJsonAsync($"/v1/children/{childId}/handovers", body), HttpStatusCode.Forbidden, "forbidden");
        await Problem.AssertAsync(await api.WithToken(api.Issuer.Token("la:202", "dpo"), "safeguarding").PostAsJsonAsync($"/v1/children/{childId}/handovers", body),
            HttpStatusCode.Forbidden, "forbidden");
        await Problem.AssertAsync(await api.ClientFor("la:202", "social-worker").PostAsJsonAsync($"/v1/children/{childId}/handovers", body), HttpStatusCode.Forbidden, "forbidden");
        Assert.Equal(HttpStatusCode.Unauthorized, (await api.WithToken(null).PostAsJsonAsync($"/v1/children/{childId}/handovers", body)).StatusCode);
        Assert.Equal(0, (await ItemsAsync(api.Council209, $"/v1/children/{childId}/placements")).GetArrayLength());
    }

    private async Task<List<JsonElement>> AlertsAsync(string dpoOrg)
    {
        var response = await api.DpoOf(dpoOrg).GetAsync("/v1/audit/alerts?limit=200");
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        return JsonDocument.Parse(body).RootElement.GetProperty("items").EnumerateArray().Select(e => e.Clone()).ToList();
    }

    [Fact]
    public async Task OpeningAnEpisodeForAKnownChildAlertsBothCouncilsDposWithNoIdentifiers()
    {
        var (childId, nhs) = await FormerlyCamdensChildAsync();
        Assert.DoesNotContain(await AlertsAsync("la:202"), a => a.GetProperty("childId").GetString() == childId);
        Assert.Equal(childId, await Problem.ChildIdAsync(await api.Council209.RegisterAsync(new { nhsNumber = nhs }, LewishamStart), HttpStatusCode.OK));

        foreach (var dpo in new[] { "la:202", "la:209", "operator:exchange" })
        {
            var alert = Assert.Single(await AlertsAsync(dpo), a => a.GetProperty("childId").GetString() == childId);
            Assert.Equal("episode-opened", alert.GetProperty("kind").GetString());
            Assert.Equal("la:209", alert.GetProperty("organisation").GetString());
            Assert.Equal("la:202,la:209", string.Join(",", alert.GetProperty("organisations").EnumerateArray().Select(o => o.GetString())));
            Assert.True(!alert.TryGetProperty("subject", out var subject) || subject.ValueKind == JsonValueKind.Null);
            Assert.DoesNotContain(nhs, alert.ToString(), StringComparison.Ordinal);
        }

        Assert.DoesNotContain(await AlertsAsync("school:100002"), a => a.GetProperty("childId").GetString() == childId);
    }

    [Fact]
    public async Task AMergeGivingACouncilAChildItDidNotHoldAlertsTheDposAndTheReviewShowsWhoHoldsEachCandidate()
    {
        var (nhs, upn) = (TestIdentifiers.NewNhs(), TestIdentifiers.NewUpn());
        // Camden's care ended before Lewisham's began: two councils' episodes that overlap cannot be merged.
        var camdens = await Problem.ChildIdAsync(await api.Council202.RegisterAsync(new { nhsNumber = nhs }, "2024-09-01"), HttpStatusCode.Created);
        var episodeId = JsonDocument.Parse(await api.Council202.GetStringAsync($"/v1/children/{camdens}")).RootElement.GetProperty("careEpisodes")[0].GetProperty("id").GetString();
        Assert.Equal(HttpStatusCode.OK, (await api.Council202.PostAsJsonAsync($"/v1/children/{camdens}/care-episodes/{episodeId}/end", new { endDate = "2025-08-31" })).StatusCode);
        var lewishams = await Problem.ChildIdAsync(await api.Council209.RegisterAsync(new { upn }), HttpStatusCode.Created);
        Assert.Equal(HttpStatusCode.Created, (await api.Council209.PostAsJsonAsync("/v1/enrolments", new { childId = lewishams, urn = "100002", startDate = "2025-10-02" })).StatusCode);
        var conflict = await Problem.AssertAsync(await api.Council209.ResolveAsync(new { nhsNumber = nhs, upn }), HttpStatusCode.Conflict, "identity-conflict");
        var reviewId = conflict.GetProperty("reviewId").GetString();

        var review = JsonDocument.Parse(await api.Admin.GetStringAsync($"/v1/identity-reviews/{reviewId}")).RootElement;
        var candidates = review.GetProperty("candidates").EnumerateArray().ToDictionary(
            c => c.GetProperty("childId").GetString()!, c => string.Join(",", c.GetProperty("organisations").EnumerateArray().Select(o => o.GetString())));
        Assert.Equal("la:202", candidates[camdens]);
        Assert.Equal("la:209,school:100002", candidates[lewishams]);

        Assert.Equal(HttpStatusCode.OK, (await api.Admin.PostAsJsonAsync($"/v1/identity-reviews/{reviewId}/merge", new { survivorChildId = camdens })).StatusCode);
        foreach (var dpo in new[] { "la:202", "la:209", "school:100002" })
        {
            var alert = Assert.Single(await AlertsAsync(dpo), a => a.GetProperty("kind").GetString() == "merge-relationship" && a.GetProperty("childId").GetString() == camdens);
            Assert.Equal("la:202,la:209,school:100002", string.Join(",", alert.GetProperty("organisations").EnumerateArray().Select(o => o.GetString())));
        }
    }

    private static string DecodedLeaves(string exportLines) => string.Join("\n", exportLines.Split('\n', StringSplitOptions.RemoveEmptyEntries)
        .Select(line => JsonDocument.Parse(line).RootElement)
        .Where(e => e.TryGetProperty("leaf", out var leaf) && leaf.ValueKind == JsonValueKind.String)
        .Select(e => System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(e.GetProperty("leaf").GetString()!))));
}
