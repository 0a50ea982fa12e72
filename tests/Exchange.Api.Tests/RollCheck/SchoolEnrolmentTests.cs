using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Exchange.Api.Tests.AuditReview;
using Exchange.Api.Tests.Infrastructure;

namespace Exchange.Api.Tests.RollCheck;

/// <summary>
/// A school declares the enrolment of a child its roll check found: it starts at once, the responsible council is
/// told through the outbox, and the council may end it. A school cannot enrol a child the roll check did not find for it.
/// </summary>
public abstract class SchoolEnrolmentTestsBase<TFactory>(TFactory api) where TFactory : ExchangeApiFactory
{
    private readonly TFactory _api = api;

    private async Task<(string Org, HttpClient Mis, string ChildId, string Upn)> FoundByRollCheckAsync()
    {
        var (org, mis) = await _api.NewSchoolAsync();
        var upn = TestIdentifiers.NewUpn();
        var child = await _api.RegisterChildAsync(new { upn });
        Assert.Equal(child, (await mis.CheckRollAsync(new { upn })).GetProperty("matches")[0].GetProperty("childId").GetString());
        return (org, mis, child, upn);
    }

    /// <summary>The outbox rows of a type for a child, read from the database (their delivery is not served yet).</summary>
    private async Task<int> OutboxItemsAsync(string childId, string type) =>
        Convert.ToInt32(await _api.StoreScalarAsync($"SELECT COUNT(*) FROM outbox_items WHERE \"ChildId\" = '{childId}' AND \"Type\" = '{type}'"),
            System.Globalization.CultureInfo.InvariantCulture);

