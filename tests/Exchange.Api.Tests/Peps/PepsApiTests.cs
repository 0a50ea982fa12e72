using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Exchange.Api.Tests.Infrastructure;
using Exchange.Api.Tests.RollCheck;

namespace Exchange.Api.Tests.Peps;

/// <summary>
/// A designated teacher writes a PEP, submits it; the responsible council's virtual school returns it, then approves
/// it. Every save is a version; every write names the version it changes (428 without, 412 stale); each role sees the
/// plan through its mask; bad input is refused and stores nothing.
/// </summary>
public abstract class PepsApiTestsBase<TFactory>(TFactory api) where TFactory : ExchangeApiFactory
{
    private const string Voice = "I like maths and want to stay at this school with my friends.";
    private const string Health = "Asthma: inhaler kept in the school office; CAMHS appointment fortnightly.";

    private HttpClient VirtualSchool => api.WithToken(api.Issuer.Token("la:202", ["virtual-school"]), "pep-review");

    private HttpClient SocialWorker => api.WithToken(api.Issuer.Token("la:202", ["social-worker"]), "pep-review");

    /// <summary>A school of its own with a pupil in Camden's care since 2025-09-01, enrolled there from the same day, and its designated teacher.</summary>
    private async Task<(string Org, HttpClient Teacher, string ChildId)> PupilAsync(string? childId = null)
    {
        var (org, _, child) = await api.EnrolledPupilAsync(childId);
        return (org, api.WithToken(api.Issuer.Token(org, ["designated-teacher"]), "pep-review"), child);
    }

    private static Dictionary<string, object?> Plan(string meetingDate = "2026-11-10", string? health = null, string voice = Voice)
    {
        var plan = new Dictionary<string, object?>
        {
            ["meetingDate"] = meetingDate,
            ["nextReviewDate"] = "2027-02-09",
            ["designatedTeacher"] = "Ms A. Teacher",
            ["attendees"] = new[] { "Designated teacher", "Social worker", "Foster carer", "The pupil" },
            ["targets"] = new[]
            {
                new { id = "T1", description = "Read one chapter book a fortnight", measure = "Reading log checked weekly", dueBy = "2027-02-01", status = "in-progress" },
                new { id = "T2", description = "Attend every maths booster session", measure = "Register of booster sessions", dueBy = "2027-03-31", status = "not-started" },
            },
            ["pupilPremiumPlus"] = new[] { new { targetId = "T1", amount = 350.50m, description = "Reading tutor, 10 sessions" } },
            ["senStatus"] = "sen-support",
            ["attainment"] = "Working towards the expected standard in reading; at it in maths.",
            ["pupilVoice"] = voice,
            ["carerViews"] = "Settled at home; homework routine is working.",
        };
        if (health is not null)
        {
            plan["healthSection"] = health;
        }

        return plan;
    }

    private static async Task<HttpResponseMessage> SendAsync(HttpClient client, HttpMethod method, string url, object? body = null, string? ifMatch = null)
    {
        using var request = new HttpRequestMessage(method, url) { Content = body is null ? null : JsonContent.Create(body) };
        if (ifMatch is not null)
        {
            request.Headers.TryAddWithoutValidation("If-Match", ifMatch);
        }

        return await client.SendAsync(request);
    }

