using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Exchange.Api.Checks;
using Exchange.Api.Tests.Infrastructure;
using Exchange.Api.Tests.RollCheck;
using Microsoft.Extensions.DependencyInjection;

namespace Exchange.Api.Tests.Checks;

/// <summary>
/// The scheduled checks on a moved clock: missing education and an overdue plan are each raised once while they last,
/// cleared when they end (marks arrive, a plan is approved) and raised again when they begin again; the responsible
/// council hears of them through the feed, the school does not. Leavers and moves are told as they are recorded.
/// </summary>
public abstract class ChildChecksTestsBase<TFactory>(TFactory api) where TFactory : Subscriptions.WebhookApiFactory
{
    private async Task<ChildChecks.Report> CheckAsync()
    {
        using var scope = api.Services.CreateScope();
        return await scope.ServiceProvider.GetRequiredService<ChildChecks>().RunOnceAsync(CancellationToken.None);
    }

    private async Task<long> RaisedAsync(string child, string type) =>
        Convert.ToInt64(await api.StoreScalarAsync($"SELECT COUNT(*) FROM outbox_items WHERE \"ChildId\" = '{child}' AND \"Type\" = '{type}'"), System.Globalization.CultureInfo.InvariantCulture);

    private async Task<List<string>> ToldAsync(HttpClient client, string child)
    {
        var told = new List<string>();
        string? after = null;
        for (var more = true; more;)
        {
            var page = await client.GetFromJsonAsync<JsonElement>("/v1/events?limit=500" + (after is null ? "" : "&after=" + after));
            told.AddRange(page.GetProperty("items").EnumerateArray().Where(i => i.GetProperty("childId").GetString() == child).Select(i => i.GetProperty("type").GetString()!));
            after = page.GetProperty("next").GetString();
            more = page.GetProperty("more").GetBoolean();
        }

        return told;
    }

    /// <summary>The last weekday before the service's today: a day a school may send a mark for.</summary>
    private DateOnly LastWeekday()
    {
        var day = DateOnly.FromDateTime(api.Time.GetUtcNow().UtcDateTime).AddDays(-1);
        while (day.DayOfWeek is DayOfWeek.Saturday or DayOfWeek.Sunday)
        {
            day = day.AddDays(-1);
        }

        return day;
    }

