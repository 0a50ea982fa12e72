using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Exchange.Api.Tests.Infrastructure;
using Exchange.Api.Tests.RollCheck;

namespace Exchange.Api.Tests.Subscriptions;

/// <summary>
/// Managing subscriptions: the secret shown once and kept sealed, every rule fed bad input (nothing stored), the
/// organisation's own subscriptions only, a limit per organisation, and the roles, purposes and callers refused.
/// </summary>
public sealed class SubscriptionsApiTests(WebhookApiFactory api) : IClassFixture<WebhookApiFactory>
{
    private const string Url = "https://receiver.example.org/exchange";

    private HttpClient Council(string la = "202", string role = "virtual-school", string purpose = "attendance-monitoring") =>
        api.WithToken(api.Issuer.Token("la:" + la, [role]), purpose);

    [Fact]
    public async Task TheSecretIsShownOnceKeptSealedAndShreddedWithTheSubscription()
    {
        var (id, secret) = await Receiver.SubscribeAsync(Council(), Url, "pep-submitted", "missing-education");
        Assert.Matches("^wh_[0-9a-z]{26}$", id);
        Assert.Equal(32, Convert.FromBase64String(secret["whsec_".Length..]).Length);

        var read = await Council().GetFromJsonAsync<JsonElement>($"/v1/subscriptions/{id}");
        Assert.False(read.TryGetProperty("secret", out _));
        Assert.Equal(["pep-submitted", "missing-education"], read.GetProperty("eventTypes").EnumerateArray().Select(t => t.GetString()!).ToArray());
        Assert.Equal("attendance-monitoring", read.GetProperty("purpose").GetString());
        Assert.Equal(["virtual-school"], read.GetProperty("roles").EnumerateArray().Select(t => t.GetString()!).ToArray());
        var listed = await Council().GetFromJsonAsync<JsonElement>("/v1/subscriptions");
        Assert.Contains(listed.GetProperty("items").EnumerateArray(), s => s.GetProperty("id").GetString() == id);
        Assert.DoesNotContain("whsec_", listed.GetRawText(), StringComparison.Ordinal);

        // The secret never reaches the database in plain text.
        var key = secret["whsec_".Length..];
        Assert.False(File.ReadAllBytes(api.SqliteFile).AsSpan().IndexOf(System.Text.Encoding.ASCII.GetBytes(key)) >= 0);

        Assert.Equal(HttpStatusCode.NoContent, (await Council().DeleteAsync($"/v1/subscriptions/{id}")).StatusCode);
        await Problem.AssertAsync(await Council().GetAsync($"/v1/subscriptions/{id}"), HttpStatusCode.NotFound, "subscription-not-found");
        await Problem.AssertAsync(await Council().DeleteAsync($"/v1/subscriptions/{id}"), HttpStatusCode.NotFound, "subscription-not-found");
        Assert.NotNull(await api.StoreScalarAsync($"SELECT ErasedAt FROM data_keys WHERE OwnerId = '{id}'"));
        Assert.Equal(0L, await api.StoreScalarAsync($"SELECT COUNT(*) FROM subscriptions WHERE Id = '{id}'"));
    }

