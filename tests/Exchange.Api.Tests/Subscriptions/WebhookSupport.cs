using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Exchange.Api.Subscriptions;
using Exchange.Api.Tests.Infrastructure;
using Exchange.Api.Tests.Policy;
using Microsoft.Extensions.DependencyInjection;
using WireMock.Logging;
using WireMock.Server;

namespace Exchange.Api.Tests.Subscriptions;

/// <summary>
/// The service with webhooks allowed to a plain-http receiver on this machine (WireMock stands in for an
/// organisation's receiver), its delivery job off so each test runs the passes itself, on a clock it can move.
/// </summary>
public class WebhookApiFactory : ExchangeApiFactory
{
    public WebhookApiFactory() : this(StorageKind.Sqlite) { }

    protected WebhookApiFactory(StorageKind storage) : base(storage)
    {
        Settings["Exchange:Webhooks:AllowInsecureCallbacks"] = "true";
        Settings["Exchange:Webhooks:AllowPrivateNetworks"] = "true";
        Settings["Exchange:Webhooks:PollInterval"] = "00:00:00";
        Settings["Exchange:Webhooks:Timeout"] = "00:00:01";
        // One send at a time, so a test can tell which of a receiver's deliveries a pass attempted.
        Settings["Exchange:Webhooks:Parallelism"] = "1";
    }

    public MovableTime Time { get; } = new();

    protected override void ConfigureTestServices(IServiceCollection services) => services.AddSingleton<TimeProvider>(Time);

    /// <summary>One delivery pass, as the job would run it.</summary>
    public async Task<WebhookDispatcher.Report> DeliverAsync()
    {
        using var scope = Services.CreateScope();
        return await scope.ServiceProvider.GetRequiredService<WebhookDispatcher>().RunOnceAsync(CancellationToken.None);
    }
}

public sealed class PostgresWebhookApiFactory() : WebhookApiFactory(StorageKind.Postgres);

/// <summary>A receiver's side of Standard Webhooks: what arrived, and whether it verifies.</summary>
public static class Receiver
{
    public sealed record Delivery(string Id, long Timestamp, string Signature, string Body, JsonElement Json)
    {
        public string ChildId => Json.GetProperty("data").GetProperty("childId").GetString()!;
        public string Type => Json.GetProperty("type").GetString()!;
    }

    public static string Header(ILogEntry entry, string name) =>
        entry.RequestMessage.Headers!.First(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase)).Value.Single();

    /// <summary>What arrived at <paramref name="receiver"/> (at <paramref name="path"/> only, when given: a port reused by a later test's receiver still gets an earlier test's deliveries).</summary>
    public static List<Delivery> Deliveries(WireMockServer receiver, string? path = null) => receiver.LogEntries
        .Where(e => path is null || e.RequestMessage.Path == path)
        .Select(e => new Delivery(Header(e, "webhook-id"), long.Parse(Header(e, "webhook-timestamp"), System.Globalization.CultureInfo.InvariantCulture),
            Header(e, "webhook-signature"), e.RequestMessage.Body!, JsonDocument.Parse(e.RequestMessage.Body!).RootElement.Clone()))
        .ToList();

    public static List<Delivery> About(WireMockServer receiver, string childId, string path) =>
        Deliveries(receiver, path).Where(d => d.ChildId == childId).ToList();

    /// <summary>A receiver path no other test's subscription names (xUnit makes a new test-class instance per test).</summary>
    public static string NewPath() => "/hook-" + Guid.NewGuid().ToString("N")[..12];

    /// <summary>
    /// Verifies as the specification tells a receiver to: the timestamp within five minutes of the receiver's clock,
    /// then a constant-time comparison of HMAC-SHA256 over "id.timestamp.body" with the key in the whsec_ secret.
    /// </summary>
    public static bool Verifies(Delivery delivery, string secret, DateTimeOffset receiverNow)
    {
        if (Math.Abs(receiverNow.ToUnixTimeSeconds() - delivery.Timestamp) > 300)
        {
            return false;
        }

        var key = Convert.FromBase64String(secret["whsec_".Length..]);
        var expected = Convert.ToBase64String(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes($"{delivery.Id}.{delivery.Timestamp}.{delivery.Body}")));
        return delivery.Signature.Split(' ').Any(s => s.StartsWith("v1,", StringComparison.Ordinal)
            && CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(s[3..]), Encoding.ASCII.GetBytes(expected)));
    }

    /// <summary>Waits (up to 10 s) for something a receiver records after it has answered.</summary>
    public static async Task EventuallyAsync(Func<bool> condition)
    {
        for (var waited = 0; !condition(); waited += 100)
        {
            Assert.True(waited < 10_000, "The receiver did not record the delivery within 10 seconds.");
            await Task.Delay(100);
        }
    }

    /// <summary>Creates a subscription and returns its id and secret.</summary>
    public static async Task<(string Id, string Secret)> SubscribeAsync(HttpClient client, string url, params string[] types)
    {
        var created = await client.PostAsJsonAsync("/v1/subscriptions", new { url, eventTypes = types });
        var text = await created.Content.ReadAsStringAsync();
        Assert.True(created.StatusCode == HttpStatusCode.Created, text);
        var body = JsonDocument.Parse(text).RootElement;
        return (body.GetProperty("id").GetString()!, body.GetProperty("secret").GetString()!);
    }
}
