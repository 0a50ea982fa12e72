using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Exchange.Api.Tests.AuditReview;
using Exchange.Api.Tests.Infrastructure;

namespace Exchange.Api.Tests.Policy;

/// <summary>
/// The shipped policy plus one rule that releases part of a category, loaded from files like any operator's
/// policy: the service changes what it answers with nothing but the files.
/// </summary>
public sealed class PartialMaskPolicyApiFactory : ExchangeApiFactory
{
    public const string ExtraRule = """

          - id: sw-placement-dates
            description: A social worker sees when a placement runs, not where.
            roles: [social-worker]
            relationship: responsible-council
            actions: [read]
            categories: [placement]
            purposes: [safeguarding]
            lawfulBasis: "UK GDPR Art. 6(1)(e) public task (test rule)"
            fields: [childId, startDate, endDate]
          - id: sw-placement-hosts
            description: For attendance monitoring, a social worker sees where a child has been placed, not when.
            roles: [social-worker]
            relationship: responsible-council
            actions: [read]
            categories: [placement]
            purposes: [attendance-monitoring]
            lawfulBasis: "UK GDPR Art. 6(1)(e) public task (test rule)"
            fields: [childId, hostLa]
        """;

    public PartialMaskPolicyApiFactory()
    {
        var directory = Path.Combine(DataDirectory, "policies");
        Directory.CreateDirectory(directory);
        foreach (var file in Directory.GetFiles(PolicyDecisionTableTests.PolicyDirectory, "*.yaml"))
        {
            File.Copy(file, Path.Combine(directory, Path.GetFileName(file)));
        }

        File.AppendAllText(Path.Combine(directory, "rules.yaml"), ExtraRule);
        Settings["Exchange:Policy:Directory"] = directory;
    }
}

public sealed class FieldMaskTests(PartialMaskPolicyApiFactory api) : IClassFixture<PartialMaskPolicyApiFactory>
{
    private HttpClient SocialWorker => api.WithToken(api.Issuer.Token("la:202", "social-worker"), "safeguarding");

    private HttpClient VirtualSchool => api.WithToken(api.Issuer.Token("la:202", "virtual-school"), "safeguarding");

    private async Task<string> PlacedChildAsync()
    {
        var childId = await Problem.ChildIdAsync(await api.Council202.RegisterAsync(new { nhsNumber = TestIdentifiers.NewNhs() }), HttpStatusCode.Created);
        Assert.Equal(HttpStatusCode.Created, (await api.Council202.PostAsJsonAsync($"/v1/children/{childId}/placements", new { la = "209", startDate = "2025-10-01" })).StatusCode);
        return childId;
    }

    [Fact]
    public async Task AHiddenFieldIsAbsentFromTheAnswerAndFromTheAuditedFields()
    {
        var childId = await PlacedChildAsync();
        var response = await SocialWorker.GetAsync($"/v1/children/{childId}/placements");
        var body = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var item = JsonDocument.Parse(body).RootElement.GetProperty("items")[0];
        Assert.False(item.TryGetProperty("hostLa", out _), body);
        Assert.DoesNotContain("209", body, StringComparison.Ordinal);
        Assert.Equal("2025-10-01", item.GetProperty("startDate").GetString());

        // The virtual school's rule releases the whole category.
        var whole = JsonDocument.Parse(await VirtualSchool.GetStringAsync($"/v1/children/{childId}/placements")).RootElement.GetProperty("items")[0];
        Assert.Equal("209", whole.GetProperty("hostLa").GetString());

        var read = Assert.Single(await api.EventsAsync($"childId={childId}&action=placement.list"), e => e.GetProperty("actor").GetProperty("roles")[0].GetString() == "social-worker");
        Assert.Equal("sw-placement-dates", read.GetProperty("rule").GetString());
        Assert.DoesNotContain("hostLa", read.GetProperty("fields").EnumerateArray().Select(f => f.GetString()));

        // The event names the fields the answer carried: the category's address and carer type are released by
        // the virtual school's rule, but a placement list has none, so none is recorded as released.
        var full = Assert.Single(await api.EventsAsync($"childId={childId}"),
            e => e.GetProperty("action").GetString() == "placement.list" && e.GetProperty("actor").GetProperty("roles")[0].GetString() == "virtual-school");
        Assert.Equal(["childId", "endDate", "hostLa", "startDate"], full.GetProperty("fields").EnumerateArray().Select(f => f.GetString()!).Order(StringComparer.Ordinal));

        // Where a category names whole results (the audit log's events), the endpoint's declared field is recorded.
        var search = (await api.EventsAsync("org=operator:exchange")).First(e => e.GetProperty("action").GetString() == "audit.events.search");
        Assert.Equal(["events"], search.GetProperty("fields").EnumerateArray().Select(f => f.GetString()));
    }

