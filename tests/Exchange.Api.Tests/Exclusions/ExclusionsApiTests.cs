using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Exchange.Api.Tests.Infrastructure;
using Exchange.Api.Tests.RollCheck;

namespace Exchange.Api.Tests.Exclusions;

/// <summary>
/// A school records a suspension or permanent exclusion; the responsible council reads every school's, a social worker
/// the facts without the school's words, a school only its own. Bad input is refused whole and stores nothing.
/// </summary>
public abstract class ExclusionsApiTestsBase<TFactory>(TFactory api) where TFactory : ExchangeApiFactory
{
    private const string Text = "Refused to follow staff instructions after the behaviour plan meeting.";

    private HttpClient VirtualSchool => api.WithToken(api.Issuer.Token("la:202", ["virtual-school"]), "attendance-monitoring");

    private HttpClient SocialWorker => api.WithToken(api.Issuer.Token("la:202", ["social-worker"]), "safeguarding");

    private Task<(string Org, HttpClient Mis, string ChildId)> PupilAsync(string? childId = null) => api.EnrolledPupilAsync(childId);

    private static object Suspension(string startDate = "2026-11-03", int sessions = 4, string reasonCode = "DB", string? reasonText = Text) =>
        reasonText is null ? new { type = "suspension", startDate, sessions, reasonCode } : new { type = "suspension", startDate, sessions, reasonCode, reasonText };

    private static async Task<JsonElement> ItemsAsync(HttpClient client, string childId)
    {
        var response = await client.GetAsync($"/v1/children/{childId}/exclusions");
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        return JsonDocument.Parse(body).RootElement.GetProperty("items").Clone();
    }

    private async Task<int> CountAsync(string table, string childId) =>
        Convert.ToInt32(await api.StoreScalarAsync($"SELECT COUNT(*) FROM {table} WHERE \"ChildId\" = '{childId}'"
            + (table == "outbox_items" ? " AND \"Type\" = 'exclusion-recorded'" : "")), CultureInfo.InvariantCulture);

