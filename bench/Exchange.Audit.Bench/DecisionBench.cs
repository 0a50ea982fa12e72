using System.Diagnostics;
using System.Net;
using Exchange.Api.Auth;
using Exchange.Api.Policy;
using Microsoft.Extensions.DependencyInjection;

namespace Exchange.Audit.Bench;

/// <summary>
/// Part 4: what one access decision costs against the whole request it guards, in one instance of the real
/// API (audited, SQLite, TestServer). Three variants, interleaved round by round, each driven by the same
/// number of concurrent workers: the full <c>GET /v1/children/{childId}</c>; <see cref="AccessDecider.DecideAsync"/>
/// alone in a fresh DI scope (so it also pays for the scope, the DbContext and the organisation query that a real
/// request shares with the sign-in check; then the queries for the child's merge and erasure state, relationships,
/// consents, processing limits and break-glass grant, and the engine); and <see cref="PolicyEngine.Decide"/> alone
/// on the request those queries produce (rule matching only).
/// </summary>
internal static class DecisionBench
{
    private const string Action = "read";
    private const string Category = "identity";
    private const string Purpose = "pep-review";

    public static async Task RunAsync(int workers, int rounds, TimeSpan roundTime)
    {
        var started = Stopwatch.StartNew();
        Console.WriteLine("## 4. One access decision against the request it guards (SQLite, TestServer, audited)");
        Console.WriteLine($"load:        {MachineInfo.LoadAverage()} (1, 5, 15 min)");
        await using var factory = new BenchApiFactory(auditing: true, kestrel: false);
        var target = await ReadRpsBench.StartAsync("audited", factory);
        try
        {
            var caller = new Caller("bench-virtual-school@la:202", "la:202", ["virtual-school"], "exchange-audit-bench");
            var engine = factory.Services.GetRequiredService<PolicyEngine>();

            // Each variant must give the answer the request gives: a permit by the same rule.
            var first = await DecideAsync(factory, caller, target.ChildId);
            if (!first.Decision.Permit || first.Decision.Rule != engine.Decide(first.Request).Rule)
            {
                throw new InvalidOperationException($"The decider and the engine disagree, or refused the registering council ({first.Decision.Reason}).");
            }

            var engineRequest = first.Request;

            Console.WriteLine($"decision:    permit by {string.Join(", ", first.Decision.AppliedRules)}");

            var variants = new (string Id, Func<Task> Once)[]
            {
                ("request", async () =>
                {
                    using var response = await target.Client.GetAsync(new Uri(Path(target.ChildId), UriKind.Relative));
                    _ = await response.Content.ReadAsByteArrayAsync();
                    if (response.StatusCode != HttpStatusCode.OK)
                    {
                        throw new InvalidOperationException($"GET answered {(int)response.StatusCode}");
                    }
                }),
                ("decider", async () =>
                {
                    var decision = await DecideAsync(factory, caller, target.ChildId);
                    if (decision.Decision.Rule != first.Decision.Rule)
                    {
                        throw new InvalidOperationException("The decider changed its answer.");
                    }
                }),
                ("engine", () =>
                {
                    if (engine.Decide(engineRequest).Rule != first.Decision.Rule)
                    {
                        throw new InvalidOperationException("The engine changed its answer.");
                    }

                    return Task.CompletedTask;
                }),
            };

            foreach (var (_, once) in variants)
            {
                await MeasureAsync(once, workers, TimeSpan.FromSeconds(1)); // warm-up (JIT, caches)
            }

            var samples = new List<(string Id, double Rate, double CpuMicros)>();
            for (var round = 0; round < rounds; round++)
            {
                var line = new List<string>();
                for (var k = 0; k < variants.Length; k++)
                {
                    var (id, once) = variants[(k + round) % variants.Length];
                    var cpuBefore = ProcessCpu.Seconds();
                    var (ops, seconds) = await MeasureAsync(once, workers, roundTime);
                    var cpu = ProcessCpu.Seconds() - cpuBefore;
                    samples.Add((id, ops / seconds, cpu * 1e6 / ops));
                    line.Add($"{id}={ops / seconds:N0}/s");
                }

                Console.WriteLine($"  round {round + 1,2}/{rounds}: {string.Join("  ", line)}");
            }

            Console.WriteLine();
            Console.WriteLine($"{workers} concurrent workers, medians over {rounds} rounds of {roundTime.TotalSeconds:0.#} s per variant");
            Console.WriteLine("| variant | operations/s (median) | min - max | process CPU per operation (median) | share of the request's CPU |");
            Console.WriteLine("|---|---:|---:|---:|---:|");
            var requestCpu = Stats.Median(samples.Where(s => s.Id == "request").Select(s => s.CpuMicros));
            foreach (var (id, _) in variants)
            {
                var mine = samples.Where(s => s.Id == id).ToList();
                var cpu = Stats.Median(mine.Select(s => s.CpuMicros));
                Console.WriteLine($"| {id} | {Stats.Median(mine.Select(s => s.Rate)):N0} | {Stats.Min(mine.Select(s => s.Rate)):N0} - {Stats.Max(mine.Select(s => s.Rate)):N0} | {cpu:N1} µs | {cpu / requestCpu:P1} |");
            }

            Console.WriteLine($"took:        {started.Elapsed.TotalSeconds:N0} s");
        }
        finally
        {
            target.Client.Dispose();
        }
    }

    private static string Path(string childId) => "/v1/children/" + childId;

    private static async Task<(PolicyDecision Decision, PolicyRequest Request)> DecideAsync(BenchApiFactory factory, Caller caller, string childId)
    {
        await using var scope = factory.Services.CreateAsyncScope();
        var decider = scope.ServiceProvider.GetRequiredService<AccessDecider>();
        var decision = await decider.DecideAsync(caller, Action, Category, Purpose, childId, CancellationToken.None);
        return (decision.Decision, decision.Request!);
    }

    // The workers watch the clock themselves: the engine variant completes synchronously and never yields, so
    // a timer callback to stop it could wait behind 16 spinning workers on 2 cores.
    private static async Task<(long Ops, double Seconds)> MeasureAsync(Func<Task> once, int workers, TimeSpan duration)
    {
        long ops = 0;
        var watch = Stopwatch.StartNew();
        var tasks = Enumerable.Range(0, workers).Select(_ => Task.Run(async () =>
        {
            long n = 0;
            while (watch.Elapsed < duration)
            {
                await once();
                n++;
            }

            Interlocked.Add(ref ops, n);
        })).ToArray();
        await Task.WhenAll(tasks);
        watch.Stop();
        return (ops, watch.Elapsed.TotalSeconds);
    }
}
