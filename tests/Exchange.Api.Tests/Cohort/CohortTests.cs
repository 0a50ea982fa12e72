using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using CsvHelper;
using Exchange.Api.Tests.AuditReview;
using Exchange.Api.Tests.Infrastructure;
using Exchange.Api.Tests.Policy;
using Exchange.Api.Tests.RollCheck;
using Microsoft.Extensions.DependencyInjection;

namespace Exchange.Api.Tests.Cohort;

/// <summary>A factory whose service clock the test moves.</summary>
public interface IMovableClockFactory
{
    MovableTime Time { get; }
}

public sealed class CohortSqliteFactory : ExchangeApiFactory, IMovableClockFactory
{
    public MovableTime Time { get; } = new();

    protected override void ConfigureTestServices(IServiceCollection services) => services.AddSingleton<TimeProvider>(Time);
}

public sealed class CohortPostgresFactory() : ExchangeApiFactory(StorageKind.Postgres), IMovableClockFactory
{
    public MovableTime Time { get; } = new();

    protected override void ConfigureTestServices(IServiceCollection services) => services.AddSingleton<TimeProvider>(Time);
}

/// <summary>
/// The virtual school's cohort: every child its council looks after, one row each, with the child's school and that
/// school's council, placement, this year's attendance, open exclusions, PEP status and flags; within the policy's
/// masks and the council's periods; nothing for anyone else; every child told about audited.
/// </summary>
public abstract class CohortTestsBase<TFactory>(TFactory api) where TFactory : ExchangeApiFactory, IMovableClockFactory
{
    private static int _nextLa = 600 + Random.Shared.Next(0, 300);

    protected void Today(string date, string time = "12:00:00") =>
        api.Time.Offset = DateTimeOffset.Parse(date + "T" + time + "Z", CultureInfo.InvariantCulture) - TimeProvider.System.GetUtcNow();

