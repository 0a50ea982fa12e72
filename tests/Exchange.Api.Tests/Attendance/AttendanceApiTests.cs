using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Exchange.Api.Tests.AuditReview;
using Exchange.Api.Tests.Infrastructure;
using Exchange.Api.Tests.RollCheck;

namespace Exchange.Api.Tests.Attendance;

/// <summary>
/// A school's MIS sends attendance marks, a council reads them and their summary: per-mark refusals, idempotent
/// retries, JSON and CSV, corrections kept as history, and who sees what.
/// </summary>
public abstract class AttendanceApiTestsBase<TFactory>(TFactory api) where TFactory : ExchangeApiFactory
{
    private const string Period = "from=2026-09-01&to=2027-08-31";

    /// <summary>A school of its own with a pupil in Camden's care since 2025-09-01, enrolled there by Camden from the same day.</summary>
    private async Task<(string Org, HttpClient Mis, string ChildId)> PupilAsync()
    {
        var (org, mis) = await api.NewSchoolAsync();
        var child = await api.RegisterChildAsync(new { upn = TestIdentifiers.NewUpn() });
        var enrolled = await api.Council202.PostAsJsonAsync("/v1/enrolments", new { childId = child, urn = org[7..], startDate = "2025-09-01" });
        Assert.Equal(HttpStatusCode.Created, enrolled.StatusCode);
        return (org, mis, child);
    }

