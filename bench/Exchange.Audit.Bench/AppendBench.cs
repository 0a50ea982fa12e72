using System.Diagnostics;
using Exchange.Audit.Events;
using Exchange.Audit.Merkle;
using Exchange.Audit.Storage;

namespace Exchange.Audit.Bench;

/// <summary>
/// Part 1: appends per second through group commit, on the service's real audit store (SQLite or
/// PostgreSQL), many concurrent requesters each waiting for its own event to be durable. In the same
/// run and interleaved with it, the baseline: the same store and log with one event per transaction
/// (<see cref="GroupCommitAppender"/> with maxBatch 1). A third variant goes through the service's
/// own <c>AuditWriter</c> (which wraps an appender of <c>AuditOptions.MaxBatch</c> and adds the append timeout; with at
/// most 256 requesters a transaction never reaches either limit, so 512 and 4,096 measure alike here).
/// </summary>
internal static class AppendBench
{
    // AuditOptions.MaxBatch's default until 2026-12-05 (now 4,096, for batch requests); kept here so every run of this part compares.
    public const int ServiceMaxBatch = 512;

    private sealed record Variant(string Id, string Name, Func<AuditEvent, Task> Append, Func<long> Batches);

    private sealed record Sample(string Variant, int Concurrency, long Events, double Seconds, long Batches, double CpuSeconds)
    {
        public double CpuMicrosPerEvent => CpuSeconds * 1e6 / Events;
        public double CoresBusy => CpuSeconds / Seconds;

        public double Rate => Events / Seconds;
        public double PerBatch => Batches == 0 ? double.NaN : Events / (double)Batches;
    }

