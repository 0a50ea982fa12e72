using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Exchange.Api.Tests.Infrastructure;

namespace Exchange.Api.Tests.AuditReview;

/// <summary>
/// The permanent audit log names a child only by an id the service resolved: a caller's route value or body field,
/// whatever it looks like, is never written into it (its own fixture: other tests read every deny event).
/// </summary>
public sealed class AuditUnrecognisedChildTests(ExchangeApiFactory api) : IClassFixture<ExchangeApiFactory>
{
    [Fact]
    public async Task ARouteValueNamesAChildInTheAuditLogOnlyOnceItIsResolvedToARegisteredChild()
    {
        // Shaped like a child id, but holding an NHS number: no caller, signed in or not, writes it into the permanent log.
        const string smuggled = "ch_9991000291zzzzzzzzzzzzzzzz";
        const string smuggledInBody = "ch_9991000283zzzzzzzzzzzzzzzz";
        var anonymous = api.WithToken(null);
        await Problem.AssertAsync(await anonymous.GetAsync($"/v1/children/{smuggled}/placements"), HttpStatusCode.Unauthorized, "unauthenticated");
        await Problem.AssertAsync(await anonymous.PostAsync($"/v1/children/{smuggled}/erase", null), HttpStatusCode.Unauthorized, "unauthenticated");
        await Problem.AssertAsync(await api.Council202.GetAsync($"/v1/children/{smuggled}"), HttpStatusCode.NotFound, "child-not-found");
        var dpo = api.WithToken(api.Issuer.Token("operator:exchange", "dpo"), "subject-access");
        await Problem.AssertAsync(await dpo.GetAsync($"/v1/children/{smuggled}/subject-access-export"), HttpStatusCode.NotFound, "child-not-found");
        await Problem.AssertAsync(await api.Council202.PostAsJsonAsync("/v1/enrolments", new { childId = smuggledInBody, urn = "100002", startDate = "2025-10-02" }),
            HttpStatusCode.NotFound, "child-not-found");

        var leaves = await LeavesAsync();
        Assert.DoesNotContain(leaves, l => l.Contains("9991000291", StringComparison.Ordinal) || l.Contains("9991000283", StringComparison.Ordinal));
        var denied = await api.EventsAsync("decision=deny");
        var unrecognised = denied.Where(e => e.GetProperty("child_unrecognised").GetBoolean()).ToList();
        Assert.Contains(unrecognised, e => e.GetProperty("action").GetString() == "placement.list" && e.GetProperty("status").GetInt32() == 401);
        Assert.Contains(unrecognised, e => e.GetProperty("action").GetString() == "child.erase" && e.GetProperty("status").GetInt32() == 401);
        Assert.Contains(unrecognised, e => e.GetProperty("action").GetString() == "child.read" && e.GetProperty("status").GetInt32() == 404);
        Assert.Contains(unrecognised, e => e.GetProperty("action").GetString() == "child.subject-access-export" && e.GetProperty("status").GetInt32() == 404);
        Assert.Contains(unrecognised, e => e.GetProperty("action").GetString() == "enrolment.record" && e.GetProperty("status").GetInt32() == 404);
        Assert.All(unrecognised, e => Assert.Equal(JsonValueKind.Null, e.GetProperty("child_id").ValueKind));

        // A registered child the caller may not see is still named: the id is ours, not the caller's text.
        var childId = await Problem.ChildIdAsync(await api.Council202.RegisterAsync(new { nhsNumber = TestIdentifiers.NewNhs() }), HttpStatusCode.Created);
        await Problem.AssertAsync(await api.Council209.GetAsync($"/v1/children/{childId}"), HttpStatusCode.NotFound, "child-not-found");
        var refused = Assert.Single(await api.EventsAsync($"childId={childId}&decision=deny"));
        Assert.False(refused.GetProperty("child_unrecognised").GetBoolean());
    }

    private async Task<List<string>> LeavesAsync()
    {
        var note = await (await api.DpoOf().GetAsync("/v1/audit/checkpoint")).Content.ReadAsStringAsync();
        var size = long.Parse(note.Split('\n')[1], System.Globalization.CultureInfo.InvariantCulture);
        var body = await (await api.DpoOf().GetAsync($"/v1/audit/entries?start=0&end={size}")).Content.ReadAsStringAsync();
        return JsonDocument.Parse(body).RootElement.GetProperty("entries").EnumerateArray()
            .Select(e => Encoding.UTF8.GetString(Convert.FromBase64String(e.GetProperty("leaf").GetString()!))).ToList();
    }
}