    private static async Task<(JsonElement Body, string? ETag)> OkAsync(HttpResponseMessage response, HttpStatusCode expected = HttpStatusCode.OK)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"{(int)response.StatusCode}: {text}");
        return (JsonDocument.Parse(text).RootElement.Clone(), response.Headers.ETag?.Tag);
    }

    private async Task<int> CountAsync(string table, string childId, string? type = null) =>
        Convert.ToInt32(await api.StoreScalarAsync($"SELECT COUNT(*) FROM {table} WHERE \"ChildId\" = '{childId}'" + (type is null ? "" : $" AND \"Type\" = '{type}'")),
            CultureInfo.InvariantCulture);

    [SkippableFact]
    public async Task TheSchoolWritesAndSubmitsTheCouncilReturnsThenApprovesAndEveryStepIsAVersion()
    {
        var (org, teacher, child) = await PupilAsync();
        var url = $"/v1/children/{child}/pep";
        await Problem.AssertAsync(await teacher.GetAsync(url), HttpStatusCode.NotFound, "pep-not-found");

        var (created, etag) = await OkAsync(await SendAsync(teacher, HttpMethod.Put, url, Plan()), HttpStatusCode.Created);
        Assert.Equal("\"1\"", etag);
        Assert.Equal("draft", created.GetProperty("status").GetString());
        Assert.Equal(Voice, created.GetProperty("pupilVoice").GetString());
        Assert.Equal(350.50m, created.GetProperty("pupilPremiumPlus")[0].GetProperty("amount").GetDecimal());

        // An existing plan is changed only by naming the version read: without If-Match 428, with an old one 412.
        await Problem.AssertAsync(await SendAsync(teacher, HttpMethod.Put, url, Plan(voice: "Changed.")), (HttpStatusCode)428, "precondition-required");
        await Problem.AssertAsync(await SendAsync(teacher, HttpMethod.Put, url, Plan(voice: "Changed."), "\"7\""), HttpStatusCode.PreconditionFailed, "precondition-failed");
        await Problem.AssertAsync(await SendAsync(teacher, HttpMethod.Put, url, Plan(voice: "Changed."), "W/\"1\""), HttpStatusCode.PreconditionFailed, "precondition-failed");
        var (second, etag2) = await OkAsync(await SendAsync(teacher, HttpMethod.Put, url, Plan(voice: "Changed."), etag));
        Assert.Equal(("\"2\"", 2), (etag2, second.GetProperty("version").GetInt32()));
        // Two writers who read version 1: the second is refused, not silently overwritten.
        await Problem.AssertAsync(await SendAsync(VirtualSchool, HttpMethod.Put, url, Plan(), etag), HttpStatusCode.PreconditionFailed, "precondition-failed");

        var (submitted, etag3) = await OkAsync(await SendAsync(teacher, HttpMethod.Post, url + "/submit", null, etag2));
        Assert.Equal("submitted", submitted.GetProperty("status").GetString());
        Assert.Equal("Changed.", submitted.GetProperty("pupilVoice").GetString());
        Assert.Equal(1, await CountAsync("outbox_items", child, "pep-submitted"));
        await Problem.AssertAsync(await SendAsync(teacher, HttpMethod.Put, url, Plan(), etag3), HttpStatusCode.Conflict, "pep-under-review");

        var (returned, etag4) = await OkAsync(await SendAsync(VirtualSchool, HttpMethod.Post, url + "/return", new { reason = "Targets need a measure the carer can see." }, etag3));
        Assert.Equal("returned", returned.GetProperty("status").GetString());
        Assert.Equal(1, await CountAsync("outbox_items", child, "pep-returned"));
        var (teacherSees, _) = await OkAsync(await teacher.GetAsync(url));
        Assert.Equal("Targets need a measure the carer can see.", teacherSees.GetProperty("returnReason").GetString());

        var (_, etag5) = await OkAsync(await SendAsync(teacher, HttpMethod.Put, url, Plan(), etag4));
        var (_, etag6) = await OkAsync(await SendAsync(teacher, HttpMethod.Post, url + "/submit", null, etag5));
        var (approved, etag7) = await OkAsync(await SendAsync(VirtualSchool, HttpMethod.Post, url + "/approve", new { quality = "green" }, etag6));
        Assert.Equal(("approved", "green", "\"7\""), (approved.GetProperty("status").GetString(), approved.GetProperty("quality").GetString(), etag7));
        Assert.Equal("2026-11-10", approved.GetProperty("lastReviewedOn").GetString());
        Assert.Equal("2026-11-10", approved.GetProperty("startedOn").GetString());
        // Reviewed in the autumn term: the next review is due by the end of the spring term (standard English dates).
        Assert.Equal(("2027-03-31", "termly-review", "standard-english"),
            (approved.GetProperty("reviewDue").GetString(), approved.GetProperty("reviewDueReason").GetString(), approved.GetProperty("termDates").GetString()));
        Assert.Equal(1, await CountAsync("outbox_items", child, "pep-approved"));

        var (versions, _) = await OkAsync(await VirtualSchool.GetAsync(url + "/versions"));
        Assert.Equal("draft draft submitted returned draft submitted approved",
            string.Join(' ', versions.GetProperty("items").EnumerateArray().Select(v => v.GetProperty("status").GetString())));
        Assert.Equal(string.Join(' ', org, org, org, "la:202", org, org, "la:202"),
            string.Join(' ', versions.GetProperty("items").EnumerateArray().Select(v => v.GetProperty("recordedBy").GetString())));
        var (first, _) = await OkAsync(await VirtualSchool.GetAsync(url + "/versions/1"));
        Assert.Equal(Voice, first.GetProperty("pupilVoice").GetString());
        await Problem.AssertAsync(await VirtualSchool.GetAsync(url + "/versions/8"), HttpStatusCode.NotFound, "pep-not-found");
        Assert.Equal(7, await CountAsync("pep_versions", child));
    }

    [SkippableFact]
    public async Task EachStepOutOfTurnOrByTheWrongSideIsRefusedAndChangesNothing()
    {
        var (_, teacher, child) = await PupilAsync();
        var url = $"/v1/children/{child}/pep";
        await Problem.AssertAsync(await SendAsync(teacher, HttpMethod.Post, url + "/submit", null, "\"1\""), HttpStatusCode.NotFound, "pep-not-found");
        var (_, etag) = await OkAsync(await SendAsync(teacher, HttpMethod.Put, url, Plan()), HttpStatusCode.Created);

        // A draft is neither returned nor approved; the school does not approve, the council does not submit.
        await Problem.AssertAsync(await SendAsync(VirtualSchool, HttpMethod.Post, url + "/approve", new { quality = "green" }, etag), HttpStatusCode.Conflict, "pep-transition-invalid");
        await Problem.AssertAsync(await SendAsync(VirtualSchool, HttpMethod.Post, url + "/return", new { reason = "No." }, etag), HttpStatusCode.Conflict, "pep-transition-invalid");
        await Problem.AssertAsync(await SendAsync(VirtualSchool, HttpMethod.Post, url + "/submit", null, etag), HttpStatusCode.Forbidden, "pep-step-not-yours");
        var (_, submitted) = await OkAsync(await SendAsync(teacher, HttpMethod.Post, url + "/submit", null, etag));
        await Problem.AssertAsync(await SendAsync(teacher, HttpMethod.Post, url + "/approve", new { quality = "green" }, submitted), HttpStatusCode.Forbidden, "pep-step-not-yours");
        await Problem.AssertAsync(await SendAsync(teacher, HttpMethod.Post, url + "/submit", null, submitted), HttpStatusCode.Conflict, "pep-transition-invalid");
        await Problem.AssertAsync(await SendAsync(VirtualSchool, HttpMethod.Post, url + "/approve", new { quality = "purple" }, submitted), HttpStatusCode.BadRequest, "pep-quality");
        await Problem.AssertAsync(await SendAsync(VirtualSchool, HttpMethod.Post, url + "/return", new { reason = "  " }, submitted), HttpStatusCode.BadRequest, "pep-return-reason");
        await Problem.AssertAsync(await SendAsync(VirtualSchool, HttpMethod.Post, url + "/approve", new { quality = "amber" }), (HttpStatusCode)428, "precondition-required");
        var (_, approved) = await OkAsync(await SendAsync(VirtualSchool, HttpMethod.Post, url + "/approve", new { quality = "amber" }, submitted));
        await Problem.AssertAsync(await SendAsync(VirtualSchool, HttpMethod.Post, url + "/approve", new { quality = "green" }, approved), HttpStatusCode.Conflict, "pep-transition-invalid");
        await Problem.AssertAsync(await SendAsync(VirtualSchool, HttpMethod.Post, url + "/return", new { reason = "Late." }, approved), HttpStatusCode.Conflict, "pep-transition-invalid");
        await Problem.AssertAsync(await SendAsync(teacher, HttpMethod.Post, url + "/submit", null, approved), HttpStatusCode.Conflict, "pep-transition-invalid");
        Assert.Equal(3, await CountAsync("pep_versions", child));

        // The next term's review starts from the approved plan as a new draft.
        var (next, _) = await OkAsync(await SendAsync(teacher, HttpMethod.Put, url, Plan("2026-12-01"), approved));
        Assert.Equal(("draft", 4), (next.GetProperty("status").GetString(), next.GetProperty("version").GetInt32()));
    }

    [SkippableFact]
    public async Task EachRoleSeesThePlanThroughItsMaskAndTheTeacherSeesHealthOnlyWithConsent()
    {
        var (org, teacher, child) = await PupilAsync();
        var url = $"/v1/children/{child}/pep";
        var (_, etag) = await OkAsync(await SendAsync(VirtualSchool, HttpMethod.Put, url, Plan(health: Health)), HttpStatusCode.Created);

        var (council, _) = await OkAsync(await VirtualSchool.GetAsync(url));
        Assert.Equal(Health, council.GetProperty("healthSection").GetString());

        var (withoutConsent, _) = await OkAsync(await teacher.GetAsync(url));
        Assert.Equal(Voice, withoutConsent.GetProperty("pupilVoice").GetString());
        Assert.False(withoutConsent.TryGetProperty("healthSection", out _));

        // The teacher cannot write what it cannot see, and its save keeps the health section held.
        await Problem.AssertAsync(await SendAsync(teacher, HttpMethod.Put, url, Plan(health: "Nothing to note."), etag), HttpStatusCode.Forbidden, "pep-health-not-writable");
        var (_, etag2) = await OkAsync(await SendAsync(teacher, HttpMethod.Put, url, Plan(voice: "New words."), etag));
        var (afterTeacher, _) = await OkAsync(await VirtualSchool.GetAsync(url));
        Assert.Equal((Health, "New words.", "\"2\""), (afterTeacher.GetProperty("healthSection").GetString(), afterTeacher.GetProperty("pupilVoice").GetString(), etag2));

        // A council save that leaves the section out keeps it too (omission is not deletion).
        var (_, etag3) = await OkAsync(await SendAsync(VirtualSchool, HttpMethod.Put, url, Plan(voice: "Council words."), etag2));
        Assert.Equal(Health, (await OkAsync(await VirtualSchool.GetAsync(url))).Body.GetProperty("healthSection").GetString());
        Assert.Equal("\"3\"", etag3);

        // The health body reads the health section and the due date; not the version, in the body or the header, nor the history.
        Assert.Equal(HttpStatusCode.Created, (await api.Council202.PostAsJsonAsync($"/v1/children/{child}/health-responsibility", new { ods = "ZZ901", startDate = "2025-09-01" })).StatusCode);
        var nurse = api.WithToken(api.Issuer.Token("health:ZZ901", ["lac-nurse"]), "health-assessment");
        var nurseRead = await nurse.GetAsync(url);
        var (nurseSees, nurseTag) = await OkAsync(nurseRead);
        Assert.Equal((Health, null), (nurseSees.GetProperty("healthSection").GetString(), nurseTag));
        Assert.True(nurseSees.TryGetProperty("reviewDue", out _));
        Assert.False(nurseSees.TryGetProperty("version", out _));
        Assert.False(nurseSees.TryGetProperty("pupilVoice", out _));
        await Problem.AssertAsync(await nurse.GetAsync(url + "/versions"), HttpStatusCode.Forbidden, "forbidden");

        var (social, _) = await OkAsync(await SocialWorker.GetAsync(url));
        Assert.Equal(("draft", "2026-11-10"), (social.GetProperty("status").GetString(), social.GetProperty("meetingDate").GetString()));
        Assert.True(social.TryGetProperty("reviewDue", out _));
        foreach (var hidden in new[] { "pupilVoice", "targets", "healthSection", "carerViews", "attendees", "pupilPremiumPlus", "designatedTeacher", "attainment" })
        {
            Assert.False(social.TryGetProperty(hidden, out _), hidden);
        }

        Assert.Equal(HttpStatusCode.Created, (await api.Council202.PostAsJsonAsync($"/v1/children/{child}/consents",
            new { givenBy = "young-person", categories = new[] { "pep" }, recipients = new[] { org }, purposes = new[] { "pep-review" }, from = "2025-10-01" })).StatusCode);
        var (withConsent, _) = await OkAsync(await teacher.GetAsync(url));
        Assert.Equal(Health, withConsent.GetProperty("healthSection").GetString());

        // Everything a person wrote is sealed: none of it is in the rows in plain text.
        foreach (var column in new[] { "SealedContent", "SealedHealth" })
        {
            var stored = Assert.IsType<byte[]>(await api.StoreScalarAsync($"SELECT \"{column}\" FROM pep_versions WHERE \"ChildId\" = '{child}' AND \"Version\" = 2"));
            Assert.NotEmpty(stored);
            Assert.DoesNotContain("CAMHS", Encoding.UTF8.GetString(stored), StringComparison.Ordinal);
            Assert.DoesNotContain("New words", Encoding.UTF8.GetString(stored), StringComparison.Ordinal);
        }
    }

    [SkippableFact]
    public async Task AnotherSchoolAnotherCouncilAndTheSchoolsMisNeitherReadNorWriteThePlan()
    {
        var (_, teacher, child) = await PupilAsync();
        var url = $"/v1/children/{child}/pep";
        var (_, etag) = await OkAsync(await SendAsync(teacher, HttpMethod.Put, url, Plan()), HttpStatusCode.Created);

        var (otherOrg, _) = await api.NewSchoolAsync();
        var otherTeacher = api.WithToken(api.Issuer.Token(otherOrg, ["designated-teacher"]), "pep-review");
        var otherCouncil = api.WithToken(api.Issuer.Token("la:209", ["virtual-school"]), "pep-review");
        foreach (var outsider in new[] { otherTeacher, otherCouncil })
        {
            Assert.False((await outsider.GetAsync(url)).IsSuccessStatusCode);
            Assert.False((await SendAsync(outsider, HttpMethod.Put, url, Plan(voice: "Taken over."), etag)).IsSuccessStatusCode);
            Assert.False((await SendAsync(outsider, HttpMethod.Post, url + "/submit", null, etag)).IsSuccessStatusCode);
        }

        // The school's attendance system holds no PEP rule; an NHS number where the child id belongs finds nothing.
        var mis = api.WithToken(api.Issuer.Token(otherOrg, ["school-mis"]), "attendance-monitoring");
        Assert.Equal(HttpStatusCode.Forbidden, (await mis.GetAsync(url)).StatusCode);
        Assert.False((await VirtualSchool.GetAsync($"/v1/children/{TestIdentifiers.NewNhs()}/pep")).IsSuccessStatusCode);
        Assert.Equal(1, await CountAsync("pep_versions", child));
    }

    [SkippableFact]
    public async Task AMergeBringsTheMergedChildsPlanToTheSurvivorWithEveryVersionReadable()
    {
        var (nhs, upn) = (TestIdentifiers.NewNhs(), TestIdentifiers.NewUpn());
        var survivor = await api.RegisterChildAsync(new { nhsNumber = nhs });
        var merged = await api.RegisterChildAsync(new { upn });
        var (_, teacher, _) = await PupilAsync(merged);
        var (_, etag) = await OkAsync(await SendAsync(VirtualSchool, HttpMethod.Put, $"/v1/children/{merged}/pep", Plan(health: Health)), HttpStatusCode.Created);
        await OkAsync(await SendAsync(teacher, HttpMethod.Post, $"/v1/children/{merged}/pep/submit", null, etag));

        var conflict = await Problem.AssertAsync(await api.Council209.ResolveAsync(new { nhsNumber = nhs, upn }), HttpStatusCode.Conflict, "identity-conflict");
        Assert.Equal(HttpStatusCode.OK, (await api.Admin.PostAsJsonAsync($"/v1/identity-reviews/{conflict.GetProperty("reviewId").GetString()}/merge", new { survivorChildId = survivor })).StatusCode);

        var (current, currentTag) = await OkAsync(await VirtualSchool.GetAsync($"/v1/children/{survivor}/pep"));
        Assert.Equal((survivor, "submitted", Health, Voice, "\"2\""),
            (current.GetProperty("childId").GetString(), current.GetProperty("status").GetString(), current.GetProperty("healthSection").GetString(),
             current.GetProperty("pupilVoice").GetString(), currentTag));
        var (first, _) = await OkAsync(await VirtualSchool.GetAsync($"/v1/children/{survivor}/pep/versions/1"));
        Assert.Equal(Voice, first.GetProperty("pupilVoice").GetString());
        Assert.Equal(0, await CountAsync("pep_versions", merged));
    }

    [SkippableFact]
    public async Task TheSubjectAccessExportHoldsEveryVersionUntilErasureShredsItsWords()
    {
        var (_, teacher, child) = await PupilAsync();
        var url = $"/v1/children/{child}/pep";
        var (_, etag) = await OkAsync(await SendAsync(VirtualSchool, HttpMethod.Put, url, Plan(health: Health)), HttpStatusCode.Created);
        var (_, submitted) = await OkAsync(await SendAsync(teacher, HttpMethod.Post, url + "/submit", null, etag));
        await OkAsync(await SendAsync(VirtualSchool, HttpMethod.Post, url + "/return", new { reason = "Add the carer's views on homework." }, submitted));
        var dpo = api.WithToken(api.Issuer.Token("operator:exchange", "dpo"), "subject-access");

        var before = JsonDocument.Parse(await dpo.GetStringAsync($"/v1/children/{child}/subject-access-export")).RootElement;
        var versions = before.GetProperty("peps").EnumerateArray().ToList();
        Assert.Equal(3, versions.Count);
        Assert.Equal(Voice, versions[0].GetProperty("content").GetProperty("pupilVoice").GetString());
        Assert.Equal(Health, versions[2].GetProperty("healthSection").GetString());
        Assert.Equal("Add the carer's views on homework.", versions[2].GetProperty("returnReason").GetString());

        Assert.Equal(HttpStatusCode.OK, (await dpo.PostAsync($"/v1/children/{child}/erase", null)).StatusCode);
        await Problem.AssertAsync(await VirtualSchool.GetAsync(url), HttpStatusCode.Gone, "child-erased");
        await Problem.AssertAsync(await SendAsync(teacher, HttpMethod.Put, url, Plan(), "\"3\""), HttpStatusCode.Gone, "child-erased");
        // What is still held says there were three versions and their steps; not a word of what they said.
        var after = JsonDocument.Parse(await dpo.GetStringAsync($"/v1/children/{child}/subject-access-export")).RootElement;
        Assert.Equal("draft submitted returned", string.Join(' ', after.GetProperty("peps").EnumerateArray().Select(v => v.GetProperty("status").GetString())));
        Assert.All(after.GetProperty("peps").EnumerateArray(), v => Assert.Equal(JsonValueKind.Null, v.GetProperty("content").ValueKind));
        Assert.DoesNotContain("CAMHS", after.GetRawText(), StringComparison.Ordinal);
        Assert.DoesNotContain("homework", after.GetRawText(), StringComparison.Ordinal);
    }

    public static TheoryData<string, object?, string> BadPlans => new()
    {
        { "meetingDate", "2026-02-30", "pep-meeting-date" },
        { "meetingDate", "2099-01-01", "pep-meeting-date" },
        { "meetingDate", null, "pep-meeting-date" },
        { "meetingDate", "9999-06-01", "pep-meeting-date" },
        { "nextReviewDate", "2026-11-01", "pep-next-review-date" },
        { "nextReviewDate", "2028-11-11", "pep-next-review-date" },
        { "designatedTeacher", "", "pep-text" },
        { "pupilVoice", new string('x', 4001), "pep-text" },
        { "carerViews", "bell\u0007", "pep-text" },
        { "healthSection", "   ", "pep-text" },
        { "attendees", new[] { "two\nlines" }, "pep-attendees" },
        { "attendees", new[] { "carriage\rreturn" }, "pep-attendees" },
        { "attendees", Enumerable.Repeat("Someone", 31).ToArray(), "pep-attendees" },
        { "targets", new[] { new { id = "T 1", description = "d", measure = "m", dueBy = "2027-01-01", status = "achieved" } }, "pep-targets" },
        { "targets", new[] { new { id = "T1", description = "d", measure = "m", dueBy = "2027-01-01", status = "done" } }, "pep-targets" },
        { "targets", new[] { new { id = "T1", description = "d", measure = "m", dueBy = "soon", status = "achieved" } }, "pep-targets" },
        { "targets", new[] { new { id = "T1\n", description = "d", measure = "m", dueBy = "2027-01-01", status = "achieved" } }, "pep-targets" },
        { "targets", new[] { new { id = "T1", description = "d", measure = "m", dueBy = "0001-01-01", status = "achieved" } }, "pep-targets" },
        { "targets", new[] { new { id = "T1", description = "d", measure = "m", dueBy = "2027-01-01", status = "achieved" }, new { id = "T1", description = "e", measure = "m", dueBy = "2027-01-01", status = "achieved" } }, "pep-targets" },
        { "pupilPremiumPlus", new[] { new { targetId = "T9", amount = 10m, description = "Tutor" } }, "pep-premium" },
        { "pupilPremiumPlus", new[] { new { targetId = "T1", amount = 0m, description = "Tutor" } }, "pep-premium" },
        { "pupilPremiumPlus", new[] { new { targetId = "T1", amount = 10.005m, description = "Tutor" } }, "pep-premium" },
        { "pupilPremiumPlus", new[] { new { targetId = "T1", amount = 10_000.01m, description = "Tutor" } }, "pep-premium" },
        { "senStatus", "K", "pep-sen-status" },
    };

    [SkippableTheory]
    [MemberData(nameof(BadPlans))]
    public async Task EachRuleRefusesBadInputWithItsCodeAndStoresNothing(string field, object? value, string code)
    {
        var (_, teacher, child) = await PupilAsync();
        var plan = Plan();
        // null: the field left out (an explicit null is refused as validation-failed across the API).
        if (value is null)
        {
            plan.Remove(field);
        }
        else
        {
            plan[field] = value;
        }

        await Problem.AssertAsync(await SendAsync(teacher, HttpMethod.Put, $"/v1/children/{child}/pep", plan), HttpStatusCode.BadRequest, code);
        Assert.Equal(0, await CountAsync("pep_versions", child));
    }
}

public sealed class SqlitePepsApiTests(ExchangeApiFactory api) : PepsApiTestsBase<ExchangeApiFactory>(api), IClassFixture<ExchangeApiFactory>;

public sealed class PostgresPepsApiTests : PepsApiTestsBase<PostgresApiFactory>, IClassFixture<PostgresApiFactory>
{
    public PostgresPepsApiTests(PostgresApiFactory api) : base(api) => Postgres.SkipUnlessAvailable();
}
