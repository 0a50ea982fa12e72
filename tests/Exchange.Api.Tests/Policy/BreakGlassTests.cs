using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Exchange.Api.Tests.AuditReview;
using Exchange.Api.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Exchange.Api.Tests.Policy;

/// <summary>A clock the test can move forward (the service takes its time from DI; tokens keep real time).</summary>
public sealed class MovableTime : TimeProvider
{
    public TimeSpan Offset { get; set; }

    public override DateTimeOffset GetUtcNow() => System.GetUtcNow() + Offset;
}

public sealed class MovableTimeApiFactory : ExchangeApiFactory
{
    public MovableTime Time { get; } = new();

    protected override void ConfigureTestServices(IServiceCollection services) => services.AddSingleton<TimeProvider>(Time);
}

/// <summary>
/// Break-glass: a council officer with no relationship to a child opens a time-limited grant for safeguarding, reads
/// what the policy's break-glass rule allows while it lasts, and every step is flagged for the DPO.
/// </summary>
public sealed class BreakGlassTests(MovableTimeApiFactory api) : IClassFixture<MovableTimeApiFactory>
{
    private const string Reason = "Reported missing from placement overnight by the police; checking where the child lives";

    private HttpClient Lewisham(string purpose = "safeguarding", string role = "virtual-school", string? subject = null) =>
        api.WithToken(api.Issuer.Mint(new TokenSpec("la:209", [role], Subject: subject)), purpose);

    private async Task<string> PlacedChildAsync()
    {
        var childId = await Problem.ChildIdAsync(await api.Council202.RegisterAsync(new { nhsNumber = TestIdentifiers.NewNhs() }), HttpStatusCode.Created);
        Assert.Equal(HttpStatusCode.Created, (await api.Council202.PostAsJsonAsync($"/v1/children/{childId}/placements", new { la = "202", startDate = "2025-10-01" })).StatusCode);
        return childId;
    }

    [Fact]
    public async Task AGrantOpensSafeguardingReadsForItsHolderUntilItExpiresAndEveryStepIsFlagged()
    {
        var childId = await PlacedChildAsync();
        await Problem.AssertAsync(await Lewisham().GetAsync($"/v1/children/{childId}/placements"), HttpStatusCode.Forbidden, "break-glass-required");
        await Problem.AssertAsync(await Lewisham("pep-review").GetAsync($"/v1/children/{childId}/placements"), HttpStatusCode.NotFound, "child-not-found");

        var opened = await Lewisham().PostAsJsonAsync($"/v1/children/{childId}/break-glass", new { reason = Reason, durationMinutes = 30 });
        Assert.Equal(HttpStatusCode.Created, opened.StatusCode);
        var grant = JsonDocument.Parse(await opened.Content.ReadAsStringAsync()).RootElement;
        var grantId = grant.GetProperty("grantId").GetString();
        Assert.Equal(TimeSpan.FromMinutes(30), grant.GetProperty("expiresAt").GetDateTimeOffset() - grant.GetProperty("startsAt").GetDateTimeOffset());

        // Under the grant: placements for safeguarding, nothing else, and only for the person who opened it.
        var placements = await Lewisham().GetAsync($"/v1/children/{childId}/placements");
        Assert.Equal(HttpStatusCode.OK, placements.StatusCode);
        Assert.Equal("202", JsonDocument.Parse(await placements.Content.ReadAsStringAsync()).RootElement.GetProperty("items")[0].GetProperty("hostLa").GetString());
        await Problem.AssertAsync(await Lewisham("pep-review").GetAsync($"/v1/children/{childId}/placements"), HttpStatusCode.NotFound, "child-not-found");
        await Problem.AssertAsync(await Lewisham().GetAsync($"/v1/children/{childId}/enrolments"), HttpStatusCode.NotFound, "child-not-found");
        await Problem.AssertAsync(await Lewisham(subject: "a-colleague").GetAsync($"/v1/children/{childId}/placements"), HttpStatusCode.Forbidden, "break-glass-required");

        var events = await api.EventsAsync($"childId={childId}&org=la:209&decision=permit");
        var open = Assert.Single(events, e => e.GetProperty("action").GetString() == "break-glass.open");
        Assert.Equal("break-glass-request", open.GetProperty("rule").GetString());
        var read = Assert.Single(events, e => e.GetProperty("action").GetString() == "placement.list");
        Assert.Equal(grantId, read.GetProperty("break_glass").GetString());
        Assert.Equal("safeguarding-break-glass", read.GetProperty("rule").GetString());
        Assert.StartsWith("UK GDPR Art. 6(1)(d)", read.GetProperty("lawful_basis").GetString(), StringComparison.Ordinal);
        Assert.Contains("hostLa", read.GetProperty("fields").EnumerateArray().Select(f => f.GetString()));

        // The DPO's alert: the operator's, the responsible council's and the opener's DPO see it; an unrelated school's does not.
        foreach (var dpo in new[] { "operator:exchange", "la:202", "la:209" })
        {
            var alert = Assert.Single(await AlertsAsync(dpo), a => a.GetProperty("grantId").GetString() == grantId);
            Assert.Equal(Reason, alert.GetProperty("reason").GetString());
            Assert.True(alert.GetProperty("active").GetBoolean());
        }

        Assert.DoesNotContain(await AlertsAsync("school:100002"), a => a.GetProperty("grantId").GetString() == grantId);
        Assert.DoesNotContain("missing from placement", api.Logs.All, StringComparison.Ordinal);

        // After expiry the door is shut again, and the alert says so.
        api.Time.Offset = TimeSpan.FromMinutes(31);
        try
        {
            await Problem.AssertAsync(await Lewisham().GetAsync($"/v1/children/{childId}/placements"), HttpStatusCode.Forbidden, "break-glass-required");
            Assert.False(Assert.Single(await AlertsAsync("operator:exchange"), a => a.GetProperty("grantId").GetString() == grantId).GetProperty("active").GetBoolean());
        }
        finally
        {
            api.Time.Offset = TimeSpan.Zero;
        }
    }

