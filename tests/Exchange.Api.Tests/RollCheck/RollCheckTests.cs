using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Exchange.Api.Tests.AuditReview;
using Exchange.Api.Tests.Infrastructure;

namespace Exchange.Api.Tests.RollCheck;

/// <summary>
/// The roll check as a school's MIS uses it: which pupils of its roll are children in care now, and nothing about
/// anyone else; every match audited naming the child, the call audited with its size.
/// </summary>
public abstract class RollCheckTestsBase<TFactory>(TFactory api) where TFactory : ExchangeApiFactory
{
    [SkippableFact]
    public async Task OnlyPupilsInCareNowAreNamedWithTheirCouncil()
    {
        var (_, mis) = await api.NewSchoolAsync();
        var (inCare, byNhs, leftCare, unknown) = (TestIdentifiers.NewUpn(), TestIdentifiers.NewNhs(), TestIdentifiers.NewUpn(), TestIdentifiers.NewUpn());
        var child = await api.RegisterChildAsync(new { upn = inCare });
        var other = await api.RegisterChildAsync(new { nhsNumber = byNhs }, api.Council209);
        var former = await api.RegisterChildAsync(new { upn = leftCare });
        var episode = JsonDocument.Parse(await api.Council202.GetStringAsync($"/v1/children/{former}")).RootElement.GetProperty("careEpisodes")[0].GetProperty("id").GetString();
        var yesterday = DateOnly.FromDateTime(DateTime.UtcNow).AddDays(-1).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(HttpStatusCode.OK, (await api.Council202.PostAsJsonAsync($"/v1/children/{former}/care-episodes/{episode}/end", new { endDate = yesterday })).StatusCode);

        var answer = await mis.CheckRollAsync(
            new { upn = unknown },
            new { upn = inCare, dateOfBirth = "2015-03-01" },
            new { upn = leftCare },
            new { upn = TestIdentifiers.NewUpn(), nhsNumber = byNhs });

        Assert.Equal(4, answer.GetProperty("checked").GetInt32());
        Assert.Equal(0, answer.GetProperty("rejected").GetArrayLength());
        var matches = answer.GetProperty("matches").EnumerateArray().ToList();
        Assert.Equal(2, matches.Count);
        Assert.Equal(1, matches[0].GetProperty("index").GetInt32());
        Assert.Equal(child, matches[0].GetProperty("childId").GetString());
        Assert.Equal("la:202", matches[0].GetProperty("responsibleCouncil").GetString());
        Assert.False(matches[0].GetProperty("enrolledHere").GetBoolean());
        Assert.Equal(["upn"], matches[0].GetProperty("matchedOn").EnumerateArray().Select(m => m.GetString()));
        Assert.Equal(3, matches[1].GetProperty("index").GetInt32());
        Assert.Equal(other, matches[1].GetProperty("childId").GetString());
        Assert.Equal("la:209", matches[1].GetProperty("responsibleCouncil").GetString());
        Assert.Equal(["nhsNumber"], matches[1].GetProperty("matchedOn").EnumerateArray().Select(m => m.GetString()));
        Assert.DoesNotContain(former, answer.GetRawText(), StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task TheAnswerHasTheSameStatusAndShapeWhateverShareOfTheRollIsInCare()
    {
        var (_, mis) = await api.NewSchoolAsync();
        var upns = Enumerable.Range(0, 3).Select(_ => TestIdentifiers.NewUpn()).ToList();
        foreach (var upn in upns)
        {
            await api.RegisterChildAsync(new { upn });
        }

        var none = await mis.CheckRollAsync( upns.Select(_ => (object)new { upn = TestIdentifiers.NewUpn() }).ToArray());
        var all = await mis.CheckRollAsync( upns.Select(u => (object)new { upn = u }).ToArray());

        static IEnumerable<string> Keys(JsonElement e) => e.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal);
        Assert.Equal(Keys(none), Keys(all));
        Assert.Equal(3, none.GetProperty("checked").GetInt32());
        Assert.Equal(3, all.GetProperty("checked").GetInt32());
        Assert.Equal(0, none.GetProperty("matches").GetArrayLength());
        Assert.Equal(3, all.GetProperty("matches").GetArrayLength());
    }

    [SkippableFact]
    public async Task EachMatchIsAnEventNamingTheChildAndTheCallOneMoreWithItsSize()
    {
        var (org, mis) = await api.NewSchoolAsync();
        var (first, second) = (TestIdentifiers.NewUpn(), TestIdentifiers.NewUpn());
        var a = await api.RegisterChildAsync(new { upn = first });
        var b = await api.RegisterChildAsync(new { upn = second });

        await mis.CheckRollAsync( new { upn = first }, new { upn = TestIdentifiers.NewUpn() }, new { upn = second }, new { upn = "not a upn" }, new { upn = TestIdentifiers.NewUpn() });

        var events = await api.EventsOfAsync($"org={org}", "roll-check.run");
        var call = Assert.Single(events, e => e.GetProperty("child_id").ValueKind == JsonValueKind.Null);
        Assert.Equal(5, call.GetProperty("count").GetInt32());
        Assert.Equal("permit", call.GetProperty("decision").GetString());
        Assert.Equal("school-roll-check", call.GetProperty("rule").GetString());
        var named = events.Where(e => e.GetProperty("child_id").ValueKind == JsonValueKind.String).ToList();
        Assert.Equal(new[] { a, b }.Order(StringComparer.Ordinal), named.Select(e => e.GetProperty("child_id").GetString()!).Order(StringComparer.Ordinal));
        Assert.All(named, e => Assert.Equal(JsonValueKind.Null, e.GetProperty("count").ValueKind));
        Assert.All(named, e => Assert.Equal(call.GetProperty("request_id").GetString(), e.GetProperty("request_id").GetString()));
        // The child's own history shows which school learned it was in care.
        Assert.Contains(await api.EventsAsync($"childId={a}"), e => e.GetProperty("action").GetString() == "roll-check.run"
            && e.GetProperty("actor").GetProperty("org").GetString() == org);
    }

    [SkippableFact]
    public async Task AChildWhoseProcessingIsRestrictedIsNotDisclosed()
    {
        var (org, mis) = await api.NewSchoolAsync();
        var upn = TestIdentifiers.NewUpn();
        var child = await api.RegisterChildAsync(new { upn });
        var restricted = await api.Council202.PostAsJsonAsync($"/v1/children/{child}/restriction",
            new { active = true, purposes = new[] { "safeguarding" }, reason = "Accuracy is contested by the young person" });
        Assert.True(restricted.IsSuccessStatusCode, await restricted.Content.ReadAsStringAsync());

        var answer = await mis.CheckRollAsync( new { upn });

        Assert.Equal(1, answer.GetProperty("checked").GetInt32());
        Assert.Equal(0, answer.GetProperty("matches").GetArrayLength());
        Assert.DoesNotContain(await api.EventsAsync($"childId={child}"), e => e.GetProperty("action").GetString() == "roll-check.run");
        await Problem.AssertAsync(await mis.PostAsJsonAsync("/v1/enrolments", new { childId = child, urn = org[7..], startDate = RollCheckSupport.Today }), HttpStatusCode.NotFound, "child-not-found");
    }

    [SkippableFact]
    public async Task AnUnrelatedSchoolFindsAnotherSchoolsPupilOnlyByPresentingTheirIdentifiersAndIsAudited()
    {
        var (_, enrolling) = await api.NewSchoolAsync();
        var (stranger, strangerMis) = await api.NewSchoolAsync("209");
        var upn = TestIdentifiers.NewUpn();
        var child = await api.RegisterChildAsync(new { upn });
        Assert.Equal(1, (await enrolling.CheckRollAsync( new { upn })).GetProperty("matches").GetArrayLength());

        Assert.Equal(0, (await strangerMis.CheckRollAsync( new { upn = TestIdentifiers.NewUpn() }, new { nhsNumber = TestIdentifiers.NewNhs() })).GetProperty("matches").GetArrayLength());
        Assert.DoesNotContain(await api.EventsAsync($"childId={child}"), e => e.GetProperty("actor").GetProperty("org").GetString() == stranger);

        var presented = await strangerMis.CheckRollAsync( new { upn });
        Assert.Equal(child, presented.GetProperty("matches")[0].GetProperty("childId").GetString());
        Assert.Contains(await api.EventsAsync($"childId={child}"), e => e.GetProperty("actor").GetProperty("org").GetString() == stranger
            && e.GetProperty("action").GetString() == "roll-check.run");
    }

    [SkippableTheory]
    [InlineData("""{"upn":"A1234567890"}""", "upn", "upn-format")]
    [InlineData("""{"upn":"A12345678901Z"}""", "upn", "upn-check-letter")]
    [InlineData("""{"upn":"UNKNOWN"}""", "upn", "upn-format")]
    [InlineData("""{"nhsNumber":"12345"}""", "nhsNumber", "nhs-number-format")]
    [InlineData("""{"nhsNumber":"9434765918"}""", "nhsNumber", "nhs-number-invalid")]
    [InlineData("""{"dateOfBirth":"2015-01-01"}""", "upn", "identifiers-required")]
    [InlineData("""{}""", "upn", "identifiers-required")]
    [InlineData("""{"upn":"","nhsNumber":""}""", "upn", "identifiers-required")]
    [InlineData("""{"nhsNumber":"NHSNUMBER","dateOfBirth":"2015-01-01"}""", "nhsNumber", "nhs-number-format")]
    [InlineData("""{"upn":"@@UPN@@","dateOfBirth":"01/02/2015"}""", "dateOfBirth", "date-of-birth-format")]
    [InlineData("""{"upn":"@@UPN@@","dateOfBirth":"2099-01-01"}""", "dateOfBirth", "date-of-birth-format")]
    public async Task APupilWithBadIdentifiersIsRejectedAloneAndTheRestOfTheRollIsChecked(string pupil, string field, string type)
    {
        var (_, mis) = await api.NewSchoolAsync();
        var upn = TestIdentifiers.NewUpn();
        var child = await api.RegisterChildAsync(new { upn });
        var bad = pupil.Replace("@@UPN@@", TestIdentifiers.NewUpn(), StringComparison.Ordinal);
        var body = $$"""{"pupils":[{"upn":"{{upn}}"},{{bad}}]}""";

        var response = await mis.PostAsync("/v1/schools/roll-check", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var answer = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(1, answer.GetProperty("checked").GetInt32());
        Assert.Equal(child, answer.GetProperty("matches")[0].GetProperty("childId").GetString());
        var rejected = Assert.Single(answer.GetProperty("rejected").EnumerateArray());
        Assert.Equal(1, rejected.GetProperty("index").GetInt32());
        Assert.Equal(field, rejected.GetProperty("field").GetString());
        Assert.Equal(type, rejected.GetProperty("type").GetString());
        Assert.DoesNotContain("A12345678901Z", rejected.GetRawText(), StringComparison.Ordinal);
        Assert.DoesNotContain("9434765918", rejected.GetRawText(), StringComparison.Ordinal);
    }

    [SkippableTheory]
    [InlineData("""{}""", HttpStatusCode.BadRequest, "validation-failed")]
    [InlineData("""{"pupils":[]}""", HttpStatusCode.BadRequest, "validation-failed")]
    [InlineData("""{"pupils":[{"upn":"A1234567890"},null]}""", HttpStatusCode.BadRequest, "validation-failed")]
    [InlineData("""{"pupils":"all of them"}""", HttpStatusCode.BadRequest, "malformed-json")]
    [InlineData("""[{"upn":"A"}]""", HttpStatusCode.BadRequest, "malformed-json")]
    public async Task ARequestThatIsNotARollGetsAClearErrorAndIsNotCounted(string body, HttpStatusCode status, string code)
    {
        var (org, mis) = await api.NewSchoolAsync();

        await Problem.AssertAsync(await mis.PostAsync("/v1/schools/roll-check", new StringContent(body, System.Text.Encoding.UTF8, "application/json")), status, code);

        Assert.DoesNotContain(await api.EventsOfAsync($"org={org}", "roll-check.run"), e => e.GetProperty("decision").GetString() == "permit");
    }

    [SkippableFact]
    public async Task ARollOfMoreThanFiveThousandPupilsIsRefusedWhole()
    {
        var (org, mis) = await api.NewSchoolAsync();
        var pupils = Enumerable.Range(0, 5_001).Select(_ => new { nhsNumber = "9434765919" }).ToArray();

        await Problem.AssertAsync(await mis.PostAsJsonAsync("/v1/schools/roll-check", new { pupils }), HttpStatusCode.RequestEntityTooLarge, "batch-too-large");

        Assert.Contains(await api.EventsOfAsync($"org={org}", "roll-check.run"), e => e.GetProperty("status").GetInt32() == 413);
    }

    [SkippableFact]
    public async Task OnlyASchoolsMisChecksARoll()
    {
        var upn = TestIdentifiers.NewUpn();
        await api.RegisterChildAsync(new { upn });
        var body = new { pupils = new[] { new { upn } } };
        foreach (var (org, role) in new[] { ("la:202", "virtual-school"), ("la:202", "social-worker"), ("school:100001", "designated-teacher"), ("school:100001", "dpo"), ("health:ZZ901", "lac-nurse"), ("operator:exchange", "exchange-admin") })
        {
            var response = await api.WithToken(api.Issuer.Token(org, [role]), "attendance-monitoring").PostAsJsonAsync("/v1/schools/roll-check", body);
            Assert.True(response.StatusCode == HttpStatusCode.Forbidden, $"{org} {role}: {(int)response.StatusCode}");
            Assert.DoesNotContain(upn, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        await Problem.AssertAsync(await api.WithToken(null, "attendance-monitoring").PostAsJsonAsync("/v1/schools/roll-check", body), HttpStatusCode.Unauthorized, "unauthenticated");
        await Problem.AssertAsync(await api.WithToken(api.Issuer.Token("school:100001", ["school-mis"]), "safeguarding").PostAsJsonAsync("/v1/schools/roll-check", body),
            HttpStatusCode.Forbidden, "purpose-not-permitted");
        Assert.Contains(await api.EventsOfAsync("decision=deny&org=la:202", "roll-check.run"), e => e.GetProperty("status").GetInt32() == 403);
    }

}

public sealed class SqliteRollCheckTests(ExchangeApiFactory api) : RollCheckTestsBase<ExchangeApiFactory>(api), IClassFixture<ExchangeApiFactory>;

public sealed class PostgresRollCheckTests : RollCheckTestsBase<PostgresApiFactory>, IClassFixture<PostgresApiFactory>
{
    public PostgresRollCheckTests(PostgresApiFactory api) : base(api) => Postgres.SkipUnlessAvailable();
}
