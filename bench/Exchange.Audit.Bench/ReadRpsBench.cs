using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Exchange.Audit.Storage;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Exchange.Audit.Bench;

/// <summary>
/// Part 2: requests per second for <c>GET /v1/children/{childId}</c> on two instances of the real API in
/// this process, both environment <c>Benchmark</c> on SQLite, one recording an audit event per request
/// (durable before the answer is released) and one with auditing switched off. Rounds alternate between
/// the two; each round gives each instance the same time with the same number of concurrent clients.
/// </summary>
internal static class ReadRpsBench
{
    private const string Path = "/v1/children/";

    internal sealed record Target(string Id, BenchApiFactory Factory, HttpClient Client, string ChildId);

    public static async Task RunAsync(bool kestrel, int clients, int rounds, TimeSpan roundTime)
    {
        var started = Stopwatch.StartNew();
        var transport = kestrel ? "Kestrel on 127.0.0.1 (HTTP/1.1 over loopback TCP, SocketsHttpHandler client)" : "TestServer (in memory, no sockets)";
        Console.WriteLine($"## 2{(kestrel ? "b" : "a")}. Requests per second, GET /v1/children/{{childId}}, audited vs unaudited, {(kestrel ? "Kestrel" : "TestServer")}");
        Console.WriteLine($"transport:   {transport}");
        Console.WriteLine($"load:        {MachineInfo.LoadAverage()} (1, 5, 15 min)");
        await using var audited = new BenchApiFactory(auditing: true, kestrel);
        await using var unaudited = new BenchApiFactory(auditing: false, kestrel);
        var targets = new[] { await StartAsync("audited", audited), await StartAsync("unaudited", unaudited) };
        try
        {
            var auditedSizeBefore = await SizeAsync(audited);

            // Warm-up: JIT, connections, caches (the data key of the child, the pages of both SQLite files).
            foreach (var target in targets)
            {
                await MeasureAsync(target, clients, TimeSpan.FromSeconds(1));
            }

            var samples = new List<(int Round, string Id, long Requests, double Seconds)>();
            var cpu = new List<(string Id, double MicrosPerRequest, double Cores)>();
            long auditedRequests = 0;
            for (var round = 0; round < rounds; round++)
            {
                for (var k = 0; k < targets.Length; k++)
                {
                    var target = targets[(k + round) % targets.Length];
                    var cpuBefore = ProcessCpu.Seconds();
                    var (requests, seconds) = await MeasureAsync(target, clients, roundTime);
                    var cpuSeconds = ProcessCpu.Seconds() - cpuBefore;
                    samples.Add((round, target.Id, requests, seconds));
                    cpu.Add((target.Id, cpuSeconds * 1e6 / requests, cpuSeconds / seconds));
                    if (target.Id == "audited")
                    {
                        auditedRequests += requests;
                    }
                }

                var mine = samples.Where(s => s.Round == round).ToList();
                Console.WriteLine($"  round {round + 1,2}/{rounds}: " + string.Join("  ", mine.Select(s => $"{s.Id}={s.Requests / s.Seconds:N0}/s"))
                    + $"  ratio={mine.Single(s => s.Id == "audited").Requests / mine.Single(s => s.Id == "audited").Seconds / (mine.Single(s => s.Id == "unaudited").Requests / mine.Single(s => s.Id == "unaudited").Seconds):N2}");
            }

            double Rate((int Round, string Id, long Requests, double Seconds) s) => s.Requests / s.Seconds;
            var on = samples.Where(s => s.Id == "audited").Select(Rate).ToList();
            var off = samples.Where(s => s.Id == "unaudited").Select(Rate).ToList();
            var perRound = Enumerable.Range(0, rounds).Select(r =>
                Rate(samples.Single(s => s.Round == r && s.Id == "audited")) / Rate(samples.Single(s => s.Round == r && s.Id == "unaudited"))).ToList();
            Console.WriteLine();
            Console.WriteLine($"{(kestrel ? "Kestrel" : "TestServer")}: {clients} concurrent clients, medians over {rounds} rounds of {roundTime.TotalSeconds:0.#} s per instance");
            string Cpu(string id) => $"{Stats.Median(cpu.Where(c => c.Id == id).Select(c => c.MicrosPerRequest)):N0} µs | {Stats.Median(cpu.Where(c => c.Id == id).Select(c => c.Cores)):N2}";
            Console.WriteLine("| instance | requests/s (median) | min - max | process CPU per request, server + client (median) | cores busy (median) |");
            Console.WriteLine("|---|---:|---:|---:|---:|");
            Console.WriteLine($"| audited | {Stats.Median(on):N0} | {Stats.Min(on):N0} - {Stats.Max(on):N0} | {Cpu("audited")} |");
            Console.WriteLine($"| unaudited | {Stats.Median(off):N0} | {Stats.Min(off):N0} - {Stats.Max(off):N0} | {Cpu("unaudited")} |");
            Console.WriteLine($"ratio audited / unaudited: {Stats.Median(on) / Stats.Median(off):N2} (ratio of medians), {Stats.Median(perRound):N2} (median of per-round ratios; range {Stats.Min(perRound):N2} - {Stats.Max(perRound):N2})");

            // The audited instance must really have recorded one event per request, and the other none.
            var auditedGrowth = await SizeAsync(audited) - auditedSizeBefore;
            var unauditedSize = await SizeAsync(unaudited);
            Console.WriteLine($"check:       audited log grew by {auditedGrowth:N0} events for {auditedRequests:N0} measured requests (+ warm-up); unaudited log holds {unauditedSize:N0} events");
            if (auditedGrowth < auditedRequests || unauditedSize != 0)
            {
                throw new InvalidOperationException("The audited instance did not record every request, or the unaudited one recorded some.");
            }

            Console.WriteLine($"took:        {started.Elapsed.TotalSeconds:N0} s");
        }
        finally
        {
            foreach (var target in targets)
            {
                target.Client.Dispose();
            }
        }
    }

