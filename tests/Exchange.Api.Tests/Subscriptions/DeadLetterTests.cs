using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Exchange.Api.Tests.Infrastructure;
using Exchange.Api.Tests.RollCheck;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;

namespace Exchange.Api.Tests.Subscriptions;

/// <summary>
/// A receiver that keeps failing is retried for a day, then its delivery is parked as a dead letter the organisation
/// lists and redelivers once the receiver is mended; another organisation sees none of it. Own fixture: it moves the
/// clock a day on.
/// </summary>
public sealed class DeadLetterTests(WebhookApiFactory api) : IClassFixture<WebhookApiFactory>
{
    private readonly string _hook = Receiver.NewPath();

    [Fact]
    public async Task AfterADayOfFailuresTheDeliveryIsADeadLetterTheCouncilCanRedeliver()
    {
        api.Time.Offset = TimeSpan.Zero;
        using var receiver = WireMockServer.Start();
        receiver.Given(Request.Create().WithPath(_hook).UsingPost()).RespondWith(Response.Create().WithStatusCode(503));
        var council = api.WithToken(api.Issuer.Token("la:202", ["virtual-school"]), "attendance-monitoring");
        var (subscription, secret) = await Receiver.SubscribeAsync(council, receiver.Url + _hook, "exclusion-recorded");
        var (_, mis, child) = await api.EnrolledPupilAsync();
        Assert.Equal(HttpStatusCode.Created, (await mis.PostAsJsonAsync($"/v1/children/{child}/exclusions",
            new { type = "suspension", startDate = RollCheckSupport.Today, sessions = 1, reasonCode = "VA" })).StatusCode);

        // Every attempt fails; the clock moves on an hour at a time (the longest wait between attempts).
        api.Time.Offset = TimeSpan.FromSeconds(10);
        await api.DeliverAsync();
        for (var hour = 1; hour <= 23; hour++)
        {
            api.Time.Offset = TimeSpan.FromHours(hour);
            await api.DeliverAsync();
        }

        var letters = await council.GetFromJsonAsync<JsonElement>($"/v1/subscriptions/{subscription}/dead-letters");
        Assert.Empty(letters.GetProperty("items").EnumerateArray());
        var retried = Receiver.About(receiver, child, _hook).Count;
        Assert.InRange(retried, 20, 30); // once the wait reaches its one-hour cap, about one attempt an hour

        api.Time.Offset = TimeSpan.FromHours(25);
        await api.DeliverAsync();
        letters = await council.GetFromJsonAsync<JsonElement>($"/v1/subscriptions/{subscription}/dead-letters");
        var letter = Assert.Single(letters.GetProperty("items").EnumerateArray());
        Assert.Equal(child, letter.GetProperty("childId").GetString());
        Assert.Equal("exclusion-recorded", letter.GetProperty("type").GetString());
        Assert.Equal(503, letter.GetProperty("lastStatus").GetInt32());
        Assert.Equal(retried + 1, letter.GetProperty("attempts").GetInt32());
        var status = await council.GetFromJsonAsync<JsonElement>($"/v1/subscriptions/{subscription}");
        Assert.Equal(1, status.GetProperty("deadLetters").GetInt32());

        // Parked: no more attempts.
        api.Time.Offset = TimeSpan.FromHours(30);
        await api.DeliverAsync();
        Assert.Equal(retried + 1, Receiver.About(receiver, child, _hook).Count);

        // Another council learns nothing of this subscription or its letters; a made-up letter id is not found.
        var other = api.WithToken(api.Issuer.Token("la:209", ["virtual-school"]), "attendance-monitoring");
        var delivery = letter.GetProperty("deliveryId").GetString();
        await Problem.AssertAsync(await other.GetAsync($"/v1/subscriptions/{subscription}/dead-letters"), HttpStatusCode.NotFound, "subscription-not-found");
        await Problem.AssertAsync(await other.PostAsync($"/v1/subscriptions/{subscription}/dead-letters/{delivery}/redeliver", null), HttpStatusCode.NotFound, "subscription-not-found");
        await Problem.AssertAsync(await council.PostAsync($"/v1/subscriptions/{subscription}/dead-letters/{Guid.NewGuid()}/redeliver", null), HttpStatusCode.NotFound, "dead-letter-not-found");
        await Problem.AssertAsync(await council.PostAsync($"/v1/subscriptions/{subscription}/dead-letters/not-a-guid/redeliver", null), HttpStatusCode.NotFound, "dead-letter-not-found");

        // Mended: redelivered at the next pass, verifiable, and off the dead-letter list.
        receiver.ResetMappings();
        receiver.Given(Request.Create().WithPath(_hook).UsingPost()).RespondWith(Response.Create().WithStatusCode(200));
        var redeliver = await council.PostAsync($"/v1/subscriptions/{subscription}/dead-letters/{delivery}/redeliver", null);
        Assert.Equal(HttpStatusCode.Accepted, redeliver.StatusCode);
        Assert.Equal("pending", (await redeliver.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("state").GetString());
        await Problem.AssertAsync(await council.PostAsync($"/v1/subscriptions/{subscription}/dead-letters/{delivery}/redeliver", null), HttpStatusCode.NotFound, "dead-letter-not-found");
        await api.DeliverAsync();
        var last = Receiver.About(receiver, child, _hook)[^1];
        Assert.Equal(retried + 2, Receiver.About(receiver, child, _hook).Count);
        Assert.True(Receiver.Verifies(last, secret, api.Time.GetUtcNow()));
        letters = await council.GetFromJsonAsync<JsonElement>($"/v1/subscriptions/{subscription}/dead-letters");
        Assert.Empty(letters.GetProperty("items").EnumerateArray());

        // Settled deliveries are kept 30 days, then their rows go (the audit log keeps who was told).
        Assert.Equal(1L, await api.StoreScalarAsync($"SELECT COUNT(*) FROM webhook_deliveries WHERE SubscriptionId = '{subscription}'"));
        api.Time.Offset = TimeSpan.FromDays(32);
        await api.DeliverAsync();
        Assert.Equal(0L, await api.StoreScalarAsync($"SELECT COUNT(*) FROM webhook_deliveries WHERE SubscriptionId = '{subscription}'"));

        // Listing and redelivering name the child in the audit log, as the feed does.
        Assert.NotEmpty(await api.EventsOfAsync($"childId={child}", "subscription.dead-letters"));
        Assert.NotEmpty(await api.EventsOfAsync($"childId={child}", "subscription.redeliver"));
    }
}