    [SkippableFact]
    public async Task MissingEducationIsRaisedOnceClearedWhenMarksArriveAndRaisedAgainWhenTheyStop()
    {
        api.Time.Offset = TimeSpan.Zero;
        // Enrolled since last year, and no mark from the school this academic year.
        var (_, mis, child) = await api.EnrolledPupilAsync();
        await CheckAsync();
        Assert.Equal(1, await RaisedAsync(child, "missing-education"));
        await CheckAsync();
        Assert.Equal(1, await RaisedAsync(child, "missing-education"));

        // The council hears of it through the feed (and its webhooks); the school's MIS does not.
        Assert.Contains("missing-education", await ToldAsync(api.WithToken(api.Issuer.Token("la:202", ["virtual-school"]), "attendance-monitoring"), child));
        Assert.DoesNotContain("missing-education", await ToldAsync(mis, child));

        // Marks arrive: the alert is cleared, and nothing new is told.
        using (var marks = new HttpRequestMessage(HttpMethod.Post, "/v1/attendance")
        {
            Content = JsonContent.Create(new { marks = new[] { new { childId = child, date = LastWeekday().ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture), session = "AM", code = "/" } } }),
        })
        {
            marks.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString());
            var sent = await mis.SendAsync(marks);
            Assert.Equal(1, JsonDocument.Parse(await sent.Content.ReadAsStringAsync()).RootElement.GetProperty("accepted").GetInt32());
        }

        await CheckAsync();
        Assert.Equal(1, await RaisedAsync(child, "missing-education"));
        Assert.Equal(0L, await api.StoreScalarAsync($"SELECT COUNT(*) FROM check_alerts WHERE \"ChildId\" = '{child}' AND \"Kind\" = 'missing-education' AND \"ClearedAt\" IS NULL"));

        // Two months on with no more marks: missing again, told again, once.
        api.Time.Offset = TimeSpan.FromDays(60);
        await CheckAsync();
        await CheckAsync();
        Assert.Equal(2, await RaisedAsync(child, "missing-education"));
    }

    [SkippableFact]
    public async Task AnOverduePlanIsRaisedOnceAndClearedWhenTheCouncilApprovesOne()
    {
        api.Time.Offset = TimeSpan.Zero;
        // In care since September 2025 with no plan: overdue since ten school days after.
        var (org, _, child) = await api.EnrolledPupilAsync();
        await CheckAsync();
        await CheckAsync();
        Assert.Equal(1, await RaisedAsync(child, "pep-overdue"));

        var teacher = api.WithToken(api.Issuer.Token(org, ["designated-teacher"]), "pep-review");
        Assert.Equal(HttpStatusCode.Created, (await teacher.PutAsJsonAsync($"/v1/children/{child}/pep", new { meetingDate = RollCheckSupport.Today })).StatusCode);
        using (var submit = new HttpRequestMessage(HttpMethod.Post, $"/v1/children/{child}/pep/submit"))
        {
            submit.Headers.TryAddWithoutValidation("If-Match", "\"1\"");
            Assert.Equal(HttpStatusCode.OK, (await teacher.SendAsync(submit)).StatusCode);
        }

        // Submitted is not reviewed: still overdue, and not told twice.
        await CheckAsync();
        Assert.Equal(1, await RaisedAsync(child, "pep-overdue"));
        using (var approve = new HttpRequestMessage(HttpMethod.Post, $"/v1/children/{child}/pep/approve") { Content = JsonContent.Create(new { quality = "green" }) })
        {
            approve.Headers.TryAddWithoutValidation("If-Match", "\"2\"");
            Assert.Equal(HttpStatusCode.OK, (await api.WithToken(api.Issuer.Token("la:202", ["virtual-school"]), "pep-review").SendAsync(approve)).StatusCode);
        }

        await CheckAsync();
        Assert.Equal(0L, await api.StoreScalarAsync($"SELECT COUNT(*) FROM check_alerts WHERE \"ChildId\" = '{child}' AND \"Kind\" = 'pep-overdue' AND \"ClearedAt\" IS NULL"));
        Assert.Equal(1, await RaisedAsync(child, "pep-overdue"));
    }

    [SkippableFact]
    public async Task LeaversAndMovesAreToldToTheCouncilsConcerned()
    {
        api.Time.Offset = TimeSpan.Zero;
        var (_, mis, child) = await api.EnrolledPupilAsync();
        var enrolments = await api.Council202.GetFromJsonAsync<JsonElement>($"/v1/children/{child}/enrolments");
        var enrolment = enrolments.GetProperty("items")[0].GetProperty("id").GetString();
        Assert.Equal(HttpStatusCode.OK, (await api.Council202.PostAsJsonAsync($"/v1/enrolments/{enrolment}/end", new { endDate = RollCheckSupport.Today })).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await api.Council202.PostAsJsonAsync($"/v1/children/{child}/placements", new { la = "209", startDate = RollCheckSupport.Today })).StatusCode);
        Assert.Equal(1, await RaisedAsync(child, "pupil-left"));
        Assert.Equal(1, await RaisedAsync(child, "placement-changed"));

        var council = await ToldAsync(api.WithToken(api.Issuer.Token("la:202", ["virtual-school"]), "attendance-monitoring"), child);
        Assert.Contains("pupil-left", council);
        Assert.Contains("placement-changed", council);
        // The council the child now lives in hears of the move, not of the school it left; the school of neither.
        var host = await ToldAsync(api.WithToken(api.Issuer.Token("la:209", ["virtual-school"]), "attendance-monitoring"), child);
        Assert.Equal(["placement-changed"], host);
        Assert.DoesNotContain("placement-changed", await ToldAsync(mis, child));

        // The child moves on, back to Camden: Lewisham's placement ends the day before, and Lewisham hears nothing more.
        var tomorrow = DateOnly.FromDateTime(api.Time.GetUtcNow().UtcDateTime).AddDays(1);
        api.Time.Offset += TimeSpan.FromDays(1);
        Assert.Equal(HttpStatusCode.Created, (await api.WithToken(api.Issuer.Token("la:202", ["virtual-school"]), "attendance-monitoring")
            .PostAsJsonAsync($"/v1/children/{child}/placements", new { la = "202", startDate = tomorrow.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture) })).StatusCode);
        var placements = await api.WithToken(api.Issuer.Token("la:202", ["virtual-school"]), "attendance-monitoring").GetFromJsonAsync<JsonElement>($"/v1/children/{child}/placements");
        Assert.Contains(placements.GetProperty("items").EnumerateArray(), p => p.GetProperty("hostLa").GetString() == "209"
            && p.GetProperty("endDate").GetString() == tomorrow.AddDays(-1).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(2, (await ToldAsync(api.WithToken(api.Issuer.Token("la:202", ["virtual-school"]), "attendance-monitoring"), child)).Count(t => t == "placement-changed"));
        Assert.True((await ToldAsync(api.WithToken(api.Issuer.Token("la:209", ["virtual-school"]), "attendance-monitoring"), child)).Count(t => t == "placement-changed") <= 1);
    }

    [SkippableFact]
    public async Task ErasureDeletesTheChildsAlertsAndNothingMoreIsRaisedForIt()
    {
        api.Time.Offset = TimeSpan.Zero;
        var (_, _, child) = await api.EnrolledPupilAsync();
        await CheckAsync();
        Assert.NotEqual(0L, Convert.ToInt64(await api.StoreScalarAsync($"SELECT COUNT(*) FROM check_alerts WHERE \"ChildId\" = '{child}'"), System.Globalization.CultureInfo.InvariantCulture));

        var dpo = api.WithToken(api.Issuer.Token("operator:exchange", "dpo"), "subject-access");
        Assert.Equal(HttpStatusCode.OK, (await dpo.PostAsync($"/v1/children/{child}/erase", null)).StatusCode);
        Assert.Equal(0L, Convert.ToInt64(await api.StoreScalarAsync($"SELECT COUNT(*) FROM check_alerts WHERE \"ChildId\" = '{child}'"), System.Globalization.CultureInfo.InvariantCulture));
        var raised = await RaisedAsync(child, "missing-education");
        api.Time.Offset = TimeSpan.FromDays(60);
        await CheckAsync();
        Assert.Equal(raised, await RaisedAsync(child, "missing-education"));
        Assert.Equal(0L, Convert.ToInt64(await api.StoreScalarAsync($"SELECT COUNT(*) FROM check_alerts WHERE \"ChildId\" = '{child}'"), System.Globalization.CultureInfo.InvariantCulture));
    }

    [SkippableFact]
    public async Task AChildWithoutASchoolIsMissingEducationOnlyAfterItsCouncilHadTimeToRecordOne()
    {
        api.Time.Offset = TimeSpan.Zero;
        var today = DateOnly.FromDateTime(api.Time.GetUtcNow().UtcDateTime).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        var longInCare = await api.RegisterChildAsync(new { upn = TestIdentifiers.NewUpn() }, api.Council202);
        var newcomer = await Problem.ChildIdAsync(await api.Council202.RegisterAsync(new { upn = TestIdentifiers.NewUpn() }, today), HttpStatusCode.Created);
        await CheckAsync();
        // In care since September 2025 with no school: missing. Entered care today: not yet.
        Assert.Equal(1, await RaisedAsync(longInCare, "missing-education"));
        Assert.Equal(0, await RaisedAsync(newcomer, "missing-education"));
    }

    private static async Task SendAsync(HttpClient mis, string child, IEnumerable<(string Date, string Session, string Code)> marks)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/attendance")
        {
            Content = JsonContent.Create(new { marks = marks.Select(m => new { childId = child, date = m.Date, session = m.Session, code = m.Code }).ToArray() }),
        };
        request.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString());
        var body = JsonDocument.Parse(await (await mis.SendAsync(request)).Content.ReadAsStringAsync()).RootElement;
        Assert.True(body.GetProperty("rejected").GetArrayLength() == 0, body.GetRawText());
    }

    [SkippableFact]
    public async Task AbsenceCrossingEachThresholdIsToldOnceAndClearedWhenMarksAreCorrected()
    {
        // Wednesday 10 March 2027, in the spring term.
        api.Time.Offset = DateTimeOffset.Parse("2027-03-10T12:00:00Z", System.Globalization.CultureInfo.InvariantCulture) - TimeProvider.System.GetUtcNow();
        var (_, mis, child) = await api.EnrolledPupilAsync();
        // Two school weeks (20 possible sessions: the least the thresholds are judged on).
        string[] days = ["2027-02-24", "2027-02-25", "2027-02-26", "2027-03-01", "2027-03-02", "2027-03-03", "2027-03-04", "2027-03-05", "2027-03-08", "2027-03-09"];
        var sessions = days.SelectMany(d => new[] { (d, "AM"), (d, "PM") }).ToList();
        static string Present(string session) => session == "AM" ? "/" : "\\";

        // The first ten sessions: six missed without authority, but too few sessions to judge; nothing raised.
        await SendAsync(mis, child, sessions.Take(10).Select((s, i) => (s.d, s.Item2, i < 6 ? "O" : Present(s.Item2))));
        await CheckAsync();
        Assert.Equal(0, await RaisedAsync(child, "absence-threshold-crossed"));

        // Twelve of twenty missed: 60%, past the persistent (10%) and severe (50%) thresholds.
        await SendAsync(mis, child, sessions.Skip(10).Select((s, i) => (s.d, s.Item2, i < 6 ? "O" : Present(s.Item2))));
        await CheckAsync();
        await CheckAsync();
        Assert.Equal(2, await RaisedAsync(child, "absence-threshold-crossed"));
        Assert.Equal(1L, await api.StoreScalarAsync($"SELECT COUNT(*) FROM check_alerts WHERE \"ChildId\" = '{child}' AND \"Kind\" = 'severe-absence' AND \"ClearedAt\" IS NULL"));

        // The school corrects the register (the pupil was in, marked on the wrong list): under both thresholds, both
        // cleared, nothing told. (Illness, I, would not do: authorised absence counts towards both thresholds too.)
        await SendAsync(mis, child, sessions.Select(s => (s.d, s.Item2, Present(s.Item2))));
        await CheckAsync();
        Assert.Equal(0L, await api.StoreScalarAsync($"SELECT COUNT(*) FROM check_alerts WHERE \"ChildId\" = '{child}' AND \"Kind\" LIKE '%absence' AND \"ClearedAt\" IS NULL"));
        Assert.Equal(2, await RaisedAsync(child, "absence-threshold-crossed"));

        // The council hears of it as the summary's category allows; the school's MIS does not.
        Assert.Equal(2, (await ToldAsync(api.WithToken(api.Issuer.Token("la:202", ["virtual-school"]), "attendance-monitoring"), child)).Count(t => t == "absence-threshold-crossed"));
        Assert.DoesNotContain("absence-threshold-crossed", await ToldAsync(mis, child));
    }

    [SkippableFact]
    public async Task AnAbsenceAlertIsNotClearedUntilAbsenceFallsAPointBelowItsThreshold()
    {
        // Wednesday 17 March 2027, in the spring term.
        api.Time.Offset = DateTimeOffset.Parse("2027-03-17T12:00:00Z", System.Globalization.CultureInfo.InvariantCulture) - TimeProvider.System.GetUtcNow();
        var (_, mis, child) = await api.EnrolledPupilAsync();
        string[] days = ["2027-02-24", "2027-02-25", "2027-02-26", "2027-03-01", "2027-03-02", "2027-03-03", "2027-03-04", "2027-03-05", "2027-03-08", "2027-03-09", "2027-03-10", "2027-03-11"];
        static string Present(string session) => session == "AM" ? "/" : "\\";
        async Task<long> OpenAsync() => Convert.ToInt64(await api.StoreScalarAsync(
            $"SELECT COUNT(*) FROM check_alerts WHERE \"ChildId\" = '{child}' AND \"Kind\" = 'persistent-absence' AND \"ClearedAt\" IS NULL"), System.Globalization.CultureInfo.InvariantCulture);

        // Two of twenty sessions missed: 10%, persistent absence.
        await SendAsync(mis, child, days.Take(10).SelectMany(d => new[] { (d, "AM"), (d, "PM") }).Select((s, i) => (s.d, s.Item2, i < 2 ? "O" : Present(s.Item2))));
        await CheckAsync();
        Assert.Equal((1L, 1L), (await OpenAsync(), await RaisedAsync(child, "absence-threshold-crossed")));

        // Two of twenty-one: 9.5%, under the threshold but within a point of it: still open, nothing told.
        await SendAsync(mis, child, [(days[10], "AM", "/")]);
        await CheckAsync();
        Assert.Equal((1L, 1L), (await OpenAsync(), await RaisedAsync(child, "absence-threshold-crossed")));

        // Two of twenty-three: 8.7%, more than a point under: cleared.
        await SendAsync(mis, child, [(days[10], "PM", "\\"), (days[11], "AM", "/")]);
        await CheckAsync();
        Assert.Equal((0L, 1L), (await OpenAsync(), await RaisedAsync(child, "absence-threshold-crossed")));

        // Three of twenty-four: 12.5%, over it again: raised and told again.
        await SendAsync(mis, child, [(days[11], "PM", "O")]);
        await CheckAsync();
        Assert.Equal((1L, 2L), (await OpenAsync(), await RaisedAsync(child, "absence-threshold-crossed")));
    }

    [SkippableFact]
    public void TheRuleCountsSchoolDaysFromTheLastMarkOrTheStartOfTheYear()
    {
        var yearStart = new DateOnly(2026, 9, 1);
        // Last mark Friday 4 December 2026: ten school days on is Friday 18 December; missing from the Saturday.
        Assert.Equal(new DateOnly(2026, 12, 19), MissingEducationRule.From(new DateOnly(2025, 9, 1), new DateOnly(2026, 12, 4), yearStart, 10));
        // Across Christmas: after a last mark on Friday 18 December the autumn term is over, so the count runs on in January.
        Assert.True(MissingEducationRule.From(new DateOnly(2025, 9, 1), new DateOnly(2026, 12, 18), yearStart, 10) > new DateOnly(2027, 1, 5));
        // No mark this year: counted from the year's start, or from a later enrolment.
        Assert.Equal(MissingEducationRule.From(new DateOnly(2025, 9, 1), null, yearStart, 10), MissingEducationRule.From(new DateOnly(2026, 8, 1), null, yearStart, 10));
        Assert.True(MissingEducationRule.From(new DateOnly(2026, 11, 2), null, yearStart, 10) > MissingEducationRule.From(new DateOnly(2025, 9, 1), null, yearStart, 10));
    }
}