    internal static async Task<Target> StartAsync(string id, BenchApiFactory factory)
    {
        HttpClient client;
        if (factory.Kestrel)
        {
            factory.StartServer();
            var address = factory.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            client = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false })
            {
                BaseAddress = new Uri(address.Replace("[::]", "127.0.0.1", StringComparison.Ordinal).Replace("localhost", "127.0.0.1", StringComparison.Ordinal)),
            };
        }
        else
        {
            client = factory.CreateClient(new WebApplicationFactoryClientOptions { BaseAddress = new Uri("https://localhost"), AllowAutoRedirect = false, HandleCookies = false });
        }

        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", factory.Token("la:202", "virtual-school"));
        client.DefaultRequestHeaders.Add("X-Purpose-Of-Use", "pep-review");
        using var register = await client.PostAsJsonAsync(Path, new { identifiers = new { nhsNumber = "9434765919" }, careEpisode = new { startDate = "2025-09-01" } });
        var body = await register.Content.ReadAsStringAsync();
        if (register.StatusCode != HttpStatusCode.Created)
        {
            throw new InvalidOperationException($"Registering the child on the {id} instance answered {(int)register.StatusCode}: {body}");
        }

        var childId = JsonDocument.Parse(body).RootElement.GetProperty("childId").GetString()!;
        using var read = await client.GetAsync(Path + childId);
        var readBody = await read.Content.ReadAsStringAsync();
        if (read.StatusCode != HttpStatusCode.OK)
        {
            throw new InvalidOperationException($"Reading the child on the {id} instance answered {(int)read.StatusCode}: {readBody}");
        }

        Console.WriteLine($"{id,-10}   {client.BaseAddress}  data {factory.DataDirectory}  child {childId}: {readBody}");
        return new Target(id, factory, client, childId);
    }

    private static Task<long> SizeAsync(BenchApiFactory factory) => factory.Services.GetRequiredService<MerkleLog>().GetSizeAsync();

    // `clients` concurrent clients, each sending the next GET as soon as the last answered (200 required),
    // until the round's time is up; the elapsed time runs until the last answer.
    private static async Task<(long Requests, double Seconds)> MeasureAsync(Target target, int clients, TimeSpan duration)
    {
        var stop = 0;
        long requests = 0;
        var uri = new Uri(Path + target.ChildId, UriKind.Relative);
        var watch = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, clients).Select(async _ =>
        {
            await Task.Yield();
            long n = 0;
            while (Volatile.Read(ref stop) == 0)
            {
                using var response = await target.Client.GetAsync(uri);
                var body = await response.Content.ReadAsByteArrayAsync();
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    throw new InvalidOperationException($"The {target.Id} instance answered {(int)response.StatusCode}: {System.Text.Encoding.UTF8.GetString(body)}");
                }

                n++;
            }

            Interlocked.Add(ref requests, n);
        }).ToArray();
        await Task.Delay(duration);
        Volatile.Write(ref stop, 1);
        await Task.WhenAll(workers);
        watch.Stop();
        return (requests, watch.Elapsed.TotalSeconds);
    }
}
