using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Exchange.Api.Tests.AuditReview;
using Exchange.Api.Tests.Infrastructure;

namespace Exchange.Api.Tests.Review;

/// <summary>
/// Independent review of the issue-10 fixes: each test is a hostile caller's repro. Tests
/// "FINDING" tests confirmed a hole on the reviewed main: fixed ones now pass; "HOLDS" passed (the fix held).
/// </summary>
public sealed class ReviewFindingsTests(ExchangeApiFactory api) : IClassFixture<ExchangeApiFactory>
{
    private static readonly DateOnly Today = DateOnly.FromDateTime(DateTime.UtcNow);
    private static readonly string CamdenEnd = Iso(Today.AddDays(-10));
    private static readonly string LewishamStart = Iso(Today.AddDays(-9));

    private static string Iso(DateOnly d) => d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    /// <summary>A child Camden (la:202) looked after from 2025-09-01 until ten days ago, with a placement and consent then.</summary>
    private async Task<(string ChildId, string Nhs)> FormerlyCamdensChildAsync()
    {
        var nhs = TestIdentifiers.NewNhs();
        var childId = await Problem.ChildIdAsync(await api.Council202.RegisterAsync(new { nhsNumber = nhs }, "2025-09-01"), HttpStatusCode.Created);
        Assert.Equal(HttpStatusCode.Created, (await api.Council202.PostAsJsonAsync($"/v1/children/{childId}/placements",
            new { la = "202", startDate = "2025-10-01", endDate = CamdenEnd })).StatusCode);
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

    private static async Task<JsonElement> ItemsAsync(HttpClient client, string path)
    {
        var response = await client.GetAsync(path);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        var root = JsonDocument.Parse(body).RootElement;
        return root.ValueKind == JsonValueKind.Array ? root : root.GetProperty("items");
    }

    /// <summary>
    /// FINDING (F1, fixed: the merge is refused). The overlap rule is enforced only when a council registers a known child. A hostile
    /// council registers a UPN-only child with a care episode backdated to 2024 (no check: a new child), then presents
    /// that UPN with the other council's child's NHS number: 409 with a review case. When the admin merges (the review
    /// shows which councils hold each candidate, nothing about dates), the backdated episode moves onto the survivor
    /// unchecked, and the hostile council reads the former council's whole history (it overlaps its "episode").
    /// </summary>
    [Fact]
    public async Task FindingAMergeDoesNotCarryABackdatedEpisodeIntoAnotherCouncilsHistory()
    {
        var (childId, nhs) = await FormerlyCamdensChildAsync();
        var upn = TestIdentifiers.NewUpn();
        var decoy = await Problem.ChildIdAsync(await api.Council209.RegisterAsync(new { upn }, "2024-01-01"), HttpStatusCode.Created);
        var conflict = await Problem.AssertAsync(await api.Council209.RegisterAsync(new { nhsNumber = nhs, upn }, LewishamStart), HttpStatusCode.Conflict, "identity-conflict");
        var reviewId = conflict.GetProperty("reviewId").GetString();
        // The decoy's backdated episode overlaps Camden's: the merge is refused and the review stays open.
        await Problem.AssertAsync(await api.Admin.PostAsJsonAsync($"/v1/identity-reviews/{reviewId}/merge", new { survivorChildId = childId }),
            HttpStatusCode.Conflict, "merge-episode-overlap");
        Assert.Equal("open", JsonDocument.Parse(await api.Admin.GetStringAsync($"/v1/identity-reviews/{reviewId}")).RootElement.GetProperty("status").GetString());
        Assert.NotEqual(childId, decoy);

        // Lewisham never had the child in Camden's time: Camden's child stays unknown to it.
        await Problem.AssertAsync(await api.Council209.GetAsync($"/v1/children/{childId}/placements"), HttpStatusCode.NotFound, "child-not-found");
        await Problem.AssertAsync(await api.Council209.GetAsync($"/v1/children/{childId}/consents"), HttpStatusCode.NotFound, "child-not-found");
    }

    /// <summary>
    /// FINDING (F2, fixed: a dated record is released only when it was recorded before the reader's period ended).
    /// The reverse direction of F1: the new council records a fact dated back into the former council's episode
    /// (here a consent given from 2025-10-01), and the former council, whose windows are its own episodes, read what
    /// the new council recorded after it took over.
    /// </summary>
    [Fact]
    public async Task FindingTheFormerCouncilDoesNotReadABackdatedRecordTheNewCouncilMade()
    {
        var (childId, nhs) = await FormerlyCamdensChildAsync();
        Assert.Equal(childId, await Problem.ChildIdAsync(await api.Council209.RegisterAsync(new { nhsNumber = nhs }, LewishamStart), HttpStatusCode.OK));
        Assert.Equal(HttpStatusCode.Created, (await api.Council209.PostAsJsonAsync($"/v1/children/{childId}/consents", new
        {
            givenBy = "young-person", categories = new[] { "pep" }, recipients = new[] { "school:100002" }, purposes = new[] { "pep-review" },
            from = "2025-10-01",
        })).StatusCode);
        var camden = api.WithToken(api.Issuer.Token("la:202", "virtual-school"), "subject-access");
        var consents = await ItemsAsync(camden, $"/v1/children/{childId}/consents");
        Assert.DoesNotContain(consents.EnumerateArray(), c => c.GetProperty("recipients")[0].GetString() == "school:100002");
        // Camden's own records of its time stay its history.
        Assert.Contains(consents.EnumerateArray(), c => c.GetProperty("recipients")[0].GetString() == "school:100001");
    }

    /// <summary>
    /// FINDING (F3, fixed: registration is decided as the council about to be responsible, which a restriction does not
    /// stop). Resolution answers a restricted child like an unknown one (404); registration, the other way a council
    /// presents an NHS number, answered 403 processing-restricted, telling a council that was never responsible that the
    /// child is restricted. It now answers as for any child the council registers.
    /// </summary>
    [Fact]
    public async Task FindingRegistrationDoesNotRevealARestrictionToACouncilThatWasNeverResponsible()
    {
        var (childId, nhs) = await FormerlyCamdensChildAsync();
        var dpo = api.WithToken(api.Issuer.Token("operator:exchange", "dpo"), "subject-access");
        Assert.Equal(HttpStatusCode.Created, (await dpo.PostAsJsonAsync($"/v1/children/{childId}/restriction",
            new { active = true, purposes = new[] { "subject-access" }, reason = "The accuracy of the record is contested" })).StatusCode);
        await Problem.AssertAsync(await api.Council209.ResolveAsync(new { nhsNumber = nhs }), HttpStatusCode.NotFound, "child-not-found");

        var registered = await api.Council209.RegisterAsync(new { nhsNumber = nhs }, LewishamStart);
        var body = await registered.Content.ReadAsStringAsync();
        Assert.DoesNotContain("restrict", body, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(childId, await Problem.ChildIdAsync(registered, HttpStatusCode.OK));
    }

    /// <summary>HOLDS. Explicit null in a handover's from, by a council: 400, nothing recorded.</summary>
    [Fact]
    public async Task HoldsAnExplicitNullInAHandoverIsRefused()
    {
        var (childId, nhs) = await FormerlyCamdensChildAsync();
        Assert.Equal(childId, await Problem.ChildIdAsync(await api.Council209.RegisterAsync(new { nhsNumber = nhs }, LewishamStart), HttpStatusCode.OK));
        var response = await api.Council202.PostAsync($"/v1/children/{childId}/handovers",
            new StringContent("""{"to":"la:209","categories":["placement"],"from":null}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(0, (await ItemsAsync(api.Council209, $"/v1/children/{childId}/placements")).GetArrayLength());
    }

    /// <summary>HOLDS. The new council cannot reopen the old history by ending its episode and registering again earlier.</summary>
    [Fact]
    public async Task HoldsEndingAndReRegisteringEarlierIsStillAnOverlap()
    {
        var (childId, nhs) = await FormerlyCamdensChildAsync();
        Assert.Equal(childId, await Problem.ChildIdAsync(await api.Council209.RegisterAsync(new { nhsNumber = nhs }, LewishamStart), HttpStatusCode.OK));
        var episodes = JsonDocument.Parse(await api.Council209.GetStringAsync($"/v1/children/{childId}")).RootElement.GetProperty("careEpisodes");
        var own = episodes.EnumerateArray().First(e => e.GetProperty("responsibleLa").GetString() == "209").GetProperty("id").GetString();
        Assert.Equal(HttpStatusCode.OK, (await api.Council209.PostAsJsonAsync($"/v1/children/{childId}/care-episodes/{own}/end", new { endDate = LewishamStart })).StatusCode);
        await Problem.AssertAsync(await api.Council209.RegisterAsync(new { nhsNumber = nhs }, "2025-09-15"), HttpStatusCode.BadRequest, "care-episode-overlap");
        await Problem.AssertAsync(await api.Council209.RegisterAsync(new { nhsNumber = nhs, laChildId = new { la = "209", id = "LEW-1" } }, "2025-09-15"),
            HttpStatusCode.BadRequest, "care-episode-overlap");
        await Problem.AssertAsync(await api.Council209.GetAsync($"/v1/children/{childId}/placements"), HttpStatusCode.Forbidden, "relationship-not-current");
    }

    /// <summary>HOLDS (or FINDING if it fails). An NHS number in a route, query, body id or header never reaches the audit log or service log.</summary>
    [Fact]
    public async Task HoldsAnNhsNumberWhereAnIdBelongsReachesNeitherTheAuditNorTheLog()
    {
        var nhs = TestIdentifiers.NewNhs();
        var (childId, _) = await FormerlyCamdensChildAsync();
        var dpo = api.WithToken(api.Issuer.Token("operator:exchange", "dpo"), "safeguarding");
        var eraser = api.WithToken(api.Issuer.Token("operator:exchange", "dpo"), "erasure");
        var probes = new List<HttpResponseMessage>
        {
            await api.Council202.PostAsJsonAsync("/v1/enrolments", new { childId = nhs, urn = "100001", startDate = "2025-10-02" }),
            await api.Council202.PostAsJsonAsync($"/v1/enrolments/{nhs}/end", new { endDate = "2025-10-02" }),
            await api.Council202.PostAsJsonAsync($"/v1/children/{nhs}/handovers", new { to = "la:209", categories = new[] { "placement" } }),
            await api.Council202.GetAsync($"/v1/children/{nhs}/handovers"),
            await api.Council202.PostAsync($"/v1/children/{childId}/handovers/{nhs}/revoke", null),
            await dpo.PostAsJsonAsync($"/v1/children/{childId}/handovers", new { to = "la:209", from = "la:202", categories = new[] { "placement" }, note = nhs }),
            await eraser.PostAsync($"/v1/children/{nhs}/erase", null),
            await api.Admin.GetAsync($"/v1/identity-reviews/{nhs}"),
            await api.Admin.PostAsJsonAsync($"/v1/identity-reviews/{nhs}/merge", new { survivorChildId = nhs }),
            await api.Admin.GetAsync($"/v1/organisations/{nhs}"),
            await api.Admin.PostAsync($"/v1/organisations/{nhs}/deactivate", null),
            await api.Council202.GetAsync($"/v1/children/{childId}/placements?hostLa={nhs}"),
            await api.Council202.GetAsync($"/v1/children/{childId}/enrolments?urn={nhs}&sort={nhs}"),
            await api.DpoOf().GetAsync($"/v1/audit/events?childId={nhs}"),
            await api.DpoOf().GetAsync($"/v1/audit/alerts?childId={nhs}&at={nhs}"),
            await api.Council202.PostAsJsonAsync($"/v1/children/{childId}/care-episodes/{nhs}/end", new { endDate = CamdenEnd }),
            await api.Council202.PostAsJsonAsync($"/v1/children/{childId}/consents/{nhs}/withdraw", new { }),
        };
        foreach (var r in probes)
        {
            Assert.DoesNotContain(nhs, await r.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        using (var headers = new HttpRequestMessage(HttpMethod.Get, $"/v1/children/{childId}/placements"))
        {
            headers.Headers.TryAddWithoutValidation("X-Correlation-Id", nhs);
            headers.Headers.TryAddWithoutValidation("X-Purpose-Of-Use", nhs);
            await api.Council202.SendAsync(headers);
        }

        Assert.Equal(HttpStatusCode.OK, (await api.DpoOf().GetAsync("/v1/audit/checkpoint")).StatusCode);
        var export = await api.DpoOf().GetStringAsync("/v1/audit/export");
        var leaves = string.Join("\n", export.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => JsonDocument.Parse(line).RootElement)
            .Where(e => e.TryGetProperty("leaf", out var leaf) && leaf.ValueKind == JsonValueKind.String)
            .Select(e => Encoding.UTF8.GetString(Convert.FromBase64String(e.GetProperty("leaf").GetString()!))));
        Assert.DoesNotContain(nhs, leaves, StringComparison.Ordinal);
        Assert.DoesNotContain(nhs, api.Logs.All, StringComparison.Ordinal);
    }
    /// <summary>
    /// FINDING (F4, fixed). "Padding is no reason": the break-glass reason rule drops control and format
    /// characters, but counts the Hangul filler (U+3164, a letter that renders blank) as words, and inner spaces
    /// as length. A grant whose reason the DPO sees as empty or as four letters is opened.
    /// </summary>
    [Theory]
    [InlineData("\u3164\u3164\u3164\u3164\u3164 \u3164\u3164\u3164\u3164\u3164 \u3164\u3164\u3164\u3164\u3164 \u3164\u3164\u3164\u3164\u3164")]
    [InlineData("a                    b c d")]
    public async Task FindingABlankOrPaddedBreakGlassReasonIsRefused(string reason)
    {
        var childId = await Problem.ChildIdAsync(await api.Council202.RegisterAsync(new { nhsNumber = TestIdentifiers.NewNhs() }), HttpStatusCode.Created);
        var lewisham = api.WithToken(api.Issuer.Token("la:209", "virtual-school"), "safeguarding");
        var response = await lewisham.PostAsJsonAsync($"/v1/children/{childId}/break-glass", new { reason, durationMinutes = 5 });
        await Problem.AssertAsync(response, HttpStatusCode.BadRequest, "break-glass-invalid");
    }

    /// <summary>
    /// HOLDS (check). After erasure the NHS number registers as a new child: nothing of the erased child's history
    /// (episodes, placements) is reachable through it, and the old id answers 410.
    /// </summary>
    [Fact]
    public async Task HoldsReRegisteringAnErasedChildsNhsNumberStartsAfresh()
    {
        var (childId, nhs) = await FormerlyCamdensChildAsync();
        var dpo = api.WithToken(api.Issuer.Token("operator:exchange", "dpo"), "subject-access");
        Assert.Equal(HttpStatusCode.OK, (await dpo.PostAsync($"/v1/children/{childId}/erase", null)).StatusCode);
        var again = await Problem.ChildIdAsync(await api.Council209.RegisterAsync(new { nhsNumber = nhs }, "2024-01-01"), HttpStatusCode.Created);
        Assert.NotEqual(childId, again);
        Assert.Equal(0, (await ItemsAsync(api.Council209, $"/v1/children/{again}/placements")).GetArrayLength());
        Assert.Equal(0, (await ItemsAsync(api.Council209, $"/v1/children/{again}/consents")).GetArrayLength());
        var child = JsonDocument.Parse(await api.Council209.GetStringAsync($"/v1/children/{again}")).RootElement;
        Assert.Equal(1, child.GetProperty("careEpisodes").GetArrayLength());
        var camden = api.WithToken(api.Issuer.Token("la:202", "virtual-school"), "subject-access");
        Assert.Equal(HttpStatusCode.Gone, (await camden.GetAsync($"/v1/children/{childId}/consents")).StatusCode);
        Assert.DoesNotContain(await api.EventsAsync($"childId={again}", dpoOrg: "la:202"), e => true);
    }
}