    [SkippableFact]
    public async Task ASchoolRecordsASuspensionTheCouncilReadsItAllAndTheSocialWorkerWithoutTheSchoolsWords()
    {
        var (org, mis, child) = await PupilAsync();

        var created = await mis.PostAsJsonAsync($"/v1/children/{child}/exclusions", Suspension());
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var record = JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("suspension", record.GetProperty("type").GetString());
        Assert.Equal(4, record.GetProperty("sessions").GetInt32());
        Assert.Equal(Text, record.GetProperty("reasonText").GetString());

        // The council is told: one exclusion-recorded item in the outbox, written with the record.
        Assert.Equal(1, await CountAsync("outbox_items", child));

        var council = Assert.Single((await ItemsAsync(VirtualSchool, child)).EnumerateArray());
        Assert.Equal("DB", council.GetProperty("reasonCode").GetString());
        Assert.Equal(Text, council.GetProperty("reasonText").GetString());
        Assert.Equal(org, council.GetProperty("recordedBy").GetString());

        var social = Assert.Single((await ItemsAsync(SocialWorker, child)).EnumerateArray());
        Assert.Equal("2026-11-03", social.GetProperty("startDate").GetString());
        Assert.Equal("DB", social.GetProperty("reasonCode").GetString());
        Assert.False(social.TryGetProperty("reasonText", out _));
        Assert.False(social.TryGetProperty("recordedBy", out _));

        Assert.Single((await ItemsAsync(mis, child)).EnumerateArray());
        // The school's words are sealed: the plain text is nowhere in the row.
        var stored = await api.StoreScalarAsync($"SELECT \"SealedReasonText\" FROM exclusions WHERE \"ChildId\" = '{child}'");
        var bytes = Assert.IsType<byte[]>(stored);
        Assert.DoesNotContain("behaviour plan", Encoding.UTF8.GetString(bytes), StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task TheSameExclusionSentAgainIsTheOneHeldAndOtherDetailsForTheSameDayAreAConflict()
    {
        var (_, mis, child) = await PupilAsync();
        var first = await mis.PostAsJsonAsync($"/v1/children/{child}/exclusions", Suspension());
        var firstId = JsonDocument.Parse(await first.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString();

        var again = await mis.PostAsJsonAsync($"/v1/children/{child}/exclusions", Suspension());
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal(firstId, JsonDocument.Parse(await again.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString());

        await Problem.AssertAsync(await mis.PostAsJsonAsync($"/v1/children/{child}/exclusions", Suspension(sessions: 6)), HttpStatusCode.Conflict, "exclusion-exists");
        await Problem.AssertAsync(await mis.PostAsJsonAsync($"/v1/children/{child}/exclusions", Suspension(reasonText: "Other words.")), HttpStatusCode.Conflict, "exclusion-exists");
        Assert.Equal(1, await CountAsync("exclusions", child));
        Assert.Equal(1, await CountAsync("outbox_items", child));
    }

    [SkippableFact]
    public async Task APermanentExclusionEndsTheEnrolmentOnItsDate()
    {
        var (_, mis, child) = await PupilAsync();
        var created = await mis.PostAsJsonAsync($"/v1/children/{child}/exclusions", new { type = "permanent-exclusion", startDate = "2026-11-20", reasonCode = "OW" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal(JsonValueKind.Null, JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement.GetProperty("sessions").ValueKind);

        var enrolment = JsonDocument.Parse(await VirtualSchool.GetStringAsync($"/v1/children/{child}/enrolments")).RootElement.GetProperty("items")
            .EnumerateArray().Single();
        Assert.Equal("2026-11-20", enrolment.GetProperty("endDate").GetString());
        // The end keeps when it was recorded (an incremental cohort pull sees it, whatever its date).
        Assert.Equal(1, Convert.ToInt32(await api.StoreScalarAsync(
            $"SELECT COUNT(*) FROM child_relationships WHERE \"ChildId\" = '{child}' AND \"Kind\" = 'enrolled-school' AND \"EndedAt\" IS NOT NULL"), CultureInfo.InvariantCulture));

        // The school no longer holds the pupil: a mark for the day after is refused as for any child not on its roll.
        using var marks = new HttpRequestMessage(HttpMethod.Post, "/v1/attendance")
        {
            Content = JsonContent.Create(new { marks = new[] { new { childId = child, date = "2026-11-23", session = "AM", code = "/" } } }),
        };
        marks.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString());
        var refused = JsonDocument.Parse(await (await mis.SendAsync(marks)).Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(0, refused.GetProperty("accepted").GetInt32());
        Assert.Equal("child-not-found", refused.GetProperty("rejected")[0].GetProperty("type").GetString());
    }

    [SkippableFact]
    public async Task EveryRuleRefusesBadInputWithItsOwnTypeAndStoresNothing()
    {
        var (_, mis, child) = await PupilAsync();
        var tomorrow = DateOnly.FromDateTime(DateTime.UtcNow).AddDays(1).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        var cases = new (string Body, string Type)[]
        {
            ("""{"type":"fixed-period","startDate":"2026-11-03","sessions":2,"reasonCode":"DB"}""", "exclusion-type"),
            ("""{"type":"lunchtime","startDate":"2026-11-03","sessions":1,"reasonCode":"DB"}""", "exclusion-type"),
            ("""{"startDate":"2026-11-03","sessions":2,"reasonCode":"DB"}""", "exclusion-type"),
            ("""{"type":"suspension","startDate":"2026-02-30","sessions":2,"reasonCode":"DB"}""", "exclusion-date"),
            ("""{"type":"suspension","startDate":"03/11/2026","sessions":2,"reasonCode":"DB"}""", "exclusion-date"),
            ($$"""{"type":"suspension","startDate":"{{tomorrow}}","sessions":2,"reasonCode":"DB"}""", "exclusion-date"),
            ("""{"type":"suspension","startDate":"2026-11-03","reasonCode":"DB"}""", "exclusion-sessions"),
            ("""{"type":"suspension","startDate":"2026-11-03","sessions":0,"reasonCode":"DB"}""", "exclusion-sessions"),
            ("""{"type":"suspension","startDate":"2026-11-03","sessions":91,"reasonCode":"DB"}""", "exclusion-sessions"),
            ("""{"type":"permanent-exclusion","startDate":"2026-11-03","sessions":2,"reasonCode":"DB"}""", "exclusion-sessions"),
            ("""{"type":"suspension","startDate":"2026-11-03","sessions":2,"reasonCode":"XX"}""", "exclusion-reason-unknown"),
            ("""{"type":"suspension","startDate":"2026-11-03","sessions":2,"reasonCode":"db"}""", "exclusion-reason-unknown"),
            ("""{"type":"suspension","startDate":"2026-11-03","sessions":2}""", "exclusion-reason-unknown"),
            ("""{"type":"suspension","startDate":"2026-11-03","sessions":2,"reasonCode":"OT"}""", "exclusion-reason-withdrawn"),
            ("""{"type":"suspension","startDate":"2026-11-03","sessions":2,"reasonCode":"DB","reasonText":"   "}""", "exclusion-reason-text"),
            ("""{"type":"suspension","startDate":"2026-11-03","sessions":2,"reasonCode":"DB","reasonText":"bell\u0007"}""", "exclusion-reason-text"),
            ($$"""{"type":"suspension","startDate":"2026-11-03","sessions":2,"reasonCode":"DB","reasonText":"{{new string('a', 2001)}}"}""", "exclusion-reason-text"),
            ("""{"type":"suspension","startDate":"2026-11-03","sessions":2,"reasonCode":"DB","reasonText":null}""", "validation-failed"),
            ("""{"type":"suspension","startDate":"2026-11-03","sessions":"two","reasonCode":"DB"}""", "malformed-json"),
            // Before the enrolment at this school began.
            ("""{"type":"suspension","startDate":"2025-06-02","sessions":2,"reasonCode":"DB"}""", "exclusion-not-enrolled"),
        };

        foreach (var (body, type) in cases)
        {
            var response = await mis.PostAsync($"/v1/children/{child}/exclusions", new StringContent(body, Encoding.UTF8, "application/json"));
            await Problem.AssertAsync(response, HttpStatusCode.BadRequest, type);
        }

        Assert.Equal(0, await CountAsync("exclusions", child));
        Assert.Equal(0, await CountAsync("outbox_items", child));
    }

    [SkippableFact]
    public async Task OnlyTheEnrollingSchoolRecordsAndEachSchoolReadsOnlyItsOwn()
    {
        var (orgA, misA, child) = await PupilAsync();
        var (_, misB, _) = await PupilAsync(child); // dual registration: a second school enrols the same pupil
        var (_, misC) = await api.NewSchoolAsync();  // a school with no enrolment
        Assert.Equal(HttpStatusCode.Created, (await misA.PostAsJsonAsync($"/v1/children/{child}/exclusions", Suspension())).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await misB.PostAsJsonAsync($"/v1/children/{child}/exclusions", Suspension(startDate: "2026-11-10", reasonCode: "VA"))).StatusCode);

        var seenByA = Assert.Single((await ItemsAsync(misA, child)).EnumerateArray());
        Assert.Equal(orgA, seenByA.GetProperty("recordedBy").GetString());
        Assert.Equal("VA", Assert.Single((await ItemsAsync(misB, child)).EnumerateArray()).GetProperty("reasonCode").GetString());
        Assert.Equal(2, (await ItemsAsync(VirtualSchool, child)).GetArrayLength());

        // A school without the pupil learns nothing, whether it reads or writes; another council neither.
        await Problem.AssertAsync(await misC.PostAsJsonAsync($"/v1/children/{child}/exclusions", Suspension()), HttpStatusCode.NotFound, "child-not-found");
        await Problem.AssertAsync(await misC.GetAsync($"/v1/children/{child}/exclusions"), HttpStatusCode.NotFound, "child-not-found");
        await Problem.AssertAsync(await api.WithToken(api.Issuer.Token("la:209", ["virtual-school"]), "attendance-monitoring").GetAsync($"/v1/children/{child}/exclusions"),
            HttpStatusCode.NotFound, "child-not-found");
        // The responsible council reads them but does not record them: the school that excluded does.
        await Problem.AssertAsync(await VirtualSchool.PostAsJsonAsync($"/v1/children/{child}/exclusions", Suspension(startDate: "2026-11-12")), HttpStatusCode.Forbidden, "forbidden");
        Assert.Equal(2, await CountAsync("exclusions", child));

        // Every refusal left a deny event; each record a permit naming the child.
        var denied = await api.EventsOfAsync($"childId={child}&decision=deny", "exclusion.record");
        Assert.NotEmpty(denied);
        Assert.Equal(2, (await api.EventsOfAsync($"childId={child}&decision=permit", "exclusion.record")).Count(e => e.GetProperty("status").GetInt32() == 201));
    }

    [SkippableFact]
    public async Task AMergeBringsTheMergedChildsExclusionsAndMarksToTheSurvivorWithTheirWords()
    {
        var (nhs, upn) = (TestIdentifiers.NewNhs(), TestIdentifiers.NewUpn());
        var survivor = await api.RegisterChildAsync(new { nhsNumber = nhs });
        var merged = await api.RegisterChildAsync(new { upn });
        var (_, mis, _) = await PupilAsync(merged);
        Assert.Equal(HttpStatusCode.Created, (await mis.PostAsJsonAsync($"/v1/children/{merged}/exclusions", Suspension())).StatusCode);
        using (var marks = new HttpRequestMessage(HttpMethod.Post, "/v1/attendance")
        {
            Content = JsonContent.Create(new { marks = new[] { new { childId = merged, date = "2026-11-03", session = "AM", code = "E" } } }),
        })
        {
            marks.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString());
            Assert.Equal(HttpStatusCode.OK, (await mis.SendAsync(marks)).StatusCode);
        }

        var conflict = await Problem.AssertAsync(await api.Council209.ResolveAsync(new { nhsNumber = nhs, upn }), HttpStatusCode.Conflict, "identity-conflict");
        var merge = await api.Admin.PostAsJsonAsync($"/v1/identity-reviews/{conflict.GetProperty("reviewId").GetString()}/merge", new { survivorChildId = survivor });
        Assert.Equal(HttpStatusCode.OK, merge.StatusCode);

        var moved = Assert.Single((await ItemsAsync(VirtualSchool, survivor)).EnumerateArray());
        Assert.Equal(survivor, moved.GetProperty("childId").GetString());
        Assert.Equal(Text, moved.GetProperty("reasonText").GetString());
        var register = JsonDocument.Parse(await VirtualSchool.GetStringAsync($"/v1/children/{survivor}/attendance?from=2026-11-01&to=2026-11-30")).RootElement;
        Assert.Equal("E", Assert.Single(register.GetProperty("items").EnumerateArray()).GetProperty("code").GetString());
    }

    [SkippableFact]
    public async Task TheSubjectAccessExportHoldsTheSchoolsWordsUntilErasureShredsThem()
    {
        var (_, mis, child) = await PupilAsync();
        Assert.Equal(HttpStatusCode.Created, (await mis.PostAsJsonAsync($"/v1/children/{child}/exclusions", Suspension())).StatusCode);
        var dpo = api.WithToken(api.Issuer.Token("operator:exchange", "dpo"), "subject-access");
        var before = JsonDocument.Parse(await dpo.GetStringAsync($"/v1/children/{child}/subject-access-export")).RootElement;
        Assert.Equal(Text, Assert.Single(before.GetProperty("exclusions").EnumerateArray()).GetProperty("reasonText").GetString());
        Assert.Equal(HttpStatusCode.OK, (await dpo.PostAsync($"/v1/children/{child}/erase", null)).StatusCode);

        await Problem.AssertAsync(await VirtualSchool.GetAsync($"/v1/children/{child}/exclusions"), HttpStatusCode.Gone, "child-erased");
        await Problem.AssertAsync(await mis.PostAsJsonAsync($"/v1/children/{child}/exclusions", Suspension(startDate: "2026-11-04")), HttpStatusCode.Gone, "child-erased");
        // What is still held says only that there was an exclusion; its words cannot be opened without the shredded key.
        var export = JsonDocument.Parse(await dpo.GetStringAsync($"/v1/children/{child}/subject-access-export")).RootElement;
        var held = Assert.Single(export.GetProperty("exclusions").EnumerateArray());
        Assert.Equal("DB", held.GetProperty("reasonCode").GetString());
        Assert.Equal(JsonValueKind.Null, held.GetProperty("reasonText").ValueKind);
        Assert.DoesNotContain("behaviour plan", export.GetRawText(), StringComparison.Ordinal);
    }
}

public sealed class SqliteExclusionsApiTests(ExchangeApiFactory api) : ExclusionsApiTestsBase<ExchangeApiFactory>(api), IClassFixture<ExchangeApiFactory>;

public sealed class PostgresExclusionsApiTests : ExclusionsApiTestsBase<PostgresApiFactory>, IClassFixture<PostgresApiFactory>
{
    public PostgresExclusionsApiTests(PostgresApiFactory api) : base(api) => Postgres.SkipUnlessAvailable();
}