    [Theory]
    [InlineData("hostLa=209")]
    [InlineData("hostLa=208")]
    [InlineData("HOSTLA=209")]
    [InlineData("sort=hostLa")]
    [InlineData("sort=-hostLa")]
    public async Task AHiddenFieldCannotBeFilteredOrSortedBySoItCannotBeProbed(string query)
    {
        var childId = await PlacedChildAsync();
        // The same refusal whether the value would match or not: no oracle.
        await Problem.AssertAsync(await SocialWorker.GetAsync($"/v1/children/{childId}/placements?{query}"), HttpStatusCode.BadRequest, "filter-not-permitted");
    }

    [Fact]
    public async Task WhoMaySeeAFieldMayFilterByIt()
    {
        var childId = await PlacedChildAsync();
        var matching = JsonDocument.Parse(await VirtualSchool.GetStringAsync($"/v1/children/{childId}/placements?hostLa=209")).RootElement.GetProperty("items");
        var other = JsonDocument.Parse(await VirtualSchool.GetStringAsync($"/v1/children/{childId}/placements?hostLa=208")).RootElement.GetProperty("items");
        Assert.Equal(1, matching.GetArrayLength());
        Assert.Equal(0, other.GetArrayLength());
        await Problem.AssertAsync(await VirtualSchool.GetAsync($"/v1/children/{childId}/placements?sort=sideways"), HttpStatusCode.BadRequest, "validation-failed");
    }

    [Fact]
    public async Task HiddenDatesDoNotOrderTheList()
    {
        var childId = await PlacedChildAsync(); // placed with 209 from 2025-10-01
        // Within the council's care episode (from 2025-09-01): a council reads only what is dated within its episodes.
        foreach (var (start, end) in new[] { ("2025-09-02", "2025-09-05"), ("2025-09-08", "2025-09-12"), ("2025-09-15", "2025-09-19"), ("2025-09-22", "2025-09-26") })
        {
            var placed = await api.Council202.PostAsJsonAsync($"/v1/children/{childId}/placements", new { la = "209", startDate = start, endDate = end });
            Assert.Equal(HttpStatusCode.Created, placed.StatusCode);
        }

        var monitoring = api.WithToken(api.Issuer.Token("la:202", "social-worker"), "attendance-monitoring");
        var body = await monitoring.GetStringAsync($"/v1/children/{childId}/placements");
        var items = JsonDocument.Parse(body).RootElement.GetProperty("items").EnumerateArray().ToList();
        Assert.Equal(5, items.Count);
        Assert.All(items, i => Assert.False(i.TryGetProperty("startDate", out _), body));

        // Not newest first (which would give away the dates): in the order of the records' random ids.
        var ids = items.Select(i => Guid.Parse(i.GetProperty("id").GetString()!)).ToList();
        Assert.Equal(ids.Order().ToList(), ids);
        // Whoever may see the dates gets newest first, as before.
        var starts = JsonDocument.Parse(await VirtualSchool.GetStringAsync($"/v1/children/{childId}/placements")).RootElement.GetProperty("items")
            .EnumerateArray().Select(i => i.GetProperty("startDate").GetString()).ToList();
        Assert.Equal(["2025-10-01", "2025-09-22", "2025-09-15", "2025-09-08", "2025-09-02"], starts);
        await Problem.AssertAsync(await monitoring.GetAsync($"/v1/children/{childId}/placements?sort=-startDate"), HttpStatusCode.BadRequest, "filter-not-permitted");
    }
}
