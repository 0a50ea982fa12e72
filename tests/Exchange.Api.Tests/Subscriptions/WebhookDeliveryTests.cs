using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Exchange.Api.Tests.Infrastructure;
using Exchange.Api.Tests.RollCheck;
using Microsoft.AspNetCore.Http;
using StandardWebhooks;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;

namespace Exchange.Api.Tests.Subscriptions;

/// <summary>
/// Webhooks as a council's receiver sees them: signed per Standard Webhooks and verifiable with a Standard Webhooks
/// library, carrying nothing but the event's type, child id, time and id; only to organisations the policy lets be
/// told; retried after failures and timeouts; and each delivery audited, naming the child.
/// </summary>
public sealed class WebhookDeliveryTests(WebhookApiFactory api) : IClassFixture<WebhookApiFactory>
{
    private readonly string _hook = Receiver.NewPath();

    private HttpClient Council(string la = "202") => api.WithToken(api.Issuer.Token("la:" + la, ["virtual-school"]), "attendance-monitoring");

    private WireMockServer Receiver200()
    {
        var receiver = WireMockServer.Start();
        receiver.Given(Request.Create().WithPath(_hook).UsingPost()).RespondWith(Response.Create().WithStatusCode(204));
        return receiver;
    }

    private async Task<(string Mis, HttpClient MisClient, string Child)> ExcludedPupilAsync()
    {
        var (org, mis, child) = await api.EnrolledPupilAsync();
        Assert.Equal(HttpStatusCode.Created, (await mis.PostAsJsonAsync($"/v1/children/{child}/exclusions",
            new { type = "suspension", startDate = RollCheckSupport.Today, sessions = 2, reasonCode = "DB" })).StatusCode);
        return (org, mis, child);
    }