    [SkippableFact]
    public async Task ASchoolEnrolsAChildItsRollCheckFoundAndTheCouncilIsToldOnce()
    {
        var (org, mis, child, upn) = await FoundByRollCheckAsync();

        var enrolled = await mis.PostAsJsonAsync("/v1/enrolments", new { childId = child, urn = org[7..], startDate = RollCheckSupport.Today });
        Assert.Equal(HttpStatusCode.Created, enrolled.StatusCode);
        var enrolment = JsonDocument.Parse(await enrolled.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(org, enrolment.GetProperty("organisation").GetString());
        Assert.Equal(RollCheckSupport.Today, enrolment.GetProperty("startDate").GetString());
        Assert.Equal(1, await OutboxItemsAsync(child, "pupil-enrolled"));

        // A retry finds the same enrolment and tells nobody twice.
        var again = await mis.PostAsJsonAsync("/v1/enrolments", new { childId = child, urn = org[7..], startDate = RollCheckSupport.Today });
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal(enrolment.GetProperty("id").GetString(), JsonDocument.Parse(await again.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString());
        Assert.Equal(1, await OutboxItemsAsync(child, "pupil-enrolled"));

        // The council sees the enrolment the school recorded, and the next roll check says the school has it.
        var enrolments = JsonDocument.Parse(await _api.Council202.GetStringAsync($"/v1/children/{child}/enrolments")).RootElement.GetProperty("items");
        Assert.Contains(enrolments.EnumerateArray(), e => e.GetProperty("urn").GetString() == org[7..]);
        Assert.True((await mis.CheckRollAsync(new { upn })).GetProperty("matches")[0].GetProperty("enrolledHere").GetBoolean());
        Assert.Contains(await _api.EventsOfAsync($"childId={child}", "enrolment.record"), e => e.GetProperty("rule").GetString() == "school-declares-enrolment"
            && e.GetProperty("status").GetInt32() == 201);
    }

    [SkippableFact]
    public async Task ASchoolWhoseRollCheckDidNotFindTheChildCannotEnrolIt()
    {
        var (_, _, child, _) = await FoundByRollCheckAsync();
        var (other, otherMis) = await _api.NewSchoolAsync();

        await Problem.AssertAsync(await otherMis.PostAsJsonAsync("/v1/enrolments", new { childId = child, urn = other[7..], startDate = RollCheckSupport.Today }), HttpStatusCode.NotFound, "child-not-found");
        await Problem.AssertAsync(await otherMis.PostAsJsonAsync("/v1/enrolments", new { childId = "ch_00000000000000000000000000", urn = other[7..], startDate = RollCheckSupport.Today }), HttpStatusCode.NotFound, "child-not-found");
        Assert.Equal(0, await OutboxItemsAsync(child, "pupil-enrolled"));
        Assert.Contains(await _api.EventsAsync($"childId={child}&decision=deny"), e => e.GetProperty("action").GetString() == "enrolment.record"
            && e.GetProperty("actor").GetProperty("org").GetString() == other);
    }

    [SkippableTheory]
    [InlineData("other-urn")]
    [InlineData("yesterday")]
    public async Task ASchoolDeclaresOnlyItsOwnEnrolmentFromToday(string wrong)
    {
        var (org, mis, child, _) = await FoundByRollCheckAsync();
        var body = wrong == "other-urn"
            ? new { childId = child, urn = "100002", startDate = RollCheckSupport.Today }
            : new { childId = child, urn = org[7..], startDate = DateOnly.FromDateTime(DateTime.UtcNow).AddDays(-1).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture) };

        await Problem.AssertAsync(await mis.PostAsJsonAsync("/v1/enrolments", body), HttpStatusCode.BadRequest, "school-enrolment-invalid");

        Assert.Equal(0, await OutboxItemsAsync(child, "pupil-enrolled"));
    }

    [SkippableFact]
    public async Task TheCouncilEndsAWrongEnrolmentAndNoSchoolEndsAnothersEnrolment()
    {
        var (org, mis, child, upn) = await FoundByRollCheckAsync();
        var (other, otherMis) = await _api.NewSchoolAsync();
        Assert.Equal(1, (await otherMis.CheckRollAsync(new { upn })).GetProperty("matches").GetArrayLength());
        var enrolled = await mis.PostAsJsonAsync("/v1/enrolments", new { childId = child, urn = org[7..], startDate = RollCheckSupport.Today });
        var id = JsonDocument.Parse(await enrolled.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString();

        // The other school's roll check found the child too, but the enrolment is not its own.
        await Problem.AssertAsync(await otherMis.PostAsJsonAsync($"/v1/enrolments/{id}/end", new { endDate = RollCheckSupport.Today }), HttpStatusCode.NotFound, "relationship-not-found");

        var ended = await _api.Council202.PostAsJsonAsync($"/v1/enrolments/{id}/end", new { endDate = RollCheckSupport.Today });
        Assert.Equal(HttpStatusCode.OK, ended.StatusCode);
        Assert.Equal(RollCheckSupport.Today, JsonDocument.Parse(await ended.Content.ReadAsStringAsync()).RootElement.GetProperty("endDate").GetString());
        var ends = await _api.EventsOfAsync($"childId={child}", "enrolment.end");
        Assert.Contains(ends, e => e.GetProperty("actor").GetProperty("org").GetString() == other && e.GetProperty("decision").GetString() == "deny" && e.GetProperty("status").GetInt32() == 404);
        Assert.Contains(ends, e => e.GetProperty("actor").GetProperty("org").GetString() == "la:202" && e.GetProperty("status").GetInt32() == 200);
    }
}

public sealed class SqliteSchoolEnrolmentTests(ExchangeApiFactory api) : SchoolEnrolmentTestsBase<ExchangeApiFactory>(api), IClassFixture<ExchangeApiFactory>;

public sealed class PostgresSchoolEnrolmentTests : SchoolEnrolmentTestsBase<PostgresApiFactory>, IClassFixture<PostgresApiFactory>
{
    public PostgresSchoolEnrolmentTests(PostgresApiFactory api) : base(api) => Postgres.SkipUnlessAvailable();
}
