using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Exchange.Api.Tests.Infrastructure;
using Exchange.Api.Tests.Policy;
using Exchange.Api.Tests.RollCheck;

namespace Exchange.Api.Tests.Peps;

/// <summary>The due date a reader is given, on the service's clock: at a term's end, and after a change of school.</summary>
public sealed class PepDueDateTests(MovableTimeApiFactory api) : IClassFixture<MovableTimeApiFactory>
{
    private void Today(string date) =>
        api.Time.Offset = DateTimeOffset.Parse(date + "T12:00:00Z", System.Globalization.CultureInfo.InvariantCulture) - TimeProvider.System.GetUtcNow();

    private static async Task<JsonElement> JsonAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, text);
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    private static async Task<HttpResponseMessage> StepAsync(HttpClient client, HttpMethod method, string url, object? body, string? etag)
    {
        using var request = new HttpRequestMessage(method, url) { Content = body is null ? null : JsonContent.Create(body) };
        if (etag is not null)
        {
            request.Headers.TryAddWithoutValidation("If-Match", etag);
        }

        return await client.SendAsync(request);
    }

    [Fact]
    public async Task TheReviewFallsDueAtTheEndOfTheNextTermAndANewSchoolNeedsANewPlanWithinTenSchoolDays()
    {
        Today("2026-10-20");
        var (schoolA, _) = await api.NewSchoolAsync();
        var (schoolB, _) = await api.NewSchoolAsync();
        var child = await api.RegisterChildAsync(new { upn = TestIdentifiers.NewUpn() });
        var enrolment = await JsonAsync(await api.Council202.PostAsJsonAsync("/v1/enrolments", new { childId = child, urn = schoolA[7..], startDate = "2025-09-01" }));
        var teacher = api.WithToken(api.Issuer.Token(schoolA, ["designated-teacher"]), "pep-review");
        var council = api.WithToken(api.Issuer.Token("la:202", ["virtual-school"]), "pep-review");
        var url = $"/v1/children/{child}/pep";

        // No approved plan since entering care on 2025-09-01: due ten school days later, long overdue.
        var draft = await StepAsync(teacher, HttpMethod.Put, url, new { meetingDate = "2026-10-05" }, null);
        var first = await JsonAsync(draft);
        Assert.Equal(("2025-09-15", "entered-care", true),
            (first.GetProperty("reviewDue").GetString(), first.GetProperty("reviewDueReason").GetString(), first.GetProperty("overdue").GetBoolean()));

        var submitted = await StepAsync(teacher, HttpMethod.Post, url + "/submit", null, draft.Headers.ETag!.Tag);
        var approved = await JsonAsync(await StepAsync(council, HttpMethod.Post, url + "/approve", new { quality = "amber" }, submitted.Headers.ETag!.Tag));
        Assert.Equal(("2027-03-31", "termly-review", false),
            (approved.GetProperty("reviewDue").GetString(), approved.GetProperty("reviewDueReason").GetString(), approved.GetProperty("overdue").GetBoolean()));

        // A second school (dual registration) is not a change of school: the termly review stands.
        var (schoolC, _) = await api.NewSchoolAsync();
        Assert.Equal(HttpStatusCode.Created, (await api.Council202.PostAsJsonAsync("/v1/enrolments", new { childId = child, urn = schoolC[7..], startDate = "2026-10-19" })).StatusCode);
        Assert.Equal("termly-review", (await JsonAsync(await council.GetAsync(url))).GetProperty("reviewDueReason").GetString());

        // The last day of the spring term is still in time; the day after, the plan is overdue.
        Today("2027-03-31");
        Assert.False((await JsonAsync(await council.GetAsync(url))).GetProperty("overdue").GetBoolean());
        Today("2027-04-01");
        Assert.True((await JsonAsync(await council.GetAsync(url))).GetProperty("overdue").GetBoolean());

        // Back in December the child moves school: a new plan is due ten school days after the move, over Christmas.
        Today("2026-12-18");
        Assert.Equal(HttpStatusCode.OK, (await api.Council202.PostAsJsonAsync($"/v1/enrolments/{enrolment.GetProperty("id").GetString()}/end", new { endDate = "2026-12-11" })).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await api.Council202.PostAsJsonAsync("/v1/enrolments", new { childId = child, urn = schoolB[7..], startDate = "2026-12-14" })).StatusCode);
        var moved = await JsonAsync(await council.GetAsync(url));
        Assert.Equal(("2027-01-12", "changed-school", false),
            (moved.GetProperty("reviewDue").GetString(), moved.GetProperty("reviewDueReason").GetString(), moved.GetProperty("overdue").GetBoolean()));
    }
}
