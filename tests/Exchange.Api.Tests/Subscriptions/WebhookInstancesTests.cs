using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Exchange.Api.Subscriptions;
using Exchange.Api.Tests.Infrastructure;
using Exchange.Api.Tests.RollCheck;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;

namespace Exchange.Api.Tests.Subscriptions;

/// <summary>
/// Two service instances on one PostgreSQL database, both delivering at once: every item reaches the receiver exactly
/// once (queued once per subscription, claimed by one instance).
/// </summary>
public sealed class WebhookInstancesTests(PostgresWebhookApiFactory api) : IClassFixture<PostgresWebhookApiFactory>
{
    private readonly string _hook = Receiver.NewPath();

    /// <summary>A second instance: the first's keys (copied data directory), the same PostgreSQL database.</summary>
    private sealed class SecondInstance : WebhookApiFactory
    {
        public SecondInstance(ExchangeApiFactory first) : base()
        {
            foreach (var file in Directory.GetFiles(first.DataDirectory, "*", SearchOption.AllDirectories))
            {
                var target = Path.Combine(DataDirectory, Path.GetRelativePath(first.DataDirectory, file));
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                File.Copy(file, target);
            }

            Settings["Exchange:Database:Provider"] = "Postgres";
            Settings["ConnectionStrings:Exchange"] = first.PostgresConnectionString;
        }
    }

    [SkippableFact]
    public async Task TwoInstancesDeliverEachItemExactlyOnce()
    {
        Postgres.SkipUnlessAvailable();
        api.Time.Offset = TimeSpan.Zero;
        using var receiver = WireMockServer.Start();
        receiver.Given(Request.Create().WithPath(_hook).UsingPost()).RespondWith(Response.Create().WithStatusCode(200));
        var council = api.WithToken(api.Issuer.Token("la:202", ["virtual-school"]), "attendance-monitoring");
        var (subscription, secret) = await Receiver.SubscribeAsync(council, receiver.Url + _hook, "pupil-enrolled", "exclusion-recorded");
        var children = new List<string>();
        for (var i = 0; i < 12; i++)
        {
            var (_, mis, child) = await api.EnrolledPupilAsync();
            Assert.Equal(HttpStatusCode.Created, (await mis.PostAsJsonAsync($"/v1/children/{child}/exclusions",
                new { type = "suspension", startDate = RollCheckSupport.Today, sessions = 1, reasonCode = "VA" })).StatusCode);
            children.Add(child);
        }

        await using var second = new SecondInstance(api);
        _ = second.Server; // started
        api.Time.Offset = second.Time.Offset = TimeSpan.FromSeconds(10);
        var passes = Enumerable.Range(0, 6).Select(i => Task.Run(() => (i % 2 == 0 ? (WebhookApiFactory)api : second).DeliverAsync())).ToList();
        var reports = await Task.WhenAll(passes);
        // A second round finds nothing left to queue or send.
        await Task.WhenAll(api.DeliverAsync(), second.DeliverAsync());

        var ours = Receiver.Deliveries(receiver, _hook).Where(d => children.Contains(d.ChildId)).ToList();
        Assert.Equal(children.Count * 2, ours.Count);
        Assert.All(ours.GroupBy(d => d.Id), g => Assert.Single(g));
        Assert.All(ours, d => Assert.True(Receiver.Verifies(d, secret, api.Time.GetUtcNow())));
        Assert.Equal(children.Count * 2, reports.Sum(r => r.Queued));
        Assert.Equal(0L, await api.StoreScalarAsync($"SELECT COUNT(*) FROM webhook_deliveries WHERE \"SubscriptionId\" = '{subscription}' AND \"State\" <> 'delivered'"));
    }
}

/// <summary>
/// Outside Development, the service calls only public addresses: a subscription whose host name resolves to this
/// machine is refused when the service connects, whatever the name looked like when it was subscribed.
/// </summary>
public sealed class PrivateAddressTests(PrivateAddressTests.Factory api) : IClassFixture<PrivateAddressTests.Factory>
{
    private readonly string _hook = Receiver.NewPath();

    public sealed class Factory : WebhookApiFactory
    {
        public Factory() => Settings["Exchange:Webhooks:AllowPrivateNetworks"] = "false";
    }

    [Fact]
    public async Task AHostNameResolvingToAPrivateAddressIsNotCalled()
    {
        api.Time.Offset = TimeSpan.Zero;
        using var receiver = WireMockServer.Start();
        receiver.Given(Request.Create().WithPath(_hook).UsingPost()).RespondWith(Response.Create().WithStatusCode(200));
        // This machine's own name: not an address literal nor "localhost", so the subscription is accepted...
        var host = Dns.GetHostName();
        var addresses = await Dns.GetHostAddressesAsync(host);
        Assert.True(addresses.Length > 0 && addresses.All(a => !CallbackAddress.IsPublic(a)),
            $"This test needs the machine's host name to resolve to its own (non-public) addresses; it resolves to {string.Join(", ", addresses.Select(a => a.ToString()))}.");
        var council = api.WithToken(api.Issuer.Token("la:202", ["virtual-school"]), "attendance-monitoring");
        var url = $"http://{host}:{new Uri(receiver.Url!).Port}" + _hook;
        var (subscription, _) = await Receiver.SubscribeAsync(council, url, "exclusion-recorded");
        var (_, mis, child) = await api.EnrolledPupilAsync();
        Assert.Equal(HttpStatusCode.Created, (await mis.PostAsJsonAsync($"/v1/children/{child}/exclusions",
            new { type = "suspension", startDate = RollCheckSupport.Today, sessions = 1, reasonCode = "VA" })).StatusCode);

        // ...but nothing reaches the receiver: the address is checked when connecting.
        api.Time.Offset = TimeSpan.FromSeconds(10);
        var report = await api.DeliverAsync();
        Assert.Equal(1, report.Failed);
        Assert.Empty(receiver.LogEntries);
        Assert.Equal("address-refused", await api.StoreScalarAsync($"SELECT LastError FROM webhook_deliveries WHERE SubscriptionId = '{subscription}'"));

        // A literal private address or localhost is refused when subscribing.
        foreach (var refused in new[] { receiver.Url + _hook, "http://127.0.0.1:9/hook", "https://169.254.169.254/latest" })
        {
            await Problem.AssertAsync(await council.PostAsJsonAsync("/v1/subscriptions", new { url = refused, eventTypes = new[] { "exclusion-recorded" } }),
                HttpStatusCode.BadRequest, "subscription-url");
        }
    }
}