    [Fact]
    public async Task TheResponsibleCouncilReceivesSignedEventsItCanVerifyAndNothingMore()
    {
        api.Time.Offset = TimeSpan.Zero;
        using var receiver = Receiver200();
        var (subscription, secret) = await Receiver.SubscribeAsync(Council(), receiver.Url + _hook, "pupil-enrolled", "exclusion-recorded");
        Assert.StartsWith("whsec_", secret, StringComparison.Ordinal);
        var (_, _, child) = await ExcludedPupilAsync();

        // Sent in the next pass, as soon as the change has committed (as the feed).
        await api.DeliverAsync();
        // Sent side by side, so not necessarily in order: occurredAt (or the feed) gives the order.
        var deliveries = Receiver.About(receiver, child, _hook).OrderBy(d => d.Json.GetProperty("data").GetProperty("occurredAt").GetDateTimeOffset()).ToList();
        Assert.Equal(["pupil-enrolled", "exclusion-recorded"], deliveries.Select(d => d.Type).ToArray());
        foreach (var delivery in deliveries)
        {
            // The receiver's own check, and a Standard Webhooks library's (on the real clock, which this test's is near).
            Assert.True(Receiver.Verifies(delivery, secret, api.Time.GetUtcNow()));
            var headers = new HeaderDictionary
            {
                ["webhook-id"] = delivery.Id,
                ["webhook-timestamp"] = delivery.Timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["webhook-signature"] = delivery.Signature,
            };
            new StandardWebhook(secret).Verify(delivery.Body, headers);
            // A receiver refuses a delivery replayed outside its tolerance, and one signed with another secret.
            Assert.False(Receiver.Verifies(delivery, secret, api.Time.GetUtcNow().AddMinutes(10)));
            Assert.False(Receiver.Verifies(delivery, "whsec_" + Convert.ToBase64String(new byte[32]), api.Time.GetUtcNow()));
            Assert.False(Receiver.Verifies(delivery with { Body = delivery.Body.Replace(child, "ch_0000000000000000000000000a", StringComparison.Ordinal) }, secret, api.Time.GetUtcNow()));

            // Only what the feed's item says: the detail is fetched through the API.
            Assert.Equal(["data", "timestamp", "type"], delivery.Json.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal).ToArray());
            Assert.Equal(["childId", "eventId", "occurredAt", "type"], delivery.Json.GetProperty("data").EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal).ToArray());
            Assert.Equal(delivery.Id, delivery.Json.GetProperty("data").GetProperty("eventId").GetString());
        }

        // Delivered once: another pass sends nothing again.
        await api.DeliverAsync();
        Assert.Equal(2, Receiver.About(receiver, child, _hook).Count);

        // The same items, by the same ids, in the pull feed.
        var feed = await Council().GetFromJsonAsync<JsonElement>("/v1/events?limit=500");
        var fed = feed.GetProperty("items").EnumerateArray().Where(i => i.GetProperty("childId").GetString() == child).Select(i => i.GetProperty("eventId").GetString()).ToList();
        Assert.Equal(deliveries.Select(d => d.Id), fed);

        // Each delivery is in the audit log, naming the child and the council told.
        var events = (await api.EventsOfAsync($"childId={child}", "webhook.deliver"))
            .Where(e => e.GetProperty("actor").GetProperty("sub").GetString() == "webhook:" + subscription).ToList();
        Assert.Equal(2, events.Count);
        Assert.All(events, e => Assert.Equal("la:202", e.GetProperty("actor").GetProperty("org").GetString()));
        Assert.All(events, e => Assert.Equal("permit", e.GetProperty("decision").GetString()));

        var status = await Council().GetFromJsonAsync<JsonElement>($"/v1/subscriptions/{subscription}");
        Assert.Equal(0, status.GetProperty("pending").GetInt32());
        Assert.False(status.TryGetProperty("secret", out _));
        Assert.Equal(HttpStatusCode.NoContent, (await Council().DeleteAsync($"/v1/subscriptions/{subscription}")).StatusCode);
    }

    [Fact]
    public async Task OthersAreToldOnlyWhatThePolicyLetsThemKnow()
    {
        api.Time.Offset = TimeSpan.Zero;
        using var receiver = Receiver200();
        var (other, _) = await Receiver.SubscribeAsync(Council("209"), receiver.Url + _hook, "pupil-enrolled", "exclusion-recorded");
        var (org, mis, child) = await ExcludedPupilAsync();
        var (school, _) = await Receiver.SubscribeAsync(mis, receiver.Url + _hook, "pupil-enrolled", "exclusion-recorded");
        var (outsider, outsiderMis) = await api.NewSchoolAsync();
        var (stranger, _) = await Receiver.SubscribeAsync(outsiderMis, receiver.Url + _hook, "pupil-enrolled", "exclusion-recorded");
        _ = org;
        _ = outsider;

        // The school subscribed after the enrolment: it hears of what happens from then on.
        Assert.Equal(HttpStatusCode.Created, (await mis.PostAsJsonAsync($"/v1/children/{child}/exclusions",
            new { type = "permanent-exclusion", startDate = RollCheckSupport.Today, reasonCode = "PP" })).StatusCode);
        api.Time.Offset = TimeSpan.FromSeconds(10);
        await api.DeliverAsync();

        // Only the school's own subscription hears of its pupil's permanent exclusion; another council and another school nothing.
        var told = Receiver.About(receiver, child, _hook);
        Assert.Equal(["exclusion-recorded"], told.Select(d => d.Type).ToArray());
        var events = await api.EventsOfAsync($"childId={child}", "webhook.deliver");
        Assert.Equal([org], events.Select(e => e.GetProperty("actor").GetProperty("org").GetString()!).ToArray());
        foreach (var (client, id) in new[] { (Council("209"), other), (mis, school), (outsiderMis, stranger) })
        {
            Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/v1/subscriptions/{id}")).StatusCode);
        }
    }

    [Fact]
    public async Task AFailedOrSlowReceiverIsRetriedWithBackoffUntilItAnswers()
    {
        api.Time.Offset = TimeSpan.Zero;
        using var receiver = WireMockServer.Start();
        receiver.Given(Request.Create().WithPath(_hook).UsingPost()).RespondWith(Response.Create().WithStatusCode(500));
        var (subscription, secret) = await Receiver.SubscribeAsync(Council(), receiver.Url + _hook, "exclusion-recorded");
        var (_, _, child) = await ExcludedPupilAsync();

        api.Time.Offset = TimeSpan.FromSeconds(10);
        await api.DeliverAsync();
        var first = Assert.Single(Receiver.About(receiver, child, _hook));
        // Not again at once: the retry waits (5 s doubling, with jitter).
        await api.DeliverAsync();
        Assert.Single(Receiver.About(receiver, child, _hook));

        // A receiver that does not answer in time is a failure too.
        receiver.ResetMappings();
        receiver.Given(Request.Create().WithPath(_hook).UsingPost()).RespondWith(Response.Create().WithStatusCode(200).WithDelay(TimeSpan.FromSeconds(3)));
        api.Time.Offset = TimeSpan.FromSeconds(16);
        await api.DeliverAsync();
        Assert.Equal("timeout", await api.StoreScalarAsync($"SELECT LastError FROM webhook_deliveries WHERE SubscriptionId = '{subscription}'"));

        receiver.ResetMappings();
        receiver.Given(Request.Create().WithPath(_hook).UsingPost()).RespondWith(Response.Create().WithStatusCode(200));
        api.Time.Offset = TimeSpan.FromSeconds(40);
        await api.DeliverAsync();
        Assert.Equal("delivered", await api.StoreScalarAsync($"SELECT State FROM webhook_deliveries WHERE SubscriptionId = '{subscription}'"));
        Assert.Equal(3L, await api.StoreScalarAsync($"SELECT Attempts FROM webhook_deliveries WHERE SubscriptionId = '{subscription}'"));
        // The receiver's log holds the attempts it answered (the one it answered too late may be missing).
        var attempts = Receiver.About(receiver, child, _hook);
        Assert.InRange(attempts.Count, 2, 3);
        // The same message each time (its id), signed afresh at each attempt.
        Assert.All(attempts, a => Assert.Equal(first.Id, a.Id));
        Assert.All(attempts, a => Assert.True(Receiver.Verifies(a, secret, api.Time.GetUtcNow())));

        // Delivered: never sent again.
        api.Time.Offset = TimeSpan.FromHours(2);
        await api.DeliverAsync();
        Assert.Equal(attempts.Count, Receiver.About(receiver, child, _hook).Count);
        Assert.Equal(3L, await api.StoreScalarAsync($"SELECT Attempts FROM webhook_deliveries WHERE SubscriptionId = '{subscription}'"));
        Assert.Equal(HttpStatusCode.NoContent, (await Council().DeleteAsync($"/v1/subscriptions/{subscription}")).StatusCode);
    }

    [Fact]
    public async Task AReceiverThatFailsIsNotCalledAgainInThePassAndItsOtherDeliveriesWaitWithIt()
    {
        api.Time.Offset = TimeSpan.Zero;
        using var receiver = WireMockServer.Start();
        receiver.Given(Request.Create().WithPath(_hook).UsingPost()).RespondWith(Response.Create().WithStatusCode(503));
        var (subscription, _) = await Receiver.SubscribeAsync(Council(), receiver.Url + _hook, "pupil-enrolled", "exclusion-recorded");
        var (_, _, child) = await ExcludedPupilAsync();

        api.Time.Offset = TimeSpan.FromSeconds(10);
        await api.DeliverAsync();
        // One call, not one per delivery: the second waits for the receiver's next try, unattempted.
        Assert.Single(Receiver.About(receiver, child, _hook));
        Assert.Equal("0,1", await api.StoreScalarAsync($"SELECT group_concat(Attempts, ',') FROM (SELECT Attempts FROM webhook_deliveries WHERE SubscriptionId = '{subscription}' ORDER BY Attempts)"));
        Assert.Equal(1L, await api.StoreScalarAsync($"SELECT COUNT(DISTINCT NextAttemptAt) FROM webhook_deliveries WHERE SubscriptionId = '{subscription}'"));
        Assert.Equal(HttpStatusCode.NoContent, (await Council().DeleteAsync($"/v1/subscriptions/{subscription}")).StatusCode);
    }
}