    public static async Task RunAsync(StoreKind kind, string? postgresServer, int[] concurrencies, int rounds, TimeSpan roundTime)
    {
        var started = Stopwatch.StartNew();
        await using var host = await AuditStoreHost.CreateAsync(kind, postgresServer);
        Console.WriteLine($"## 1{(kind == StoreKind.Sqlite ? "a" : "b")}. Appends per second, group commit vs one event per transaction: {kind}");
        Console.WriteLine($"store:       {host.Describe()}");
        Console.WriteLine($"durability:  {await host.DurabilitySettingsAsync()}");
        var sample = RealisticEvents.Next(0, 0).ToLeaf();
        Console.WriteLine($"event:       {sample.Length} bytes of canonical JSON, e.g. {System.Text.Encoding.UTF8.GetString(sample)}");
        Console.WriteLine($"load:        {MachineInfo.LoadAverage()} (1, 5, 15 min)");

        var log = host.Log;
        var writer = host.Writer;
        await using var group = new GroupCommitAppender(log, ServiceMaxBatch);
        await using var single = new GroupCommitAppender(log, maxBatch: 1);
        var variants = new[]
        {
            new Variant("group", $"GroupCommitAppender(maxBatch {ServiceMaxBatch})", e => group.AppendAsync(e.ToLeaf()), () => group.Batches),
            new Variant("single", "baseline: GroupCommitAppender(maxBatch 1), one event per transaction", e => single.AppendAsync(e.ToLeaf()), () => single.Batches),
            new Variant("writer", $"AuditWriter.AppendAsync (the service's writer: maxBatch from AuditOptions + timeout)", e => writer.AppendAsync(e, CancellationToken.None), () => 0),
        };
        foreach (var v in variants)
        {
            Console.WriteLine($"  {v.Id,-7} {v.Name}");
        }

        var sizeBefore = await log.GetSizeAsync();
        long appended = 0;
        var requesterBase = 0;

        // Warm-up: connections, JIT, the right edge.
        foreach (var v in variants)
        {
            var warm = await MeasureAsync(v, concurrencies[0], TimeSpan.FromMilliseconds(500), requesterBase);
            requesterBase += concurrencies[0];
            appended += warm.Events;
        }

        var samples = new List<(int Round, Sample Sample)>();
        for (var round = 0; round < rounds; round++)
        {
            foreach (var concurrency in concurrencies)
            {
                // Rotate the order each round so drift and neighbours' load fall on every variant alike.
                for (var k = 0; k < variants.Length; k++)
                {
                    var v = variants[(k + round) % variants.Length];
                    var s = await MeasureAsync(v, concurrency, roundTime, requesterBase);
                    requesterBase += concurrency;
                    appended += s.Events;
                    samples.Add((round, s));
                }
            }

            Console.WriteLine($"  round {round + 1,2}/{rounds}: " + string.Join("  ", samples.Where(x => x.Round == round)
                .Select(x => $"{x.Sample.Variant}@{x.Sample.Concurrency}={x.Sample.Rate:N0}/s")));
        }

        Console.WriteLine();
        Console.WriteLine($"{kind}: medians over {rounds} rounds of {roundTime.TotalSeconds:0.#} s per variant and concurrency (the time includes draining the requests in flight at the end)");
        Console.WriteLine("| requesters | variant | events/s (median) | min - max | events per transaction (median) | transactions/s (median) | bench process CPU per event (median) | cores busy (median) |");
        Console.WriteLine("|---:|---|---:|---:|---:|---:|---:|---:|");
        foreach (var concurrency in concurrencies)
        {
            foreach (var v in variants)
            {
                var mine = samples.Where(x => x.Sample.Concurrency == concurrency && x.Sample.Variant == v.Id).Select(x => x.Sample).ToList();
                var perBatch = v.Id == "writer" ? "n/a" : $"{Stats.Median(mine.Select(s => s.PerBatch)):N1}";
                var tps = v.Id == "writer" ? "n/a" : $"{Stats.Median(mine.Select(s => s.Batches / s.Seconds)):N0}";
                Console.WriteLine($"| {concurrency} | {v.Id} | {Stats.Median(mine.Select(s => s.Rate)):N0} | {Stats.Min(mine.Select(s => s.Rate)):N0} - {Stats.Max(mine.Select(s => s.Rate)):N0} | {perBatch} | {tps} | {Stats.Median(mine.Select(s => s.CpuMicrosPerEvent)):N0} µs | {Stats.Median(mine.Select(s => s.CoresBusy)):N2} |");
            }
        }

        Console.WriteLine();
        Console.WriteLine("| requesters | group / single (ratio of medians) | group / single (median of per-round ratios) | writer / group (median of per-round ratios) |");
        Console.WriteLine("|---:|---:|---:|---:|");
        foreach (var concurrency in concurrencies)
        {
            double Med(string id) => Stats.Median(samples.Where(x => x.Sample.Concurrency == concurrency && x.Sample.Variant == id).Select(x => x.Sample.Rate));
            double PerRound(string a, string b) => Stats.Median(Enumerable.Range(0, rounds).Select(r =>
                samples.Single(x => x.Round == r && x.Sample.Concurrency == concurrency && x.Sample.Variant == a).Sample.Rate
                / samples.Single(x => x.Round == r && x.Sample.Concurrency == concurrency && x.Sample.Variant == b).Sample.Rate));
            Console.WriteLine($"| {concurrency} | {Med("group") / Med("single"):N1} | {PerRound("group", "single"):N1} | {PerRound("writer", "group"):N2} |");
        }

        // The figures count only appends that completed; check they are all in the log and prove.
        var sizeAfter = await log.GetSizeAsync();
        var root = await log.RootAsync(sizeAfter);
        var random = new Random(1);
        var checkedProofs = 0;
        foreach (var index in Enumerable.Range(0, 20).Select(_ => sizeBefore + random.NextInt64(sizeAfter - sizeBefore)))
        {
            var entry = (await host.Store.ReadEntriesAsync(index, index + 1)).Single();
            var proof = await log.InclusionProofAsync(index, sizeAfter);
            if (!MerkleProofVerifier.VerifyInclusion(index, sizeAfter, MerkleHash.LeafHash(entry.Leaf), proof, root).IsValid)
            {
                throw new InvalidOperationException($"The inclusion proof of entry {index} did not verify.");
            }

            checkedProofs++;
        }

        Console.WriteLine();
        Console.WriteLine($"check:       {appended:N0} appends completed, log grew by {sizeAfter - sizeBefore:N0} entries ({(appended == sizeAfter - sizeBefore ? "equal" : "MISMATCH")}); {checkedProofs} random inclusion proofs verified against the root at {sizeAfter:N0}");
        if (kind == StoreKind.Sqlite)
        {
            Console.WriteLine($"disk:        {MachineInfo.Bytes(MachineInfo.DirectorySize(host.DataDirectory))} in the data directory");
        }

        Console.WriteLine($"took:        {started.Elapsed.TotalSeconds:N0} s");
        if (appended != sizeAfter - sizeBefore)
        {
            throw new InvalidOperationException("Appends counted and entries in the log differ.");
        }
    }

    // `concurrency` requesters, each appending one event at a time and waiting until it is durable, until the
    // round's time is up; the elapsed time runs until the last requester's last append has completed.
    private static async Task<Sample> MeasureAsync(Variant variant, int concurrency, TimeSpan duration, int requesterBase)
    {
        var stop = 0;
        long events = 0;
        var batchesBefore = variant.Batches();
        var cpuBefore = ProcessCpu.Seconds();
        var watch = Stopwatch.StartNew();
        var requesters = Enumerable.Range(requesterBase, concurrency).Select(async requester =>
        {
            await Task.Yield();
            long n = 0;
            while (Volatile.Read(ref stop) == 0)
            {
                await variant.Append(RealisticEvents.Next(requester, n));
                n++;
            }

            Interlocked.Add(ref events, n);
        }).ToArray();
        await Task.Delay(duration);
        Volatile.Write(ref stop, 1);
        await Task.WhenAll(requesters);
        watch.Stop();
        return new Sample(variant.Id, concurrency, events, watch.Elapsed.TotalSeconds, variant.Batches() - batchesBefore, ProcessCpu.Seconds() - cpuBefore);
    }
}
