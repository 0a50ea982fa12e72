using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Exchange.Api.Tests.Infrastructure;

namespace Exchange.Api.Tests.RollCheck;

/// <summary>What the roll-check and school-enrolment tests share: a school of their own, a registered child, a check.</summary>
public static class RollCheckSupport
{
    private static int _nextUrn = 310_000 + Random.Shared.Next(0, 50_000);

    public static string Today => DateOnly.FromDateTime(DateTime.UtcNow).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>A school of its own for each test: the per-school limit counts every check the school made.</summary>
    public static async Task<(string Org, HttpClient Mis)> NewSchoolAsync(this ExchangeApiFactory api, string la = "202")
    {
        var urn = Interlocked.Increment(ref _nextUrn).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var created = await api.Admin.PostAsJsonAsync("/v1/organisations", new { id = "school:" + urn, name = "Roll Check School " + urn, laNumber = la });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        return ("school:" + urn, api.WithToken(api.Issuer.Token("school:" + urn, ["school-mis"]), "attendance-monitoring"));
    }

    /// <summary>A school of its own with a pupil in Camden's care (since 2025-09-01), enrolled there by Camden from 2025-09-01.</summary>
    public static async Task<(string Org, HttpClient Mis, string ChildId)> EnrolledPupilAsync(this ExchangeApiFactory api, string? childId = null)
    {
        var (org, mis) = await api.NewSchoolAsync();
        var child = childId ?? await api.RegisterChildAsync(new { upn = TestIdentifiers.NewUpn() });
        var enrolled = await api.Council202.PostAsJsonAsync("/v1/enrolments", new { childId = child, urn = org[7..], startDate = "2025-09-01" });
        Assert.True(enrolled.StatusCode == HttpStatusCode.Created, await enrolled.Content.ReadAsStringAsync());
        return (org, mis, child);
    }

    public static async Task<string> RegisterChildAsync(this ExchangeApiFactory api, object identifiers, HttpClient? council = null) =>
        await Problem.ChildIdAsync(await (council ?? api.Council202).RegisterAsync(identifiers), HttpStatusCode.Created);

    /// <summary>The audit events the operator's DPO finds for <paramref name="query"/> whose action is <paramref name="action"/>.</summary>
    public static async Task<List<JsonElement>> EventsOfAsync(this ExchangeApiFactory api, string query, string action) =>
        (await AuditReview.AuditTestSupport.EventsAsync(api, query)).Where(e => e.GetProperty("action").GetString() == action).ToList();

    /// <summary>Checks <paramref name="pupils"/> and returns the answer, asserting it is 200.</summary>
    public static async Task<JsonElement> CheckRollAsync(this HttpClient mis, params object[] pupils)
    {
        var response = await mis.PostAsJsonAsync("/v1/schools/roll-check", new { pupils });
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        return JsonDocument.Parse(body).RootElement;
    }
}