    [Theory]
    [InlineData("""{"reason":"Too short a reason","durationMinutes":30}""")]
    [InlineData("""{"reason":"                         padded     ","durationMinutes":30}""")]
    [InlineData("""{"durationMinutes":30}""")]
    // Twenty characters that say nothing: NUL bytes, zero-width spaces, dots, a word and padding of format characters.
    [InlineData("""{"reason":"\u0000\u0000\u0000\u0000\u0000\u0000\u0000\u0000\u0000\u0000\u0000\u0000\u0000\u0000\u0000\u0000\u0000\u0000\u0000\u0000\u0000\u0000","durationMinutes":30}""")]
    [InlineData("""{"reason":"\u200b\u200b\u200b\u200b\u200b\u200b\u200b\u200b\u200b\u200b\u200b\u200b\u200b\u200b\u200b\u200b\u200b\u200b\u200b\u200b\u200b\u200b","durationMinutes":30}""")]
    [InlineData("""{"reason":"........................","durationMinutes":30}""")]
    [InlineData("""{"reason":"missing\u200b\u200b\u200b\u200b\u200b\u200b\u200b\u200b\u200b\u200b\u200b\u200b\u200b\u200b\u200b\u200b\u00ad\u0007\u0007","durationMinutes":30}""")]
    [InlineData("""{"reason":"Child\u0000reported\u0000missing\u0000from\u0000care","durationMinutes":30}""")] // 20 without the NULs, but one word
    [InlineData("""{"reason":"Reportedmissingfromplacement","durationMinutes":30}""")] // one word
    [InlineData("""{"reason":"Missing overnight. 1234567890","durationMinutes":30}""")] // two words and digits
    [InlineData("""{"reason":"a b c ....................","durationMinutes":30}""")] // three words
    [InlineData("""{"reason":"Reported missing from placement overnight","durationMinutes":61}""")]
    [InlineData("""{"reason":"Reported missing from placement overnight","durationMinutes":0}""")]
    [InlineData("""{"reason":"Reported missing from placement overnight"}""")]
    public async Task ABadRequestIsRefusedAndGrantsNothing(string body)
    {
        var childId = await PlacedChildAsync();
        var response = await Lewisham().PostAsync($"/v1/children/{childId}/break-glass", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
        await Problem.AssertAsync(response, HttpStatusCode.BadRequest, "break-glass-invalid");
        await Problem.AssertAsync(await Lewisham().GetAsync($"/v1/children/{childId}/placements"), HttpStatusCode.Forbidden, "break-glass-required");
    }

    [Theory]
    [InlineData("Police report the child missing overnight")]
    [InlineData("Enfant disparu depuis hier soir, police informée")] // letters of any language
    [InlineData("A b c d and more words here")]
    public async Task AWrittenReasonOfFourWordsAndTwentyCharactersOpensAGrant(string reason)
    {
        var childId = await PlacedChildAsync();
        var response = await Lewisham().PostAsJsonAsync($"/v1/children/{childId}/break-glass", new { reason, durationMinutes = 5 });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    [Fact]
    public async Task OnlyTheRolesAndPurposeThePolicyAllowsMayBreakTheGlass()
    {
        var childId = await PlacedChildAsync();
        var body = new { reason = Reason, durationMinutes = 10 };
        await Problem.AssertAsync(await Lewisham("pep-review").PostAsJsonAsync($"/v1/children/{childId}/break-glass", body), HttpStatusCode.Forbidden, "purpose-not-permitted");
        await Problem.AssertAsync(await api.WithToken(api.Issuer.Token("school:100002", "school-mis"), "safeguarding").PostAsJsonAsync($"/v1/children/{childId}/break-glass", body),
            HttpStatusCode.Forbidden, "forbidden");
        await Problem.AssertAsync(await api.WithToken(api.Issuer.Token("health:ZZ901", "lac-nurse"), "safeguarding").PostAsJsonAsync($"/v1/children/{childId}/break-glass", body),
            HttpStatusCode.Forbidden, "forbidden");
        await Problem.AssertAsync(await api.WithToken(api.Issuer.Token("operator:exchange", "dpo"), "safeguarding").PostAsJsonAsync($"/v1/children/{childId}/break-glass", body),
            HttpStatusCode.Forbidden, "forbidden");
        await Problem.AssertAsync(await Lewisham().PostAsJsonAsync("/v1/children/ch_00000000000000000000000000/break-glass", body), HttpStatusCode.NotFound, "child-not-found");

        // Social workers may, as the policy says.
        Assert.Equal(HttpStatusCode.Created, (await Lewisham(role: "social-worker").PostAsJsonAsync($"/v1/children/{childId}/break-glass", body)).StatusCode);
        Assert.Contains(await api.EventsAsync($"childId={childId}&decision=deny"), e => e.GetProperty("action").GetString() == "break-glass.open"
            && e.GetProperty("actor").GetProperty("org").GetString() == "school:100002");
    }

    [Fact]
    public async Task TheChildsFactsAndGrantsFollowAMergeToTheSurvivor()
    {
        var (nhs, upn) = (TestIdentifiers.NewNhs(), TestIdentifiers.NewUpn());
        var survivor = await Problem.ChildIdAsync(await api.Council202.RegisterAsync(new { nhsNumber = nhs }), HttpStatusCode.Created);
        var merged = await Problem.ChildIdAsync(await api.Council202.RegisterAsync(new { upn }), HttpStatusCode.Created);
        Assert.Equal(HttpStatusCode.Created, (await api.Council202.PostAsJsonAsync($"/v1/children/{merged}/placements", new { la = "202", startDate = "2025-10-01" })).StatusCode);
        var opened = await Lewisham().PostAsJsonAsync($"/v1/children/{merged}/break-glass", new { reason = Reason, durationMinutes = 30 });
        var grantId = JsonDocument.Parse(await opened.Content.ReadAsStringAsync()).RootElement.GetProperty("grantId").GetString();

        var conflict = await Problem.AssertAsync(await api.Council209.ResolveAsync(new { nhsNumber = nhs, upn }), HttpStatusCode.Conflict, "identity-conflict");
        var merge = await api.Admin.PostAsJsonAsync($"/v1/identity-reviews/{conflict.GetProperty("reviewId").GetString()}/merge", new { survivorChildId = survivor });
        Assert.Equal(HttpStatusCode.OK, merge.StatusCode);

        // The placement recorded on the merged id is the survivor's now, for its council and under the moved grant.
        Assert.Equal(1, JsonDocument.Parse(await api.Council202.GetStringAsync($"/v1/children/{survivor}/placements")).RootElement.GetProperty("items").GetArrayLength());
        Assert.Equal(HttpStatusCode.OK, (await Lewisham().GetAsync($"/v1/children/{survivor}/placements")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await Lewisham().GetAsync($"/v1/children/{merged}/placements")).StatusCode);
        var alert = Assert.Single(await AlertsAsync("la:202"), a => a.GetProperty("grantId").GetString() == grantId);
        Assert.Equal(survivor, alert.GetProperty("childId").GetString());
        Assert.Equal(Reason, alert.GetProperty("reason").GetString());
    }

    private async Task<List<JsonElement>> AlertsAsync(string dpoOrg)
    {
        var response = await api.DpoOf(dpoOrg).GetAsync("/v1/audit/alerts?limit=200");
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        return JsonDocument.Parse(body).RootElement.GetProperty("items").EnumerateArray().Select(e => e.Clone()).ToList();
    }
}
