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
        var export = await api.DpoOf("la:209").GetStringAsync("/v1/audit/export");
        Assert.DoesNotContain("user-la:202", DecodedLeaves(export), StringComparison.Ordinal);
        // And Camden's DPO does not see Lewisham's staff either, nor does the operator's DPO miss anything.
        Assert.DoesNotContain(await api.EventsAsync($"childId={childId}", dpoOrg: "la:202"), e => e.GetProperty("actor").GetProperty("org").GetString() == "la:209");
        Assert.Contains(await api.EventsAsync($"childId={childId}"), e => e.GetProperty("actor").GetProperty("org").GetString() == "la:202");
    }

    private static string DecodedLeaves(string exportLines) => string.Join("\n", exportLines.Split('\n', StringSplitOptions.RemoveEmptyEntries)
        .Select(line => JsonDocument.Parse(line).RootElement)
        .Where(e => e.TryGetProperty("leaf", out var leaf) && leaf.ValueKind == JsonValueKind.String)
        .Select(e => System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(e.GetProperty("leaf").GetString()!))));
}