    public static TheoryData<string, object> BadRequests() => new()
    {
        { "subscription-url", new { url = "ftp://receiver.example.org/x", eventTypes = new[] { "pupil-enrolled" } } },
        { "subscription-url", new { url = "/relative/path", eventTypes = new[] { "pupil-enrolled" } } },
        { "subscription-url", new { url = "https://user:password@receiver.example.org/x", eventTypes = new[] { "pupil-enrolled" } } },
        { "subscription-url", new { url = "https://receiver.example.org/" + new string('a', 2_000), eventTypes = new[] { "pupil-enrolled" } } },
        { "subscription-url", new { url = "https://receiver.example.org/x#fragment", eventTypes = new[] { "pupil-enrolled" } } },
        { "subscription-url", new { eventTypes = new[] { "pupil-enrolled" } } },
        { "subscription-event-types", new { url = Url } },
        { "subscription-event-types", new { url = Url, eventTypes = Array.Empty<string>() } },
        { "subscription-event-types", new { url = Url, eventTypes = new[] { "child-registered" } } },
        { "subscription-event-types", new { url = Url, eventTypes = new[] { "pupil-enrolled", "pupil-enrolled" } } },
        { "subscription-event-types", new { url = Url, eventTypes = new[] { "Pupil-Enrolled" } } },
        { "subscription-event-types", new { url = Url, eventTypes = new[] { "9991000291" } } },
    };

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task EachRuleRefusesBadInputAndStoresNothing(string code, object body)
    {
        var before = await api.StoreScalarAsync("SELECT COUNT(*) FROM subscriptions");
        await Problem.AssertAsync(await Council().PostAsJsonAsync("/v1/subscriptions", body), HttpStatusCode.BadRequest, code);
        Assert.Equal(before, await api.StoreScalarAsync("SELECT COUNT(*) FROM subscriptions"));
        Assert.DoesNotContain(api.Logs.Lines, m => m.Contains("9991000291", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AnOrganisationSeesAndDeletesOnlyItsOwnSubscriptions()
    {
        var (id, _) = await Receiver.SubscribeAsync(Council(), Url, "pupil-enrolled");
        var other = Council("209");
        await Problem.AssertAsync(await other.GetAsync($"/v1/subscriptions/{id}"), HttpStatusCode.NotFound, "subscription-not-found");
        await Problem.AssertAsync(await other.DeleteAsync($"/v1/subscriptions/{id}"), HttpStatusCode.NotFound, "subscription-not-found");
        var theirs = await other.GetFromJsonAsync<JsonElement>("/v1/subscriptions");
        Assert.DoesNotContain(theirs.GetProperty("items").EnumerateArray(), s => s.GetProperty("id").GetString() == id);
        var (_, mis) = await api.NewSchoolAsync();
        await Problem.AssertAsync(await mis.GetAsync($"/v1/subscriptions/{id}"), HttpStatusCode.NotFound, "subscription-not-found");

        // Its social worker reads the council's subscriptions too (one organisation), under its own purpose, but does not
        // delete one made by the virtual school, which is told more than it is (SubscriptionRolesTests).
        var worker = Council(role: "social-worker", purpose: "safeguarding");
        Assert.Equal(HttpStatusCode.OK, (await worker.GetAsync($"/v1/subscriptions/{id}")).StatusCode);
        await Problem.AssertAsync(await worker.DeleteAsync($"/v1/subscriptions/{id}"), HttpStatusCode.Forbidden, "subscription-roles-required");
        Assert.Equal(HttpStatusCode.NoContent, (await Council(purpose: "safeguarding").DeleteAsync($"/v1/subscriptions/{id}")).StatusCode);
    }

    [Fact]
    public async Task EveryRoleOfEveryOtherOrganisationFindsNothingAtEveryRoute()
    {
        var (id, _) = await Receiver.SubscribeAsync(Council(), Url, "exclusion-recorded");
        var delivery = Guid.NewGuid();
        foreach (var (org, role) in Policy.AccessMatrixTestsBase<WebhookApiFactory>.Unrelated)
        {
            foreach (var purpose in new[] { "attendance-monitoring", "pep-review", "safeguarding" })
            {
                var client = api.WithToken(api.Issuer.Token(org, [role]), purpose);
                foreach (var (method, path) in new[]
                {
                    ("GET", $"/v1/subscriptions/{id}"), ("DELETE", $"/v1/subscriptions/{id}"), ("GET", $"/v1/subscriptions/{id}/dead-letters"),
                    ("POST", $"/v1/subscriptions/{id}/dead-letters/{delivery}/redeliver"), ("POST", $"/v1/subscriptions/{id}/secret"),
                })
                {
                    var response = await client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));
                    Assert.True(response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Forbidden, $"{role}@{org} ({purpose}) {method} {path}: {(int)response.StatusCode}");
                }

                var listed = await client.GetAsync("/v1/subscriptions");
                Assert.True(listed.StatusCode is HttpStatusCode.OK or HttpStatusCode.Forbidden, $"{role}@{org} ({purpose}) list: {(int)listed.StatusCode}");
                Assert.DoesNotContain(id, await listed.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            }
        }

        Assert.Equal(HttpStatusCode.OK, (await Council().GetAsync($"/v1/subscriptions/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await Council().DeleteAsync($"/v1/subscriptions/{id}")).StatusCode);
    }

    [Fact]
    public async Task AnOrganisationMayHoldTenSubscriptions()
    {
        var (_, mis) = await api.NewSchoolAsync();
        var made = new List<string>();
        for (var i = 0; i < 10; i++)
        {
            made.Add((await Receiver.SubscribeAsync(mis, $"{Url}/{i}", "exclusion-recorded")).Id);
        }

        await Problem.AssertAsync(await mis.PostAsJsonAsync("/v1/subscriptions", new { url = Url, eventTypes = new[] { "exclusion-recorded" } }),
            HttpStatusCode.Conflict, "subscription-limit");
        var page = await mis.GetFromJsonAsync<JsonElement>("/v1/subscriptions?limit=4");
        Assert.Equal(4, page.GetProperty("items").GetArrayLength());
        var rest = await mis.GetFromJsonAsync<JsonElement>("/v1/subscriptions?limit=200&cursor=" + page.GetProperty("nextCursor").GetString());
        Assert.Equal(made, page.GetProperty("items").EnumerateArray().Concat(rest.GetProperty("items").EnumerateArray()).Select(s => s.GetProperty("id").GetString()!).ToList());
        Assert.Equal(HttpStatusCode.NoContent, (await mis.DeleteAsync($"/v1/subscriptions/{made[0]}")).StatusCode);
        await Receiver.SubscribeAsync(mis, Url, "exclusion-recorded");
    }

    [Fact]
    public async Task CallersWithoutARuleForEventsAreRefused()
    {
        var body = new { url = Url, eventTypes = new[] { "pupil-enrolled" } };
        await Problem.AssertAsync(await api.WithToken(null).PostAsJsonAsync("/v1/subscriptions", body), HttpStatusCode.Unauthorized, "unauthenticated");
        await Problem.AssertAsync(await Council(purpose: null!).PostAsJsonAsync("/v1/subscriptions", body), HttpStatusCode.BadRequest, "purpose-of-use-missing");
        // A purpose the role's rules do not give it; a role with no rule for events (the health body's nurse).
        await Problem.AssertAsync(await Council(purpose: "health-assessment").PostAsJsonAsync("/v1/subscriptions", body), HttpStatusCode.Forbidden, "purpose-not-permitted");
        await Problem.AssertAsync(await api.WithToken(api.Issuer.Token("health:ZZ901", ["lac-nurse"]), "health-assessment").PostAsJsonAsync("/v1/subscriptions", body),
            HttpStatusCode.Forbidden, "forbidden");
        // Every refusal is audited too.
        var refused = await api.EventsOfAsync("org=health:ZZ901", "subscription.create");
        Assert.Contains(refused, e => e.GetProperty("decision").GetString() == "deny" && e.GetProperty("status").GetInt32() == 403);
    }
}
