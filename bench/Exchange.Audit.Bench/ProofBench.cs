using System.Diagnostics;
using System.Globalization;
using System.Text;
using Exchange.Audit.Merkle;
using Exchange.Audit.Storage;

namespace Exchange.Audit.Bench;

/// <summary>
/// Part 3: time to build one inclusion proof (<see cref="MerkleLog.InclusionProofAsync"/>) for a random
/// index at tree sizes of 1 and 10 million, over <see cref="InMemoryMerkleNodeStore"/> and over the
/// service's SQLite audit store. The logs are filled through <see cref="MerkleLog.AppendAsync"/> in large
/// batches of small leaves (the decimal index as text); every timed proof is then verified against
/// <see cref="MerkleLog.RootAsync"/>, and the SQLite roots are checked against the in-memory ones.
/// </summary>
internal static class ProofBench
{
    public static async Task RunAsync(long[] sizes, long sqliteMax, int batch, int memoryProofs, int sqliteProofs)
    {
        var started = Stopwatch.StartNew();
        Console.WriteLine("## 3. Inclusion-proof time at 1 and 10 million leaves");
        Console.WriteLine($"fill:        MerkleLog.AppendAsync in batches of {batch:N0} leaves; leaf i = the decimal text of i (1-8 bytes)");
        Console.WriteLine($"load:        {MachineInfo.LoadAverage()} (1, 5, 15 min)");
        var results = new List<string>();
        var roots = new Dictionary<long, byte[]>();

        // In a method of its own, so that the 10-million-entry store is garbage once it returns.
        await InMemoryAsync(sizes, batch, memoryProofs, roots, results);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();

        await using (var host = await AuditStoreHost.CreateAsync(StoreKind.Sqlite))
        {
            Console.WriteLine($"sqlite:      {host.Describe()}; {await host.DurabilitySettingsAsync()}");
            var log = host.Log;
            var sqliteSizes = sizes.Where(s => s <= sqliteMax).ToArray();
            foreach (var size in sizes.Where(s => s > sqliteMax))
            {
                Console.WriteLine($"sqlite:      tree size {size:N0} skipped (--sqlite-proof-max {sqliteMax:N0})");
            }

            foreach (var size in sqliteSizes)
            {
                await FillAsync("sqlite", log, size, batch, host.DataDirectory);
                var root = await log.RootAsync(size);
                if (!root.AsSpan().SequenceEqual(roots[size]))
                {
                    throw new InvalidOperationException($"The SQLite log's root at {size} differs from the in-memory log's.");
                }

                Console.WriteLine($"sqlite:      root at {size:N0} equals the in-memory log's: {Convert.ToHexStringLower(root)}");
                results.Add(await MeasureAsync("EfAuditStore (SQLite)", log, null, size, size, sqliteProofs, root));
            }

            if (sqliteSizes.Length > 0)
            {
                var filled = sqliteSizes.Max();
                foreach (var size in sqliteSizes.Where(s => s < filled))
                {
                    results.Add(await MeasureAsync("EfAuditStore (SQLite)", log, null, size, filled, sqliteProofs, roots[size]));
                }

                // Where the time goes: the same proofs through a timing decorator over the same store.
                var timing = new TimingStore(host.Store);
                using var timedLog = new MerkleLog(timing);
                foreach (var size in sqliteSizes)
                {
                    await BreakdownAsync(timedLog, timing, size, Math.Min(sqliteProofs, 1_000));
                }
            }
        }

        Console.WriteLine();
        Console.WriteLine("Per proof, one at a time on one requester, random indexes (seeded); every timed proof verified against RootAsync(treeSize)");
        Console.WriteLine("| store | tree size | log holds | proofs | median | p95 | p99 | mean | max | hashes per proof | store reads per proof |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var line in results)
        {
            Console.WriteLine(line);
        }

        Console.WriteLine($"took:        {started.Elapsed.TotalSeconds:N0} s");
    }

    private static async Task InMemoryAsync(long[] sizes, int batch, int proofs, Dictionary<long, byte[]> roots, List<string> results)
    {
        var store = new InMemoryMerkleNodeStore();
        using var log = new MerkleLog(store);
        foreach (var size in sizes)
        {
            await FillAsync("memory", log, size, batch, null);
            roots[size] = await log.RootAsync(size);
            results.Add(await MeasureAsync("InMemoryMerkleNodeStore", log, store, size, size, proofs, roots[size]));
        }

        foreach (var size in sizes.Where(s => s < sizes.Max()))
        {
            results.Add(await MeasureAsync("InMemoryMerkleNodeStore", log, store, size, sizes.Max(), proofs, roots[size]));
        }
    }

    private static byte[] Leaf(long index) => Encoding.ASCII.GetBytes(index.ToString(CultureInfo.InvariantCulture));

    private static async Task FillAsync(string name, MerkleLog log, long target, int batch, string? directory)
    {
        var size = await log.GetSizeAsync();
        var from = size;
        var watch = Stopwatch.StartNew();
        var lastReport = TimeSpan.Zero;
        while (size < target)
        {
            var count = (int)Math.Min(batch, target - size);
            var leaves = new byte[count][];
            for (var i = 0; i < count; i++)
            {
                leaves[i] = Leaf(size + i);
            }

            var indexes = await log.AppendAsync(leaves);
            if (indexes[0] != size)
            {
                throw new InvalidOperationException($"The batch landed at {indexes[0]}, not {size}.");
            }

            size += count;
            if (watch.Elapsed - lastReport > TimeSpan.FromSeconds(20) || size == target)
            {
                lastReport = watch.Elapsed;
                var disk = directory is null ? "" : $", {MachineInfo.Bytes(MachineInfo.DirectorySize(directory))} on disk";
                Console.WriteLine($"  fill {name}: {size:N0} / {target:N0} leaves, {watch.Elapsed.TotalSeconds:N0} s, {(size - from) / watch.Elapsed.TotalSeconds:N0} leaves/s{disk}, GC heap {MachineInfo.Bytes(GC.GetTotalMemory(false))}");
            }
        }
    }

    private static async Task<string> MeasureAsync(string name, MerkleLog log, InMemoryMerkleNodeStore? counting, long treeSize, long logSize, int proofs, byte[] root)
    {
        // Start each measurement with a clean heap, so that a full collection of what the fill left is not in it.
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        var random = new Random(3);
        for (var i = 0; i < Math.Min(proofs, 200); i++)
        {
            await log.InclusionProofAsync(random.NextInt64(treeSize), treeSize); // warm-up
        }

        counting?.ResetCounters();
        var micros = new double[proofs];
        var taken = new (long Index, IReadOnlyList<byte[]> Proof)[proofs];
        for (var i = 0; i < proofs; i++)
        {
            var index = random.NextInt64(treeSize);
            var start = Stopwatch.GetTimestamp();
            var proof = await log.InclusionProofAsync(index, treeSize);
            micros[i] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
            taken[i] = (index, proof);
        }

        var hashesRead = counting is null ? "n/a" : $"{counting.HashesRead / (double)proofs:N1}";
        var reads = counting is null ? "n/a" : $"{counting.ReadBatches / (double)proofs:N1}";
        foreach (var (index, proof) in taken)
        {
            var result = MerkleProofVerifier.VerifyInclusion(index, treeSize, MerkleHash.LeafHash(Leaf(index)), proof, root);
            if (!result.IsValid)
            {
                throw new InvalidOperationException($"{name}: the proof of {index} at {treeSize} did not verify: {result.Detail}");
            }
        }

        var line = $"| {name} | {treeSize:N0} | {logSize:N0} | {proofs:N0} | {Ms(Stats.Median(micros))} | {Ms(Stats.Percentile(micros, 95))} | {Ms(Stats.Percentile(micros, 99))} | {Ms(micros.Average())} | {Ms(micros.Max())} | {taken.Average(t => t.Proof.Count):N1} | {reads} |";
        Console.WriteLine($"  proofs: {line}  (all {proofs:N0} verified)");
        return line;
    }

    private static async Task BreakdownAsync(MerkleLog log, TimingStore timing, long treeSize, int proofs)
    {
        var random = new Random(5);
        for (var i = 0; i < 100; i++)
        {
            await log.InclusionProofAsync(random.NextInt64(treeSize), treeSize);
        }

        timing.Reset();
        var total = Stopwatch.StartNew();
        for (var i = 0; i < proofs; i++)
        {
            await log.InclusionProofAsync(random.NextInt64(treeSize), treeSize);
        }

        total.Stop();
        var sizeMedian = Stats.Median(timing.SizeMicros);
        var readMedian = Stats.Median(timing.ReadMicros);
        Console.WriteLine($"  breakdown at {treeSize:N0} ({proofs:N0} proofs): whole proof mean {total.Elapsed.TotalMicroseconds / proofs / 1000:0.000} ms; "
            + $"GetSizeAsync median {sizeMedian / 1000:0.000} ms; ReadHashesAsync median {readMedian / 1000:0.000} ms "
            + $"for {timing.NodesRequested / (double)proofs:N1} nodes on {timing.LevelsRequested / (double)proofs:N1} distinct levels per proof");
    }

    private static string Ms(double micros) => (micros / 1000).ToString("0.000", CultureInfo.InvariantCulture) + " ms";

    /// <summary>Times the two store calls a proof makes; delegates everything to the real store.</summary>
    private sealed class TimingStore(IMerkleNodeStore inner) : IMerkleNodeStore
    {
        public List<double> SizeMicros { get; } = [];

        public List<double> ReadMicros { get; } = [];

        public long NodesRequested { get; private set; }

        public long LevelsRequested { get; private set; }

        public void Reset()
        {
            SizeMicros.Clear();
            ReadMicros.Clear();
            NodesRequested = 0;
            LevelsRequested = 0;
        }

        public async Task<long> GetSizeAsync(CancellationToken cancellationToken = default)
        {
            var start = Stopwatch.GetTimestamp();
            var size = await inner.GetSizeAsync(cancellationToken);
            SizeMicros.Add(Stopwatch.GetElapsedTime(start).TotalMicroseconds);
            return size;
        }

        public async Task<IReadOnlyList<byte[]>> ReadHashesAsync(IReadOnlyList<MerkleNodeId> nodes, CancellationToken cancellationToken = default)
        {
            var start = Stopwatch.GetTimestamp();
            var hashes = await inner.ReadHashesAsync(nodes, cancellationToken);
            ReadMicros.Add(Stopwatch.GetElapsedTime(start).TotalMicroseconds);
            NodesRequested += nodes.Count;
            LevelsRequested += nodes.Select(n => n.Level).Distinct().Count();
            return hashes;
        }

        public Task<IReadOnlyList<MerkleLogEntry>> ReadEntriesAsync(long startIndex, long endIndex, CancellationToken cancellationToken = default) =>
            inner.ReadEntriesAsync(startIndex, endIndex, cancellationToken);

        public Task AppendAsync(MerkleAppendBatch batch, CancellationToken cancellationToken = default) =>
            inner.AppendAsync(batch, cancellationToken);
    }
}
