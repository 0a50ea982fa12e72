using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Exchange.Api.Tests.Infrastructure;
using Exchange.Api.Tests.Policy;
using Exchange.Api.Tests.RollCheck;

namespace Exchange.Api.Tests.Events;

/// <summary>
/// The pull feed: each organisation reads, in order and page by page, the items about children the policy lets it be
/// told about, as soon as they happened; nobody else's; and every child it is told about is audited.
/// </summary>
public sealed class EventFeedTests(MovableTimeApiFactory api) : IClassFixture<MovableTimeApiFactory>
{
    private async Task<(List<JsonElement> Items, string Next, bool More)> PageAsync(HttpClient client, string? after = null, int? limit = null)
    {
        var query = string.Join('&', new[] { after is null ? null : "after=" + after, limit is null ? null : "limit=" + limit }.Where(q => q is not null));
        var response = await client.GetAsync("/v1/events" + (query.Length == 0 ? "" : "?" + query));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        var body = JsonDocument.Parse(text).RootElement.Clone();
        return (body.GetProperty("items").EnumerateArray().ToList(), body.GetProperty("next").GetString()!, body.GetProperty("more").GetBoolean());
    }

    /// <summary>Everything from the start of the feed, following next.</summary>
    private async Task<List<JsonElement>> AllAsync(HttpClient client)
    {
        var all = new List<JsonElement>();
        string? after = null;
        for (var more = true; more;)
        {
            (var items, after, more) = await PageAsync(client, after, 500);
            all.AddRange(items);
        }

        return all;
    }

    private static List<string> TypesFor(List<JsonElement> items, string child) =>
        items.Where(i => i.GetProperty("childId").GetString() == child).Select(i => i.GetProperty("type").GetString()!).ToList();

    [Fact]
    public async Task EachOrganisationIsToldOnlyWhatThePolicyLetsItKnowInOrderAsSoonAsItHappened()
    {
        api.Time.Offset = TimeSpan.Zero;
        var (org, mis, child) = await api.EnrolledPupilAsync();
        Assert.Equal(HttpStatusCode.Created, (await mis.PostAsJsonAsync($"/v1/children/{child}/exclusions",
            new { type = "suspension", startDate = RollCheckSupport.Today, sessions = 2, reasonCode = "DB" })).StatusCode);
        var teacher = api.WithToken(api.Issuer.Token(org, ["designated-teacher"]), "pep-review");
        var saved = await teacher.PutAsJsonAsync($"/v1/children/{child}/pep", new { meetingDate = RollCheckSupport.Today });
        Assert.Equal(HttpStatusCode.Created, saved.StatusCode);
        using (var submit = new HttpRequestMessage(HttpMethod.Post, $"/v1/children/{child}/pep/submit"))
        {
            submit.Headers.TryAddWithoutValidation("If-Match", "\"1\"");
            Assert.Equal(HttpStatusCode.OK, (await teacher.SendAsync(submit)).StatusCode);
        }

        // At once: an item shows as soon as its change has committed (items commit in the order of their numbers).
        var council = api.WithToken(api.Issuer.Token("la:202", ["virtual-school"]), "attendance-monitoring");
        var told = await AllAsync(council);
        Assert.Equal(["pupil-enrolled", "exclusion-recorded", "pep-submitted"], TypesFor(told, child));
        var item = told.First(i => i.GetProperty("childId").GetString() == child);
        Assert.Equal(["childId", "eventId", "occurredAt", "type"], item.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal).ToArray());

        // The school's MIS hears of its own exclusion, not of the enrolment or the plan; its designated teacher of the plan; others nothing.
        Assert.Equal(["exclusion-recorded"], TypesFor(await AllAsync(mis), child));
        Assert.Equal(["pep-submitted"], TypesFor(await AllAsync(teacher), child));
        Assert.Empty(TypesFor(await AllAsync(api.WithToken(api.Issuer.Token("la:209", ["virtual-school"]), "attendance-monitoring")), child));
        var (otherSchool, otherMis) = await api.NewSchoolAsync();
        Assert.Empty(TypesFor(await AllAsync(otherMis), child));
        Assert.Empty(TypesFor(await AllAsync(api.WithToken(api.Issuer.Token(otherSchool, ["designated-teacher"]), "pep-review")), child));

        // Every child the council was told about is named in an audit event of its own.
        var events = await api.EventsOfAsync($"childId={child}", "events.list");
        Assert.Contains(events, e => e.GetProperty("actor").GetProperty("org").GetString() == "la:202");
        Assert.DoesNotContain(events, e => e.GetProperty("actor").GetProperty("org").GetString() == "la:209");
    }

    [Fact]
    public async Task PagesFollowOneAnotherWithoutGapsOrRepeats()
    {
        api.Time.Offset = TimeSpan.Zero;
        var children = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var (_, mis, child) = await api.EnrolledPupilAsync();
            Assert.Equal(HttpStatusCode.Created, (await mis.PostAsJsonAsync($"/v1/children/{child}/exclusions",
                new { type = "suspension", startDate = RollCheckSupport.Today, sessions = 2, reasonCode = "PA" })).StatusCode);
            children.Add(child);
        }

        var council = api.WithToken(api.Issuer.Token("la:202", ["virtual-school"]), "attendance-monitoring");
        var everything = (await AllAsync(council)).Select(i => i.GetProperty("eventId").GetString()).ToList();
        var paged = new List<string?>();
        string? after = null;
        for (var more = true; more;)
        {
            (var items, after, more) = await PageAsync(council, after, 2);
            Assert.True(items.Count <= 2);
            paged.AddRange(items.Select(i => i.GetProperty("eventId").GetString()));
        }

        Assert.Equal(everything, paged);
        Assert.Equal(everything.Count, everything.Distinct().Count());
        var told = (await AllAsync(council)).Select(i => i.GetProperty("childId").GetString()).ToList();
        Assert.All(children, c => Assert.Contains(c, told));
        // Read to the end, the next page is empty and says so; the same cursor again gives the same empty page.
        var (last, next, lastMore) = await PageAsync(council, after);
        Assert.Equal((0, after, false), (last.Count, next, lastMore));
    }

    [Theory]
    [InlineData("after=-1", "events-cursor")]
    [InlineData("after=abc", "events-cursor")]
    [InlineData("after=99999999999999999999", "events-cursor")]
    [InlineData("limit=0", "events-limit")]
    [InlineData("limit=501", "events-limit")]
    [InlineData("limit=ten", "events-limit")]
    public async Task ABadCursorOrLimitIsRefusedWithItsCode(string query, string code)
    {
        var council = api.WithToken(api.Issuer.Token("la:202", ["virtual-school"]), "attendance-monitoring");
        await Problem.AssertAsync(await council.GetAsync("/v1/events?" + query), HttpStatusCode.BadRequest, code);
    }

    [Fact]
    public async Task NoTokenNoPurposeOrARoleWithoutARuleIsRefused()
    {
        Assert.Equal(HttpStatusCode.Unauthorized, (await api.CreateClient().GetAsync("/v1/events")).StatusCode);
        await Problem.AssertAsync(await api.WithToken(api.Issuer.Token("la:202", ["virtual-school"]), null).GetAsync("/v1/events"),
            HttpStatusCode.BadRequest, "purpose-of-use-missing");
        Assert.Equal(HttpStatusCode.Forbidden, (await api.WithToken(api.Issuer.Token("operator:exchange", ["exchange-admin"]), "attendance-monitoring").GetAsync("/v1/events")).StatusCode);
    }
}
