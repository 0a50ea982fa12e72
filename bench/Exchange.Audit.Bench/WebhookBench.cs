using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Exchange.Api.Identity;
using Exchange.Api.Storage;
using Exchange.Api.Subscriptions;
using Exchange.Api.Work;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Exchange.Audit.Bench;

/// <summary>
/// Part 7 (issue 12): webhook delivery throughput to a receiver on this machine that verifies every signature (as a
/// council's would). <c>items</c> outbox items about the council's children, one subscription: the time from the
/// first delivery pass until the receiver has verified every item, through the real dispatcher (decisions as the
/// feed makes them, audit events appended before each delivery, leases, outcomes recorded), as the delivery job
/// runs it. Against it, in the same run and to the same receiver, plain signed POSTs of bodies of the same size at
/// the same parallelism, with no database, policy or audit.
/// </summary>
internal static class WebhookBench
{
    private const string Hook = "/hook";

    public static async Task RunAsync(string storeName, string? postgresServer, int items, int rounds, int? batch)
    {
        Console.WriteLine($"## 7{(postgresServer is null ? "a" : "b")}. Webhooks: delivery throughput to a local receiver, {storeName}");
        Console.WriteLine($"load:        {MachineInfo.LoadAverage()} (1, 5, 15 min)");
        await using var receiver = await Receiver.StartAsync();
        var database = postgresServer is null ? null : await AttendanceBench.CreateDatabaseAsync(postgresServer);
        var settings = new Dictionary<string, string?>
        {
            ["Exchange:Webhooks:AllowInsecureCallbacks"] = "true",
            ["Exchange:Webhooks:AllowPrivateNetworks"] = "true",
            ["Exchange:Webhooks:PollInterval"] = "00:00:00", // the bench drains as the job would
        };
        if (batch is { } size)
        {
            settings["Exchange:Webhooks:BatchSize"] = size.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        await using var api = new BenchApiFactory(auditing: true, kestrel: true, database, extra: settings);
        using var client = api.CreateDefaultClient();
        var options = api.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<Exchange.Api.Configuration.ExchangeOptions>>().Value.Webhooks;
        Console.WriteLine($"settings:    batch {options.BatchSize}, parallelism {options.Parallelism}, timeout {options.Timeout.TotalSeconds:N0} s");

        using var subscribe = new HttpRequestMessage(HttpMethod.Post, "/v1/subscriptions")
        {
            Content = new StringContent(JsonSerializer.Serialize(new { url = receiver.Url + Hook, eventTypes = new[] { "pupil-enrolled", "exclusion-recorded" } }),
                Encoding.UTF8, "application/json"),
        };
        subscribe.Headers.Authorization = new("Bearer", api.Token("la:202", "virtual-school"));
        subscribe.Headers.Add("X-Purpose-Of-Use", "attendance-monitoring");
        var created = await client.SendAsync(subscribe);
        var body = JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement;
        receiver.Secret = body.GetProperty("secret").GetString()!;

        var measured = new List<double>();
        var baseline = new List<double>();
        for (var round = 0; round < rounds; round++)
        {
            await SeedAsync(api, items);
            receiver.Reset();
            var clock = Stopwatch.StartNew();
            using (var scope = api.Services.CreateScope())
            {
                await scope.ServiceProvider.GetRequiredService<WebhookDispatcher>().DrainAsync(CancellationToken.None);
            }

            clock.Stop();
            if (receiver.Verified != items || receiver.Refused != 0)
            {
                throw new InvalidOperationException($"The receiver verified {receiver.Verified} of {items} deliveries and refused {receiver.Refused}.");
            }

            measured.Add(items / clock.Elapsed.TotalSeconds);
            baseline.Add(await PlainPostsAsync(receiver, items, options.Parallelism));
        }

        Console.WriteLine();
        Console.WriteLine($"| {storeName} | items a round | rounds | deliveries/s (median) | min, max | ratio to plain signed POSTs |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|");
        Console.WriteLine($"| through the dispatcher (decided, audited, leased, recorded) | {items:N0} | {rounds} | {Stats.Median(measured):N0} | {Stats.Min(measured):N0}, {Stats.Max(measured):N0} | {Stats.Median(measured) / Stats.Median(baseline):N3} |");
        Console.WriteLine($"| plain signed POSTs, same receiver, same parallelism | {items:N0} | {rounds} | {Stats.Median(baseline):N0} | {Stats.Min(baseline):N0}, {Stats.Max(baseline):N0} | |");
        Console.WriteLine();
    }

    /// <summary>Children of the council's care enrolled at a school, each with a settled pupil-enrolled item (written below the API: the seed is not measured).</summary>
    private static async Task SeedAsync(BenchApiFactory api, int items)
    {
        using var scope = api.Services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<ExchangeDbContext>();
        var work = scope.ServiceProvider.GetRequiredService<UnitOfWork>();
        var now = DateTimeOffset.UtcNow;
        var occurred = now.AddSeconds(-30);
        var day = DateOnly.FromDateTime(now.UtcDateTime);
        await work.BeginAsync(CancellationToken.None);
        for (var i = 0; i < items; i++)
        {
            var child = Ids.NewChildId();
            db.Children.Add(new Child { Id = child, CreatedAt = now, CreatedByOrganisation = "la:202" });
            db.CareEpisodes.Add(new CareEpisode { Id = Guid.NewGuid(), ChildId = child, ResponsibleLaNumber = "202", StartDate = day.AddYears(-1), RecordedAt = now });
            db.ChildRelationships.Add(new ChildRelationship
            {
                Id = Guid.NewGuid(), ChildId = child, Kind = ChildRelationship.EnrolledSchool, OrganisationId = "school:100001", StartDate = day.AddYears(-1),
                RecordedBy = "la:202", RecordedAt = now,
            });
            db.OutboxItems.Add(new OutboxItem { Id = Guid.NewGuid(), Type = OutboxItem.PupilEnrolled, ChildId = child, RaisedBy = "la:202", OccurredAt = occurred });
        }

        await work.CommitAsync(Outcome.Background, CancellationToken.None);
    }

    /// <summary>The same number of signed POSTs of a body of the same shape, straight from an HttpClient: deliveries per second.</summary>
    private static async Task<double> PlainPostsAsync(Receiver receiver, int items, int parallelism)
    {
        receiver.Reset();
        using var http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseProxy = false, UseCookies = false });
        var clock = Stopwatch.StartNew();
        await Parallel.ForEachAsync(Enumerable.Range(0, items), new ParallelOptions { MaxDegreeOfParallelism = parallelism }, async (_, ct) =>
        {
            var id = Guid.NewGuid();
            var sent = DateTimeOffset.UtcNow;
            var payload = JsonSerializer.SerializeToUtf8Bytes(new WebhookPayload("pupil-enrolled", sent, new WebhookData(id, "pupil-enrolled", Ids.NewChildId(), sent)),
                new JsonSerializerOptions(JsonSerializerDefaults.Web));
            using var request = new HttpRequestMessage(HttpMethod.Post, receiver.Url + Hook) { Content = new ByteArrayContent(payload) };
            request.Content.Headers.ContentType = new("application/json");
            var timestamp = sent.ToUnixTimeSeconds();
            request.Headers.Add("webhook-id", id.ToString());
            request.Headers.Add("webhook-timestamp", timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture));
            request.Headers.Add("webhook-signature", WebhookSignature.Sign(receiver.Secret, id.ToString(), timestamp, payload));
            using var response = await http.SendAsync(request, ct);
        });
        clock.Stop();
        if (receiver.Verified != items)
        {
            throw new InvalidOperationException($"The receiver verified {receiver.Verified} of {items} plain POSTs.");
        }

        return items / clock.Elapsed.TotalSeconds;
    }

    /// <summary>A receiver on loopback (Kestrel) that checks each signature as the specification says and counts.</summary>
    private sealed class Receiver : IAsyncDisposable
    {
        private WebApplication _app = null!;
        private int _verified;
        private int _refused;

        public string Url { get; private set; } = "";
        public string Secret { get; set; } = "";
        public int Verified => Volatile.Read(ref _verified);
        public int Refused => Volatile.Read(ref _refused);

        public static async Task<Receiver> StartAsync()
        {
            var receiver = new Receiver();
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, 0));
            builder.Logging.ClearProviders();
            receiver._app = builder.Build();
            receiver._app.MapPost(Hook, async (HttpRequest request) =>
            {
                using var buffer = new MemoryStream();
                await request.Body.CopyToAsync(buffer);
                var ok = receiver.Verifies(request.Headers["webhook-id"].ToString(), request.Headers["webhook-timestamp"].ToString(),
                    request.Headers["webhook-signature"].ToString(), buffer.ToArray());
                Interlocked.Increment(ref ok ? ref receiver._verified : ref receiver._refused);
                return ok ? Results.NoContent() : Results.Unauthorized();
            });
            await receiver._app.StartAsync();
            receiver.Url = receiver._app.Urls.First();
            return receiver;
        }

        public void Reset()
        {
            Interlocked.Exchange(ref _verified, 0);
            Interlocked.Exchange(ref _refused, 0);
        }

        private bool Verifies(string id, string timestamp, string signature, byte[] body)
        {
            if (!long.TryParse(timestamp, out var seconds) || Math.Abs(DateTimeOffset.UtcNow.ToUnixTimeSeconds() - seconds) > 300)
            {
                return false;
            }

            var key = Convert.FromBase64String(Secret["whsec_".Length..]);
            var expected = "v1," + Convert.ToBase64String(HMACSHA256.HashData(key, (byte[])[.. Encoding.UTF8.GetBytes($"{id}.{timestamp}."), .. body]));
            return signature.Split(' ').Any(s => CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(s), Encoding.ASCII.GetBytes(expected)));
        }

        public async ValueTask DisposeAsync() => await _app.DisposeAsync();
    }
}
