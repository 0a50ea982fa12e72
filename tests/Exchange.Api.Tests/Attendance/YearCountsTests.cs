using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Exchange.Api.Attendance;
using Exchange.Api.Storage;
using Exchange.Api.Tests.Infrastructure;
using Exchange.Api.Tests.RollCheck;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Exchange.Api.Tests.Attendance;

/// <summary>
/// The running counts of each child's marks per school, year and code (what the cohort and the checks read instead of a
/// year of marks) stay equal to a count of the current marks through batches, corrections, a merge and an erasure.
/// </summary>
public abstract class YearCountsTestsBase<TFactory>(TFactory api) where TFactory : ExchangeApiFactory
{
    private async Task<(string Org, HttpClient Mis, string ChildId)> PupilAsync(string? child = null)
    {
        var (org, mis) = await api.NewSchoolAsync();
        child ??= await api.RegisterChildAsync(new { upn = TestIdentifiers.NewUpn() });
        var enrolled = await api.Council202.PostAsJsonAsync("/v1/enrolments", new { childId = child, urn = org[7..], startDate = "2025-09-01" });
        Assert.Equal(HttpStatusCode.Created, enrolled.StatusCode);
        return (org, mis, child);
    }

    private static async Task<JsonElement> SendAsync(HttpClient mis, params (string Child, string Date, string Session, string Code)[] marks)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/attendance")
        {
            Content = JsonContent.Create(new { marks = marks.Select(m => new { childId = m.Child, date = m.Date, session = m.Session, code = m.Code }) }),
        };
        request.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString());
        var response = await mis.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        Assert.True(JsonDocument.Parse(text).RootElement.GetProperty("rejected").GetArrayLength() == 0, text);
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    private async Task<(List<AttendanceMark> Marks, List<AttendanceYearCount> Counts)> HeldAsync(string child)
    {
        using var scope = api.Services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<ExchangeDbContext>();
        return (await db.AttendanceMarks.AsNoTracking().Where(m => m.ChildId == child && m.ReplacedAt == null).ToListAsync(),
            await db.AttendanceYearCounts.AsNoTracking().Where(c => c.ChildId == child).ToListAsync());
    }

    /// <summary>The counts are what counting the child's current marks gives: per school and year, by how each code counts, the first and last day and latest record.</summary>
    private async Task AssertCountsAreTheMarksCountedAsync(string child, int expectedMarks)
    {
        var (marks, counts) = await HeldAsync(child);
        Assert.Equal(expectedMarks, marks.Count);
        static string Kinds(IEnumerable<string> codes)
        {
            var kinds = codes.Select(c => AttendanceCodes.Find(c)!.Counts).ToList();
            return $"{kinds.Count(k => k == SessionCount.Attended)}/{kinds.Count(k => k == SessionCount.AuthorisedAbsence)}/"
                + $"{kinds.Count(k => k == SessionCount.UnauthorisedAbsence)}/{kinds.Count(k => k == SessionCount.NotPossible)}";
        }

        var expected = marks.GroupBy(m => (m.SchoolId, AcademicYear.Containing(m.Date).From))
            .Select(g => $"{g.Key.SchoolId} {g.Key.From:yyyy-MM-dd} {Kinds(g.Select(m => m.Code))} {g.Min(m => m.Date):yyyy-MM-dd} {g.Max(m => m.Date):yyyy-MM-dd} {g.Max(m => m.RecordedAt).UtcTicks}");
        var actual = counts.Select(c => $"{c.SchoolId} {c.YearStart:yyyy-MM-dd} {c.Attended}/{c.AuthorisedAbsence}/{c.UnauthorisedAbsence}/{c.NotPossible} "
            + $"{c.FirstDate:yyyy-MM-dd} {c.LastDate:yyyy-MM-dd} {c.LastRecordedAt.UtcTicks}");
        Assert.Equal(expected.Order(StringComparer.Ordinal), actual.Order(StringComparer.Ordinal));
    }

    [SkippableFact]
    public async Task BatchesAndCorrectionsAcrossTwoYearsLeaveTheCountsEqualToTheMarks()
    {
        var (_, mis, child) = await PupilAsync();
        // Summer of the last academic year and autumn of this one: two years' rows.
        await SendAsync(mis, (child, "2026-07-13", "AM", "/"), (child, "2026-07-13", "PM", "\\"), (child, "2026-07-14", "AM", "N"),
            (child, "2026-11-02", "AM", "/"), (child, "2026-11-02", "PM", "O"), (child, "2026-11-03", "AM", "O"));
        await AssertCountsAreTheMarksCountedAsync(child, 6);

        // Corrections: O to M and N to C (a session moves from one code to another), one unchanged, one new day.
        var corrected = await SendAsync(mis, (child, "2026-11-02", "PM", "M"), (child, "2026-07-14", "AM", "C"), (child, "2026-11-02", "AM", "/"),
            (child, "2026-11-04", "AM", "/"));
        Assert.Equal(2, corrected.GetProperty("replaced").GetInt32());
        Assert.Equal(1, corrected.GetProperty("unchanged").GetInt32());
        await AssertCountsAreTheMarksCountedAsync(child, 7);
        // This year: / and / attended, M authorised, O unauthorised; last year: / and \ attended, C authorised (was N, unauthorised).
        var (_, counts) = await HeldAsync(child);
        Assert.Equal([(2, 1, 1), (2, 1, 0)], counts.OrderByDescending(c => c.YearStart).Select(c => (c.Attended, c.AuthorisedAbsence, c.UnauthorisedAbsence)));

        // A second school marking the same child (a dual registration): its own rows.
        var (_, other, _) = await PupilAsync(child);
        await SendAsync(other, (child, "2026-11-03", "AM", "D"), (child, "2026-11-03", "PM", "\\"));
        await AssertCountsAreTheMarksCountedAsync(child, 9);
    }

    [SkippableFact]
    public async Task AMergeCountsTheSurvivorsMarksAgainAndAnErasureDropsTheCounts()
    {
        var (nhs, upn) = (TestIdentifiers.NewNhs(), TestIdentifiers.NewUpn());
        var survivor = await api.RegisterChildAsync(new { nhsNumber = nhs });
        var merged = await api.RegisterChildAsync(new { upn });
        var (org, mis, _) = await PupilAsync(survivor);
        Assert.Equal(HttpStatusCode.Created, (await api.Council202.PostAsJsonAsync("/v1/enrolments", new { childId = merged, urn = org[7..], startDate = "2025-09-01" })).StatusCode);
        await SendAsync(mis, (survivor, "2026-11-02", "AM", "/"), (survivor, "2026-11-02", "PM", "\\"));
        // The school marked the other id too: once for a session it also marked for the survivor (the later mark stays
        // current), once for a session it did not.
        await SendAsync(mis, (merged, "2026-11-02", "AM", "O"), (merged, "2026-11-03", "AM", "/"));

        var conflict = await Problem.AssertAsync(await api.Council209.ResolveAsync(new { nhsNumber = nhs, upn }), HttpStatusCode.Conflict, "identity-conflict");
        var merge = await api.Admin.PostAsJsonAsync($"/v1/identity-reviews/{conflict.GetProperty("reviewId").GetString()}/merge", new { survivorChildId = survivor });
        Assert.Equal(HttpStatusCode.OK, merge.StatusCode);

        await AssertCountsAreTheMarksCountedAsync(survivor, 3);
        Assert.Equal((2, 1), (await HeldAsync(survivor)).Counts.Select(c => (c.Attended, c.UnauthorisedAbsence)).Single());
        Assert.Empty((await HeldAsync(merged)).Counts);

        var dpo = api.WithToken(api.Issuer.Token("operator:exchange", "dpo"), "subject-access");
        Assert.Equal(HttpStatusCode.OK, (await dpo.PostAsync($"/v1/children/{survivor}/erase", null)).StatusCode);
        Assert.Empty((await HeldAsync(survivor)).Counts);
    }
}

public sealed class SqliteYearCountsTests(ExchangeApiFactory api) : YearCountsTestsBase<ExchangeApiFactory>(api), IClassFixture<ExchangeApiFactory>;

public sealed class PostgresYearCountsTests : YearCountsTestsBase<PostgresApiFactory>, IClassFixture<PostgresApiFactory>
{
    public PostgresYearCountsTests(PostgresApiFactory api) : base(api) => Postgres.SkipUnlessAvailable();
}