    private static async Task<(HttpStatusCode Status, JsonElement Body)> SendAsync(HttpClient mis, string body, string key, string mediaType = "application/json")
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/attendance") { Content = new StringContent(body, Encoding.UTF8, mediaType) };
        request.Headers.Add("Idempotency-Key", key);
        var response = await mis.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, JsonDocument.Parse(text).RootElement.Clone());
    }

    private static string Json(params object[] marks) => JsonSerializer.Serialize(new { marks });

    private static object Mark(string childId, string date, string session, string code, int? minutesLate = null) =>
        minutesLate is { } m ? new { childId, date, session, code, minutesLate = m } : new { childId, date, session, code };

    private static string NewKey() => Guid.NewGuid().ToString();

    private async Task<JsonElement> CouncilReadsAsync(string childId, string path) =>
        JsonDocument.Parse(await api.WithToken(api.Issuer.Token("la:202", ["virtual-school"]), "attendance-monitoring").GetStringAsync($"/v1/children/{childId}/{path}")).RootElement;

    [SkippableFact]
    public async Task TheSummaryCountsEveryKindOfCodeAsTheDfeDoesAndACorrectionReplacesTheMark()
    {
        var (_, mis, child) = await PupilAsync();
        var (status, first) = await SendAsync(mis, Json(
            Mark(child, "2026-11-02", "AM", "/"), Mark(child, "2026-11-02", "PM", "\\"),
            Mark(child, "2026-11-03", "AM", "L", 10), Mark(child, "2026-11-03", "PM", "U", 40),
            Mark(child, "2026-11-04", "AM", "C"), Mark(child, "2026-11-04", "PM", "N"),
            Mark(child, "2026-11-05", "AM", "D"), Mark(child, "2026-11-05", "PM", "X"),
            Mark(child, "2026-11-06", "AM", "Y1"), Mark(child, "2026-11-06", "PM", "#"),
            Mark(child, "2026-11-09", "AM", "K"), Mark(child, "2026-11-09", "PM", "G")), NewKey());
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(12, first.GetProperty("accepted").GetInt32());
        Assert.Equal(0, first.GetProperty("rejected").GetArrayLength());

        // The N of 4 November is corrected to M (authorised medical appointment); the same / again changes nothing.
        var (_, correction) = await SendAsync(mis, Json(Mark(child, "2026-11-04", "PM", "M"), Mark(child, "2026-11-02", "AM", "/")), NewKey());
        Assert.Equal(1, correction.GetProperty("replaced").GetInt32());
        Assert.Equal(1, correction.GetProperty("unchanged").GetInt32());

        // Hand-computed: attended /, \, L, K = 4; authorised C, M = 2; unauthorised U (after the register closed), G = 2;
        // D, X, Y1 and # are not possible sessions. Possible 8, rate 50.0%, absence 4 of 8: persistent and severe.
        var summary = await CouncilReadsAsync(child, "attendance/summary?" + Period);
        Assert.Equal(8, summary.GetProperty("possibleSessions").GetInt32());
        Assert.Equal(4, summary.GetProperty("attendedSessions").GetInt32());
        Assert.Equal(2, summary.GetProperty("authorisedAbsence").GetInt32());
        Assert.Equal(2, summary.GetProperty("unauthorisedAbsence").GetInt32());
        Assert.Equal(50.0m, summary.GetProperty("attendanceRate").GetDecimal());
        Assert.True(summary.GetProperty("persistentAbsence").GetBoolean());
        Assert.True(summary.GetProperty("severeAbsence").GetBoolean());

        var history = (await CouncilReadsAsync(child, "attendance?history=true&" + Period)).GetProperty("items").EnumerateArray()
            .Where(m => m.GetProperty("date").GetString() == "2026-11-04" && m.GetProperty("session").GetString() == "PM").ToList();
        Assert.Equal(["N", "M"], history.Select(m => m.GetProperty("code").GetString()));
        Assert.NotEqual(JsonValueKind.Null, history[0].GetProperty("replacedAt").ValueKind);
        Assert.Equal(JsonValueKind.Null, history[1].GetProperty("replacedAt").ValueKind);
        var current = (await CouncilReadsAsync(child, "attendance?" + Period)).GetProperty("items");
        Assert.Equal(12, current.GetArrayLength());
        Assert.Equal(40, current.EnumerateArray().Single(m => m.GetProperty("code").GetString() == "U").GetProperty("minutesLate").GetInt32());
    }

    [SkippableFact]
    public async Task ARetryWithTheSameKeyReturnsTheFirstAnswerAndStoresNothingTwice()
    {
        var (_, mis, child) = await PupilAsync();
        var key = NewKey();
        var body = Json(Mark(child, "2026-11-02", "AM", "/"), Mark(child, "2026-11-02", "PM", "N"));

        var (_, first) = await SendAsync(mis, body, key);
        var (status, again) = await SendAsync(mis, body, key);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(first.GetRawText(), again.GetRawText());
        Assert.Equal(2, (await CouncilReadsAsync(child, "attendance?history=true&" + Period)).GetProperty("items").GetArrayLength());

        var (reused, problem) = await SendAsync(mis, Json(Mark(child, "2026-11-02", "PM", "C")), key);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, reused);
        Assert.EndsWith("/idempotency-key-reused", problem.GetProperty("type").GetString(), StringComparison.Ordinal);
        Assert.Equal("N", (await CouncilReadsAsync(child, "attendance?" + Period)).GetProperty("items")[1].GetProperty("code").GetString());
    }

    [SkippableFact]
    public async Task ABatchWithoutAnIdempotencyKeyIsRefusedWhole()
    {
        var (_, mis, child) = await PupilAsync();
        var response = await mis.PostAsync("/v1/attendance", new StringContent(Json(Mark(child, "2026-11-02", "AM", "/")), Encoding.UTF8, "application/json"));
        await Problem.AssertAsync(response, HttpStatusCode.BadRequest, "idempotency-key-missing");
        Assert.Equal(0, (await CouncilReadsAsync(child, "attendance?" + Period)).GetProperty("items").GetArrayLength());
    }

    [SkippableFact]
    public async Task ASchoolWithoutAnIntegrationSendsTheSameMarksAsCsv()
    {
        var (_, mis, child) = await PupilAsync();
        var csv = "\uFEFFchildId,date,session,code,minutesLate\r\n"
            + $"{child},2026-11-02,AM,/,\r\n"
            + $"\"{child}\",2026-11-02,PM,L,15\r\n"
            + $"{child},2026-11-03,AM,\"N, no reason\",\r\n"
            + $"{child},2026-11-03,PM,H,\r\n";

        var (status, answer) = await SendAsync(mis, csv, NewKey(), "text/csv");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(4, answer.GetProperty("received").GetInt32());
        Assert.Equal(2, answer.GetProperty("accepted").GetInt32());
        var rejected = answer.GetProperty("rejected").EnumerateArray().ToList();
        Assert.Equal([4, 5], rejected.Select(r => r.GetProperty("line").GetInt32()));
        Assert.Equal(["attendance-code-unknown", "attendance-code-withdrawn"], rejected.Select(r => r.GetProperty("type").GetString()));
        Assert.Contains("use C", rejected[1].GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(15, (await CouncilReadsAsync(child, "attendance?" + Period)).GetProperty("items")[1].GetProperty("minutesLate").GetInt32());

        var (wrongHeader, problem) = await SendAsync(mis, "child,date,session,code\r\nx,2026-11-02,AM,/\r\n", NewKey(), "text/csv");
        Assert.Equal(HttpStatusCode.BadRequest, wrongHeader);
        Assert.EndsWith("/csv-header", problem.GetProperty("type").GetString(), StringComparison.Ordinal);
    }

    public static TheoryData<string, string, string> BadMarks() => new()
    {
        { "unknown code", """{"date":"2026-11-02","session":"AM","code":"Q9"}""", "attendance-code-unknown" },
        { "lower-case code", """{"date":"2026-11-02","session":"AM","code":"n"}""", "attendance-code-unknown" },
        { "old code H", """{"date":"2026-11-02","session":"AM","code":"H"}""", "attendance-code-withdrawn" },
        { "old code J", """{"date":"2026-11-02","session":"AM","code":"J"}""", "attendance-code-withdrawn" },
        { "bare Y", """{"date":"2026-11-02","session":"AM","code":"Y"}""", "attendance-code-withdrawn" },
        { "evening session", """{"date":"2026-11-02","session":"EV","code":"N"}""", "attendance-session" },
        { "morning code in the afternoon", """{"date":"2026-11-02","session":"PM","code":"/"}""", "attendance-session" },
        { "impossible date", """{"date":"2026-02-30","session":"AM","code":"N"}""", "attendance-date" },
        { "not a date", """{"date":"02/11/2026","session":"AM","code":"N"}""", "attendance-date" },
        { "future date", """{"date":"2099-01-05","session":"AM","code":"N"}""", "attendance-date" },
        { "before the enrolment", """{"date":"2025-08-29","session":"AM","code":"N"}""", "attendance-not-enrolled" },
        { "minutes late on a present mark", """{"date":"2026-11-02","session":"AM","code":"/","minutesLate":5}""", "attendance-minutes-late" },
        { "minutes late out of range", """{"date":"2026-11-02","session":"AM","code":"L","minutesLate":301}""", "attendance-minutes-late" },
        { "session as a number", """{"date":"2026-11-02","session":1,"code":"N"}""", "mark-invalid" },
        { "an NHS number for the child", """{"childId":"9434765919","date":"2026-11-02","session":"AM","code":"N"}""", "validation-failed" },
        { "an unknown child", """{"childId":"ch_00000000000000000000000000","date":"2026-11-02","session":"AM","code":"N"}""", "child-not-found" },
    };

    [SkippableTheory]
    [MemberData(nameof(BadMarks))]
    public async Task ABadMarkIsRejectedWithItsIndexAndTheGoodOneBesideItIsStored(string why, string mark, string type)
    {
        var (_, mis, child) = await PupilAsync();
        var bad = mark.Contains("childId", StringComparison.Ordinal) ? mark : mark.Replace("{", $"{{\"childId\":\"{child}\",", StringComparison.Ordinal);
        var body = $$"""{"marks":[{"childId":"{{child}}","date":"2026-11-03","session":"AM","code":"/"},{{bad}}]}""";

        var (status, answer) = await SendAsync(mis, body, NewKey());

        Assert.True(status == HttpStatusCode.OK, why);
        Assert.Equal(1, answer.GetProperty("accepted").GetInt32());
        var rejected = Assert.Single(answer.GetProperty("rejected").EnumerateArray());
        Assert.Equal(1, rejected.GetProperty("index").GetInt32());
        Assert.Equal(type, rejected.GetProperty("type").GetString());
        Assert.DoesNotContain("9434765919", answer.GetRawText(), StringComparison.Ordinal);
        Assert.Single((await CouncilReadsAsync(child, "attendance?from=2025-09-01&to=2026-08-31")).GetProperty("items").EnumerateArray().Concat(
            (await CouncilReadsAsync(child, "attendance?" + Period)).GetProperty("items").EnumerateArray()));
    }

    [SkippableFact]
    public async Task MarksForAnotherSchoolsPupilOrAChildNoLongerInCareAreRejectedAndTheRestStored()
    {
        var (_, mis, child) = await PupilAsync();
        var (_, _, elsewhere) = await PupilAsync();
        var (_, sameSchoolMis, leftCare) = await PupilAsync();
        var episode = JsonDocument.Parse(await api.Council202.GetStringAsync($"/v1/children/{leftCare}")).RootElement.GetProperty("careEpisodes")[0].GetProperty("id").GetString();
        Assert.Equal(HttpStatusCode.OK, (await api.Council202.PostAsJsonAsync($"/v1/children/{leftCare}/care-episodes/{episode}/end", new { endDate = "2026-10-31" })).StatusCode);

        var (_, answer) = await SendAsync(mis, Json(Mark(child, "2026-11-02", "AM", "/"), Mark(elsewhere, "2026-11-02", "AM", "/")), NewKey());
        Assert.Equal("child-not-found", Assert.Single(answer.GetProperty("rejected").EnumerateArray()).GetProperty("type").GetString());
        Assert.Equal(0, (await CouncilReadsAsync(elsewhere, "attendance?" + Period)).GetProperty("items").GetArrayLength());

        // The school still has the enrolment of the child who left care on 31 October: earlier marks are taken, later ones not.
        var (_, afterCare) = await SendAsync(sameSchoolMis, Json(Mark(leftCare, "2026-10-30", "AM", "/"), Mark(leftCare, "2026-11-02", "AM", "/")), NewKey());
        Assert.Equal(1, afterCare.GetProperty("accepted").GetInt32());
        Assert.Equal("attendance-not-in-care", Assert.Single(afterCare.GetProperty("rejected").EnumerateArray()).GetProperty("type").GetString());
    }

    [SkippableFact]
    public async Task ABatchOverTenThousandMarksIsRefusedWhole()
    {
        var (_, mis, child) = await PupilAsync();
        var marks = Enumerable.Range(0, 10_001).Select(_ => Mark(child, "2026-11-02", "AM", "/")).ToArray();

        var (status, problem) = await SendAsync(mis, Json(marks), NewKey());

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, status);
        Assert.EndsWith("/batch-too-large", problem.GetProperty("type").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, (await CouncilReadsAsync(child, "attendance?" + Period)).GetProperty("items").GetArrayLength());
    }

    [SkippableTheory]
    [InlineData("""{"marks":[]}""", "application/json", HttpStatusCode.BadRequest, "validation-failed")]
    [InlineData("""{"marks":{}}""", "application/json", HttpStatusCode.BadRequest, "validation-failed")]
    [InlineData("""{"marks":[""", "application/json", HttpStatusCode.BadRequest, "malformed-json")]
    [InlineData("""<marks/>""", "application/xml", HttpStatusCode.UnsupportedMediaType, "unsupported-media-type")]
    [InlineData("childId,date,session,code\r\n", "text/csv", HttpStatusCode.BadRequest, "validation-failed")]
    [InlineData("", "text/csv", HttpStatusCode.BadRequest, "csv-header")]
    public async Task ABodyThatIsNotABatchIsRefusedWhole(string body, string mediaType, HttpStatusCode status, string code)
    {
        var (_, mis, _) = await PupilAsync();
        var (answered, problem) = await SendAsync(mis, body, NewKey(), mediaType);
        Assert.Equal(status, answered);
        Assert.EndsWith("/" + code, problem.GetProperty("type").GetString(), StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task EachChildOfABatchHasItsOwnEventAndTheBatchOneWithItsSize()
    {
        var (org, mis, child) = await PupilAsync();
        var second = await api.RegisterChildAsync(new { upn = TestIdentifiers.NewUpn() });
        Assert.Equal(HttpStatusCode.Created, (await api.Council202.PostAsJsonAsync("/v1/enrolments", new { childId = second, urn = org[7..], startDate = "2025-09-01" })).StatusCode);

        var (_, answer) = await SendAsync(mis, Json(Mark(child, "2026-11-02", "AM", "/"), Mark(child, "2026-11-02", "PM", "\\"), Mark(second, "2026-11-02", "AM", "N")), NewKey());
        Assert.Equal(3, answer.GetProperty("accepted").GetInt32());

        var events = await api.EventsOfAsync($"org={org}", "attendance.record");
        var batch = Assert.Single(events, e => e.GetProperty("child_id").ValueKind == JsonValueKind.Null);
        Assert.Equal(3, batch.GetProperty("count").GetInt32());
        Assert.Equal("school-mis-own-pupils", batch.GetProperty("rule").GetString());
        Assert.Equal(new[] { child, second }.Order(StringComparer.Ordinal),
            events.Where(e => e.GetProperty("child_id").ValueKind == JsonValueKind.String).Select(e => e.GetProperty("child_id").GetString()!).Order(StringComparer.Ordinal));
    }

    [SkippableFact]
    public async Task NothingOfABatchIsStoredWhenItsEventsCannotBeRecordedAndTheRetryThenWorks()
    {
        var (_, mis, child) = await PupilAsync();
        var key = NewKey();
        var body = Json(Mark(child, "2026-11-02", "AM", "/"), Mark(child, "2026-11-02", "PM", "N"));
        await api.BreakAuditStoreAsync();
        try
        {
            var (status, _) = await SendAsync(mis, body, key);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        }
        finally
        {
            await api.RepairAuditStoreAsync();
        }

        Assert.Equal(0, (await CouncilReadsAsync(child, "attendance?history=true&" + Period)).GetProperty("items").GetArrayLength());
        var (retried, answer) = await SendAsync(mis, body, key);
        Assert.Equal(HttpStatusCode.OK, retried);
        Assert.Equal(2, answer.GetProperty("accepted").GetInt32());
    }

    [SkippableFact]
    public async Task ASchoolSeesItsOwnMarksTheCouncilEverySchoolsTheSocialWorkerOnlyTheSummary()
    {
        var (org, mis, child) = await PupilAsync();
        var (other, otherMis) = await api.NewSchoolAsync();
        Assert.Equal(HttpStatusCode.Created, (await api.Council202.PostAsJsonAsync("/v1/enrolments", new { childId = child, urn = other[7..], startDate = "2025-09-01" })).StatusCode);
        await SendAsync(mis, Json(Mark(child, "2026-11-02", "AM", "/")), NewKey());
        await SendAsync(otherMis, Json(Mark(child, "2026-11-02", "PM", "D")), NewKey());

        var own = JsonDocument.Parse(await mis.GetStringAsync($"/v1/children/{child}/attendance?{Period}")).RootElement.GetProperty("items");
        Assert.Equal([org], own.EnumerateArray().Select(m => m.GetProperty("recordedBy").GetString()));
        var all = (await CouncilReadsAsync(child, "attendance?" + Period)).GetProperty("items");
        Assert.Equal(new[] { org, other }.Order(StringComparer.Ordinal), all.EnumerateArray().Select(m => m.GetProperty("recordedBy").GetString()!).Order(StringComparer.Ordinal));

        var socialWorker = api.WithToken(api.Issuer.Token("la:202", ["social-worker"]), "attendance-monitoring");
        Assert.Equal(HttpStatusCode.Forbidden, (await socialWorker.GetAsync($"/v1/children/{child}/attendance?{Period}")).StatusCode);
        var summary = JsonDocument.Parse(await socialWorker.GetStringAsync($"/v1/children/{child}/attendance/summary?{Period}")).RootElement;
        Assert.Equal(1, summary.GetProperty("possibleSessions").GetInt32()); // the D at the other school is not a possible session
        Assert.Equal(HttpStatusCode.Forbidden, (await mis.GetAsync($"/v1/children/{child}/attendance/summary?{Period}")).StatusCode);

        var stranger = api.WithToken(api.Issuer.Token("la:209", ["virtual-school"]), "attendance-monitoring");
        await Problem.AssertAsync(await stranger.GetAsync($"/v1/children/{child}/attendance"), HttpStatusCode.NotFound, "child-not-found");
        foreach (var (org2, role) in new[] { ("la:202", "virtual-school"), ("school:100001", "designated-teacher"), ("health:ZZ901", "lac-nurse") })
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/attendance") { Content = new StringContent(Json(Mark(child, "2026-11-02", "AM", "N")), Encoding.UTF8, "application/json") };
            request.Headers.Add("Idempotency-Key", NewKey());
            var refused = await api.WithToken(api.Issuer.Token(org2, [role]), "attendance-monitoring").SendAsync(request);
            Assert.True(refused.StatusCode == HttpStatusCode.Forbidden, $"{org2} {role}: {(int)refused.StatusCode}");
        }
    }

    [SkippableTheory]
    [InlineData("from=2026-13-01")]
    [InlineData("from=2026-11-01&to=2026-10-01")]
    [InlineData("from=2024-09-01&to=2026-08-31")]
    public async Task AnImpossiblePeriodIsRefused(string query)
    {
        var (_, _, child) = await PupilAsync();
        var council = api.WithToken(api.Issuer.Token("la:202", ["virtual-school"]), "attendance-monitoring");
        await Problem.AssertAsync(await council.GetAsync($"/v1/children/{child}/attendance/summary?{query}"), HttpStatusCode.BadRequest, "attendance-query-invalid");
    }
}

public sealed class SqliteAttendanceApiTests(ExchangeApiFactory api) : AttendanceApiTestsBase<ExchangeApiFactory>(api), IClassFixture<ExchangeApiFactory>;

public sealed class PostgresAttendanceApiTests : AttendanceApiTestsBase<PostgresApiFactory>, IClassFixture<PostgresApiFactory>
{
    public PostgresAttendanceApiTests(PostgresApiFactory api) : base(api) => Postgres.SkipUnlessAvailable();
}