    /// <summary>A council of the test's own, so its cohort holds only the test's children.</summary>
    private async Task<(string La, HttpClient VirtualSchool)> NewCouncilAsync()
    {
        var la = Interlocked.Increment(ref _nextLa).ToString(CultureInfo.InvariantCulture);
        var created = await api.Admin.PostAsJsonAsync("/v1/organisations", new { id = "la:" + la, name = "Cohort Council " + la, laNumber = la });
        Assert.True(created.StatusCode == HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
        return (la, Client(la, "virtual-school"));
    }

    private HttpClient Client(string la, string role, string purpose = "attendance-monitoring") => api.WithToken(api.Issuer.Token("la:" + la, [role]), purpose);

    private static async Task<string> RegisterAsync(HttpClient council) =>
        await Problem.ChildIdAsync(await council.RegisterAsync(new { upn = TestIdentifiers.NewUpn() }, "2025-09-01"), HttpStatusCode.Created);

    /// <summary>A child of <paramref name="council"/> since 2025-09-01, placed in and at school in <paramref name="schoolLa"/>'s area since then.</summary>
    private async Task<(string Child, HttpClient Mis, string Urn)> PupilAsync(HttpClient council, string schoolLa = "209")
    {
        var (org, mis) = await api.NewSchoolAsync(schoolLa);
        var child = await RegisterAsync(council);
        Assert.Equal(HttpStatusCode.Created, (await council.PostAsJsonAsync($"/v1/children/{child}/placements", new { la = schoolLa, startDate = "2025-09-01" })).StatusCode);
        var enrolled = await council.PostAsJsonAsync("/v1/enrolments", new { childId = child, urn = org[7..], startDate = "2025-09-01" });
        Assert.True(enrolled.StatusCode == HttpStatusCode.Created, await enrolled.Content.ReadAsStringAsync());
        return (child, mis, org[7..]);
    }

    /// <summary>Both sessions of each school day from <paramref name="from"/> to <paramref name="to"/>: present, except the days listed absent (O).</summary>
    private static async Task PostMarksAsync(HttpClient mis, string child, string from, string to, params string[] absentDays) =>
        await CohortMarks.PostAsync(mis, CohortMarks.Weekdays(child, from, to, absentDays.Contains).ToList());

    private static async Task<JsonElement> PageAsync(HttpClient client, string query = "")
    {
        var response = await client.GetAsync("/v1/cohort" + (query.Length == 0 ? "" : "?" + query));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>Every row, following the cursor.</summary>
    private static async Task<List<JsonElement>> AllAsync(HttpClient client, string query = "", int? limit = null)
    {
        var rows = new List<JsonElement>();
        string? cursor = null;
        do
        {
            var parts = new[] { query, limit is null ? "" : "limit=" + limit, cursor is null ? "" : "cursor=" + cursor }.Where(p => p.Length > 0);
            var page = await PageAsync(client, string.Join('&', parts));
            rows.AddRange(page.GetProperty("items").EnumerateArray());
            cursor = page.GetProperty("next").ValueKind == JsonValueKind.String ? page.GetProperty("next").GetString() : null;
        }
        while (cursor is not null);
        return rows;
    }

    private static JsonElement RowOf(IEnumerable<JsonElement> rows, string child) => rows.Single(r => r.GetProperty("childId").GetString() == child);

    private static string[] Flags(JsonElement row) => row.GetProperty("flags").EnumerateArray().Select(f => f.GetString()!).ToArray();

    private static string[] Ids(IEnumerable<JsonElement> rows) => rows.Select(r => r.GetProperty("childId").GetString()!).ToArray();

    [SkippableFact]
    public async Task TheCohortShowsAnOutOfBoroughChildWithItsSchoolCouncilAndFlagsFromItsMarks()
    {
        Today("2026-03-02");
        var (la, council) = await NewCouncilAsync();
        var (child, mis, urn) = await PupilAsync(council);
        // Two weeks of marks, two days absent: 80% attendance, persistent absence (10% or more), not severe.
        await PostMarksAsync(mis, child, "2026-02-16", "2026-02-27", "2026-02-18", "2026-02-25");
        var unschooled = await RegisterAsync(council);

        var rows = await AllAsync(council);
        Assert.Equal(new[] { child, unschooled }.Order(StringComparer.Ordinal), Ids(rows).Order(StringComparer.Ordinal));
        var row = RowOf(rows, child);
        Assert.Equal(urn, row.GetProperty("school").GetString());
        Assert.Equal("209", row.GetProperty("schoolCouncil").GetString());
        Assert.Equal("209", row.GetProperty("placementCouncil").GetString());
        Assert.Equal((20, 16, 0, 4, 80.0m), (row.GetProperty("possibleSessions").GetInt32(), row.GetProperty("attendedSessions").GetInt32(),
            row.GetProperty("authorisedAbsence").GetInt32(), row.GetProperty("unauthorisedAbsence").GetInt32(), row.GetProperty("attendanceRate").GetDecimal()));
        Assert.Equal(0, row.GetProperty("openExclusions").GetInt32());
        // No plan since entering care on 2025-09-01: due ten school days later, long overdue.
        Assert.Equal(JsonValueKind.Null, row.GetProperty("pepStatus").ValueKind);
        Assert.Equal("2025-09-15", row.GetProperty("reviewDue").GetString());
        Assert.Equal(["persistent-absence", "pep-overdue"], Flags(row));
        Assert.Equal(["missing-education", "pep-overdue", "no-current-school"], Flags(RowOf(rows, unschooled)));
        Assert.Equal(JsonValueKind.Null, RowOf(rows, unschooled).GetProperty("school").ValueKind);

        // A suspension running today is an open exclusion.
        Assert.Equal(HttpStatusCode.Created, (await mis.PostAsJsonAsync($"/v1/children/{child}/exclusions",
            new { type = "suspension", startDate = "2026-03-02", sessions = 4, reasonCode = "DB" })).StatusCode);
        Assert.Equal(1, RowOf(await AllAsync(council), child).GetProperty("openExclusions").GetInt32());

        // Filters: by flag, by the school's council.
        Assert.Equal([unschooled], Ids(await AllAsync(council, "flag=no-current-school")));
        Assert.Equal([child], Ids(await AllAsync(council, "flag=persistent-absence&flag=pep-overdue")));
        Assert.Equal([child], Ids(await AllAsync(council, "schoolLa=209")));
        Assert.Empty(await AllAsync(council, "schoolLa=202"));

        // Ten school days after the last mark (27 February) have passed by 16 March: missing education.
        Today("2026-03-16");
        Assert.Contains("missing-education", Flags(RowOf(await AllAsync(council), child)));
        Today("2026-03-13");
        Assert.DoesNotContain("missing-education", Flags(RowOf(await AllAsync(council), child)));

        // Every child the council was told about is named in an audit event of its own.
        foreach (var id in new[] { child, unschooled })
        {
            Assert.Contains(await api.EventsOfAsync($"childId={id}", "cohort.list"), e => e.GetProperty("actor").GetProperty("org").GetString() == "la:" + la);
        }
    }

    [SkippableFact]
    public async Task ASessionTwoSchoolsMarkedCountsOnceAndAChangeOfSchoolAddsBothSchoolsMarks()
    {
        Today("2026-03-02");
        var (_, council) = await NewCouncilAsync();
        // Dual registration: the main school marks two weeks (one day absent); the second school, from the second week,
        // marks the same sessions present too (a register kept twice). Each session counts once.
        var (dual, mainMis, _) = await PupilAsync(council);
        var (secondOrg, secondMis) = await api.NewSchoolAsync("209");
        Assert.Equal(HttpStatusCode.Created, (await council.PostAsJsonAsync("/v1/enrolments", new { childId = dual, urn = secondOrg[7..], startDate = "2026-02-23" })).StatusCode);
        await PostMarksAsync(mainMis, dual, "2026-02-16", "2026-02-27", "2026-02-18");
        await PostMarksAsync(secondMis, dual, "2026-02-23", "2026-02-27");
        // A change of school: the first school's week and the next school's week add up.
        var (moved, firstMis, _) = await PupilAsync(council);
        var (nextOrg, nextMis) = await api.NewSchoolAsync("209");
        Assert.Equal(HttpStatusCode.Created, (await council.PostAsJsonAsync("/v1/enrolments", new { childId = moved, urn = nextOrg[7..], startDate = "2026-02-23" })).StatusCode);
        await PostMarksAsync(firstMis, moved, "2026-02-16", "2026-02-20", "2026-02-18");
        await PostMarksAsync(nextMis, moved, "2026-02-23", "2026-02-27");

        var rows = await AllAsync(council);
        foreach (var (child, attended) in new[] { (dual, 18), (moved, 18) })
        {
            var row = RowOf(rows, child);
            Assert.Equal((20, attended), (row.GetProperty("possibleSessions").GetInt32(), row.GetProperty("attendedSessions").GetInt32()));
            // The same figures as the child's own summary, which reads every mark.
            var summary = JsonDocument.Parse(await council.GetStringAsync($"/v1/children/{child}/attendance/summary?from=2025-09-01&to=2026-08-31")).RootElement;
            Assert.Equal(summary.GetProperty("possibleSessions").GetInt32(), row.GetProperty("possibleSessions").GetInt32());
            Assert.Equal(summary.GetProperty("attendanceRate").GetDecimal(), row.GetProperty("attendanceRate").GetDecimal());
        }
    }

    [SkippableFact]
    public async Task UpdatedSinceReturnsOnlyTheRowsThatChanged()
    {
        Today("2026-03-03", "09:00:00");
        var (_, council) = await NewCouncilAsync();
        var (first, firstMis, _) = await PupilAsync(council);
        var (second, _, _) = await PupilAsync(council);
        var (third, _, _) = await PupilAsync(council);
        Assert.Equal(3, (await AllAsync(council)).Count);

        Today("2026-03-03", "10:00:00");
        const string since = "updatedSince=2026-03-03T09:30:00Z";
        Assert.Empty(await AllAsync(council, since));

        Today("2026-03-03", "11:00:00");
        await PostMarksAsync(firstMis, first, "2026-03-02", "2026-03-02");
        Assert.Equal(HttpStatusCode.Created, (await council.PostAsJsonAsync($"/v1/children/{second}/placements", new { la = "202", startDate = "2026-03-03" })).StatusCode);
        Assert.Equal(new[] { first, second }.Order(StringComparer.Ordinal), Ids(await AllAsync(council, since)));
        // The offset form means the same instant.
        Assert.Equal(new[] { first, second }.Order(StringComparer.Ordinal), Ids(await AllAsync(council, "updatedSince=2026-03-03T10%3A30%3A00%2B01%3A00")));
        Assert.DoesNotContain(third, Ids(await AllAsync(council, since)));

        // A day later a date the rows depend on may have come (none here), and nothing was recorded: still only those two.
        Today("2026-03-04", "11:00:00");
        Assert.Equal(new[] { first, second }.Order(StringComparer.Ordinal), Ids(await AllAsync(council, since)));
    }

    /// <summary>An end dated before the pull's time (a school telling late that a pupil left) is still a change since it.</summary>
    [SkippableFact]
    public async Task UpdatedSinceSeesAnEnrolmentEndedWithADateBeforeIt()
    {
        Today("2026-03-03", "09:00:00");
        var (_, council) = await NewCouncilAsync();
        var (child, _, urn) = await PupilAsync(council);
        await PupilAsync(council);
        Today("2026-03-03", "10:00:00");
        const string since = "updatedSince=2026-03-03T09:30:00Z";
        Assert.Empty(await AllAsync(council, since));

        Today("2026-03-03", "11:00:00");
        // The same enrolment again answers the one recorded, with its id.
        var enrolment = await (await council.PostAsJsonAsync("/v1/enrolments", new { childId = child, urn, startDate = "2025-09-01" })).Content.ReadFromJsonAsync<JsonElement>();
        var ended = await council.PostAsJsonAsync($"/v1/enrolments/{enrolment.GetProperty("id").GetString()}/end", new { endDate = "2026-02-20" });
        Assert.True(ended.StatusCode == HttpStatusCode.OK, await ended.Content.ReadAsStringAsync());

        var changed = await AllAsync(council, since);
        Assert.Equal([child], Ids(changed));
        Assert.Contains("no-current-school", Flags(changed[0]));
    }

    [SkippableFact]
    public async Task UpdatedSinceSeesASurvivorWhoseRowAMergeChanged()
    {
        Today("2026-03-03", "09:00:00");
        var (_, council) = await NewCouncilAsync();
        var upn = TestIdentifiers.NewUpn();
        var survivor = await Problem.ChildIdAsync(await council.RegisterAsync(new { upn }, "2025-09-01"), HttpStatusCode.Created);
        var (first, _) = await api.NewSchoolAsync("209");
        Assert.Equal(HttpStatusCode.Created, (await council.PostAsJsonAsync("/v1/enrolments", new { childId = survivor, urn = first[7..], startDate = "2025-09-01" })).StatusCode);
        // The same child, registered again under its NHS number, enrolled since January at a school in another area.
        var nhs = TestIdentifiers.NewNhs();
        var merged = await Problem.ChildIdAsync(await council.RegisterAsync(new { nhsNumber = nhs }, "2025-09-01"), HttpStatusCode.Created);
        var (otherLa, _) = await NewCouncilAsync();
        var (school, _) = await api.NewSchoolAsync(otherLa);
        Assert.Equal(HttpStatusCode.Created, (await council.PostAsJsonAsync("/v1/enrolments", new { childId = merged, urn = school[7..], startDate = "2026-01-05" })).StatusCode);
        Today("2026-03-03", "10:00:00");
        const string since = "updatedSince=2026-03-03T09:30:00Z";
        Assert.Empty(await AllAsync(council, since));

        Today("2026-03-03", "11:00:00");
        var conflict = await Problem.AssertAsync(await api.Council209.ResolveAsync(new { nhsNumber = nhs, upn }), HttpStatusCode.Conflict, "identity-conflict");
        var merge = await api.Admin.PostAsJsonAsync($"/v1/identity-reviews/{conflict.GetProperty("reviewId").GetString()}/merge", new { survivorChildId = survivor });
        Assert.True(merge.StatusCode == HttpStatusCode.OK, await merge.Content.ReadAsStringAsync());

        // The survivor's row now shows the merged child's later school; nothing it draws on was recorded after then.
        var changed = await AllAsync(council, since);
        Assert.Equal([survivor], Ids(changed));
        Assert.Equal(otherLa, changed[0].GetProperty("schoolCouncil").GetString());
    }

    [SkippableFact]
    public async Task TheCsvReportHoldsTheSameRowsAsTheJson()
    {
        Today("2026-03-02");
        var (_, council) = await NewCouncilAsync();
        var (child, mis, _) = await PupilAsync(council);
        await PostMarksAsync(mis, child, "2026-02-23", "2026-02-27", "2026-02-24");
        await RegisterAsync(council);
        var json = await AllAsync(council);

        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/cohort");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/csv"));
        var response = await council.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/csv", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal("utf-8", response.Content.Headers.ContentType.CharSet);
        var text = Encoding.UTF8.GetString(await response.Content.ReadAsByteArrayAsync());
        using var csv = new CsvReader(new StringReader(text), CultureInfo.InvariantCulture);
        var records = csv.GetRecords<dynamic>().Cast<IDictionary<string, object>>().ToList();
        Assert.Equal(json.Count, records.Count);
        Assert.Equal(["childId", "school", "schoolCouncil", "placementCouncil", "possibleSessions", "attendedSessions", "authorisedAbsence", "unauthorisedAbsence",
            "attendanceRate", "openExclusions", "pepStatus", "reviewDue", "flags"], records[0].Keys.ToArray());
        foreach (var (row, record) in json.Zip(records))
        {
            foreach (var (name, value) in record)
            {
                var expected = row.GetProperty(name) switch
                {
                    { ValueKind: JsonValueKind.Null } => "",
                    { ValueKind: JsonValueKind.Array } flags => string.Join(' ', flags.EnumerateArray().Select(f => f.GetString())),
                    { ValueKind: JsonValueKind.Number } n when name == "attendanceRate" => n.GetDecimal().ToString("0.0", CultureInfo.InvariantCulture),
                    var v => v.ToString(),
                };
                Assert.True(expected == (string)value, $"{name}: json {expected}, csv {value}");
            }
        }

        // A paged report says where the next page starts.
        using var paged = new HttpRequestMessage(HttpMethod.Get, "/v1/cohort?limit=1");
        paged.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/csv"));
        var first = await council.SendAsync(paged);
        Assert.Contains("rel=\"next\"", first.Headers.GetValues("Link").Single(), StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task PagesFollowOneAnotherWithoutGapsOrRepeats()
    {
        Today("2026-03-02");
        var (_, council) = await NewCouncilAsync();
        var children = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            children.Add((await PupilAsync(council)).Child);
            children.Add(await RegisterAsync(council));
        }

        var whole = Ids(await AllAsync(council));
        Assert.Equal(children.Order(StringComparer.Ordinal), whole.Order(StringComparer.Ordinal));
        foreach (var limit in new[] { 1, 3, 7 })
        {
            Assert.Equal(whole, Ids(await AllAsync(council, "", limit)));
        }

        var unschooled = Ids(await AllAsync(council, "flag=no-current-school"));
        Assert.Equal(4, unschooled.Length);
        Assert.Equal(unschooled, Ids(await AllAsync(council, "flag=no-current-school", 3)));
        Assert.Equal(JsonValueKind.Null, (await PageAsync(council, "limit=8")).GetProperty("next").ValueKind);
    }

    [SkippableFact]
    public async Task TheSocialWorkerSeesTheRowsWithoutSchoolOrPlacement()
    {
        Today("2026-03-02");
        var (la, council) = await NewCouncilAsync();
        var (child, mis, _) = await PupilAsync(council);
        await PostMarksAsync(mis, child, "2026-02-23", "2026-02-27", "2026-02-24");
        var worker = Client(la, "social-worker", "safeguarding");
        var row = RowOf(await AllAsync(worker), child);
        var names = row.EnumerateObject().Select(p => p.Name).ToHashSet();
        Assert.DoesNotContain("school", names);
        Assert.DoesNotContain("schoolCouncil", names);
        Assert.DoesNotContain("placementCouncil", names);
        Assert.Equal(80.0m, row.GetProperty("attendanceRate").GetDecimal());
        Assert.Equal(["persistent-absence", "pep-overdue"], Flags(row));
        await Problem.AssertAsync(await worker.GetAsync("/v1/cohort?schoolLa=209"), HttpStatusCode.BadRequest, "filter-not-permitted");

        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/cohort");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/csv"));
        var header = (await (await worker.SendAsync(request)).Content.ReadAsStringAsync()).Split("\r\n")[0];
        Assert.Equal("childId,possibleSessions,attendedSessions,authorisedAbsence,unauthorisedAbsence,attendanceRate,openExclusions,pepStatus,reviewDue,flags", header);
    }

    [SkippableFact]
    public async Task NobodyElseLearnsAnythingAboutTheCouncilsChildren()
    {
        Today("2026-03-02");
        var (la, council) = await NewCouncilAsync();
        var (child, mis, urn) = await PupilAsync(council);
        await PostMarksAsync(mis, child, "2026-02-23", "2026-02-27");

        // Another council (here the host council, where the child lives and goes to school) has its own cohort, without the child.
        Assert.DoesNotContain(child, Ids(await AllAsync(Client("209", "virtual-school"))));
        Assert.DoesNotContain(child, Ids(await AllAsync(Client("209", "social-worker"))));
        // Schools, health bodies, DPOs and the admin have no cohort at all.
        foreach (var (org, role, purpose) in new[]
        {
            ("school:" + urn, "school-mis", "attendance-monitoring"), ("school:" + urn, "designated-teacher", "pep-review"),
            ("health:ZZ901", "lac-nurse", "health-assessment"), ("la:" + la, "dpo", "attendance-monitoring"), ("operator:exchange", "exchange-admin", "attendance-monitoring"),
        })
        {
            await Problem.AssertAsync(await api.WithToken(api.Issuer.Token(org, [role]), purpose).GetAsync("/v1/cohort?flag=pep-overdue"), HttpStatusCode.Forbidden, "forbidden");
        }

        await Problem.AssertAsync(await Client(la, "virtual-school", "health-assessment").GetAsync("/v1/cohort"), HttpStatusCode.Forbidden, "purpose-not-permitted");
        Assert.Equal(HttpStatusCode.Unauthorized, (await api.WithToken(null, "attendance-monitoring").GetAsync("/v1/cohort")).StatusCode);

        // Once its care ends, the council's cohort no longer lists the child.
        var record = JsonDocument.Parse(await council.GetStringAsync($"/v1/children/{child}")).RootElement;
        var episode = record.GetProperty("careEpisodes")[0].GetProperty("id").GetString();
        Assert.Equal(HttpStatusCode.OK, (await council.PostAsJsonAsync($"/v1/children/{child}/care-episodes/{episode}/end", new { endDate = "2026-03-01" })).StatusCode);
        Assert.DoesNotContain(child, Ids(await AllAsync(council)));
    }

    /// <summary>
    /// The children of a page are recorded chunk by chunk while the rest is read (AuditTrail.DisclosingAhead): each child
    /// listed gets exactly one event per pull, a child left for the next page none.
    /// </summary>
    [SkippableFact]
    public async Task EachChildListedIsRecordedOncePerPullAndNoneThePageLeftOut()
    {
        Today("2026-03-02");
        var (_, council) = await NewCouncilAsync();
        var children = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            children.Add((await PupilAsync(council)).Child);
        }

        children.Sort(StringComparer.Ordinal);
        async Task<int[]> EventCountsAsync()
        {
            var counts = new List<int>();
            foreach (var child in children)
            {
                counts.Add((await api.EventsOfAsync($"childId={child}", "cohort.list")).Count);
            }

            return [.. counts];
        }

        var firstPage = Ids((await PageAsync(council, "limit=2")).GetProperty("items").EnumerateArray());
        Assert.Equal(children.Take(2), firstPage);
        var counts = await EventCountsAsync();
        Assert.Equal(new[] { 1, 1, 0 }, counts);
        var all = Ids(await AllAsync(council));
        Assert.Equal(children, all);
        counts = await EventCountsAsync();
        Assert.Equal(new[] { 2, 2, 1 }, counts);
        // Filtered, a child is recorded only once it is known to match.
        Assert.Empty(await AllAsync(council, "flag=severe-absence"));
        counts = await EventCountsAsync();
        Assert.Equal(new[] { 2, 2, 1 }, counts);

        // Each child's event names the fields its row released, as the request's own event does, for JSON and for CSV.
        using var asCsv = new HttpRequestMessage(HttpMethod.Get, "/v1/cohort");
        asCsv.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/csv"));
        Assert.Equal(HttpStatusCode.OK, (await council.SendAsync(asCsv)).StatusCode);
        var events = await api.EventsOfAsync($"childId={children[0]}", "cohort.list");
        Assert.Equal(3, events.Count);
        foreach (var e in events)
        {
            var fields = e.GetProperty("fields").EnumerateArray().Select(f => f.GetString()).ToList();
            Assert.Contains("school", fields);
            Assert.Contains("flags", fields);
            Assert.DoesNotContain("items", fields);
        }
    }

    [SkippableFact]
    public async Task ACohortWhoseEventsCannotBeRecordedReleasesNoRow()
    {
        Today("2026-03-02");
        var (_, council) = await NewCouncilAsync();
        var (child, _, _) = await PupilAsync(council);
        await api.BreakAuditStoreAsync();
        HttpResponseMessage response;
        try
        {
            response = await council.GetAsync("/v1/cohort");
        }
        finally
        {
            await api.RepairAuditStoreAsync();
        }

        var problem = await Problem.AssertAsync(response, HttpStatusCode.ServiceUnavailable, "audit-unavailable");
        Assert.DoesNotContain(child, problem.ToString(), StringComparison.Ordinal);
        Assert.Equal([child], Ids(await AllAsync(council)));
    }

    [SkippableTheory]
    [InlineData("cursor=not-a-cursor", "cohort-cursor")]
    [InlineData("cursor=Y29ob3J0OnNvbWV0aGluZw", "cohort-cursor")]
    [InlineData("cursor=", "cohort-cursor")]
    [InlineData("limit=0", "cohort-limit")]
    [InlineData("limit=5001", "cohort-limit")]
    [InlineData("limit=ten", "cohort-limit")]
    [InlineData("limit=1&limit=2", "cohort-limit")]
    [InlineData("flag=absent", "cohort-flag")]
    [InlineData("flag=PEP-OVERDUE", "cohort-flag")]
    [InlineData("flag=", "cohort-flag")]
    [InlineData("updatedSince=yesterday", "cohort-updated-since")]
    [InlineData("updatedSince=2026-03-01", "cohort-updated-since")]
    [InlineData("updatedSince=2026-03-01T10:00:00", "cohort-updated-since")]
    [InlineData("updatedSince=2099-01-01T00:00:00Z", "cohort-updated-since")]
    [InlineData("updatedSince=1999-12-31T23:59:59Z", "cohort-updated-since")]
    [InlineData("updatedSince=2026-02-30T10:00:00Z", "cohort-updated-since")]
    [InlineData("schoolLa=20", "cohort-school-council")]
    [InlineData("schoolLa=la:209", "cohort-school-council")]
    [InlineData("schoolLa=209&schoolLa=202", "cohort-school-council")]
    public async Task BadInputIsRefusedWithItsOwnProblem(string query, string problem)
    {
        Today("2026-03-02");
        var body = await Problem.AssertAsync(await api.Council202.GetAsync("/v1/cohort?" + query), HttpStatusCode.BadRequest, problem);
        Assert.DoesNotContain("2099", body.ToString(), StringComparison.Ordinal);
    }
}

public sealed class SqliteCohortTests(CohortSqliteFactory api) : CohortTestsBase<CohortSqliteFactory>(api), IClassFixture<CohortSqliteFactory>;

public sealed class PostgresCohortTests : CohortTestsBase<CohortPostgresFactory>, IClassFixture<CohortPostgresFactory>
{
    public PostgresCohortTests(CohortPostgresFactory api) : base(api) => Postgres.SkipUnlessAvailable();
}