public sealed class ChildChecksTests(Subscriptions.WebhookApiFactory api) : ChildChecksTestsBase<Subscriptions.WebhookApiFactory>(api), IClassFixture<Subscriptions.WebhookApiFactory>;

public sealed class PostgresChildChecksTests : ChildChecksTestsBase<Subscriptions.PostgresWebhookApiFactory>, IClassFixture<Subscriptions.PostgresWebhookApiFactory>
{
    private readonly Subscriptions.PostgresWebhookApiFactory _api;

    public PostgresChildChecksTests(Subscriptions.PostgresWebhookApiFactory api) : base(api)
    {
        Postgres.SkipUnlessAvailable();
        _api = api;
    }

    private async Task<ChildChecks.Report> RunAsync()
    {
        using var scope = _api.Services.CreateScope();
        return await scope.ServiceProvider.GetRequiredService<ChildChecks>().RunOnceAsync(CancellationToken.None);
    }

    /// <summary>Instances on one database take turns: while another holds the checks' lease, a run does nothing.</summary>
    [SkippableFact]
    public async Task ARunIsSkippedWhileAnotherInstanceHoldsTheChecksLease()
    {
        _api.Time.Offset = TimeSpan.Zero;
        _ = await _api.EnrolledPupilAsync(); // a child in care, so a run has something to check
        await using var other = new Npgsql.NpgsqlConnection(_api.PostgresConnectionString);
        await other.OpenAsync();
        await using (var take = new Npgsql.NpgsqlCommand($"SELECT pg_advisory_lock({ChildChecks.RunLease})", other))
        {
            await take.ExecuteNonQueryAsync();
        }

        var skipped = await RunAsync();
        Assert.True(skipped.Skipped);
        Assert.Equal(0, skipped.Checked);

        await using (var release = new Npgsql.NpgsqlCommand($"SELECT pg_advisory_unlock({ChildChecks.RunLease})", other))
        {
            await release.ExecuteNonQueryAsync();
        }

        var ran = await RunAsync();
        Assert.False(ran.Skipped);
        Assert.True(ran.Checked > 0);
        // The run gave its lease back: the other instance can take it at once.
        await using var retake = new Npgsql.NpgsqlCommand($"SELECT pg_try_advisory_lock({ChildChecks.RunLease})", other);
        Assert.True((bool)(await retake.ExecuteScalarAsync())!);
    }
}
