using System.Diagnostics;
using System.Numerics;
using Exchange.Audit.Merkle;
using Exchange.Audit.Storage;
using Xunit.Abstractions;

namespace Exchange.Audit.Tests.Storage;

/// <summary>A log of 2^20 - 1 leaves: every bit of the size is set, the worst case for the right edge.</summary>
public sealed class MillionLeafLogFixture : IAsyncLifetime, IDisposable
{
    public const long Size = (1 << 20) - 1;

    public InMemoryMerkleNodeStore Store { get; } = new();

    public MerkleLog Log { get; private set; } = null!;

    public byte[] NaiveRoot { get; private set; } = [];

    public TimeSpan BuildTime { get; private set; }

    public async Task InitializeAsync()
    {
        Log = new MerkleLog(Store);
        var leafHashes = new byte[Size][];
        var stopwatch = Stopwatch.StartNew();
        const int batch = 8192;
        for (long start = 0; start < Size; start += batch)
        {
            var count = (int)Math.Min(batch, Size - start);
            var leaves = new byte[count][];
            for (var i = 0; i < count; i++)
            {
                leaves[i] = BitConverter.GetBytes(start + i); // short synthetic leaves keep hashing cheap
            }

            await Log.AppendAsync(leaves);
        }

        BuildTime = stopwatch.Elapsed;
        var entries = await Store.ReadEntriesAsync(0, Size);
        NaiveRoot = MerkleTree.RootHash(entries.Select(e => e.LeafHash).ToArray());
    }

    public Task DisposeAsync() => Task.CompletedTask;

    public void Dispose() => Log?.Dispose();
}

public class MerkleLogReadCostTests(MillionLeafLogFixture fixture, ITestOutputHelper output)
    : IClassFixture<MillionLeafLogFixture>
{
    private const long N = MillionLeafLogFixture.Size;

    // 2 * ceil(log2 n) + 2: one sibling per level plus the perfect subtrees of one right-edge sibling.
    private static readonly int Bound = (2 * (BitOperations.Log2((ulong)N) + 1)) + 2;

    private InMemoryMerkleNodeStore Store => fixture.Store;

    private MerkleLog Log => fixture.Log;

    [Fact]
    public async Task RootAtAMillionLeavesEqualsNaiveRootAndReadsOnlyTheRightEdge()
    {
        output.WriteLine($"Appending {N} leaves in batches of 8192 took {fixture.BuildTime.TotalMilliseconds:F0} ms.");
        foreach (var treeSize in new[] { N, N - 1, 1_000_000L, 1L << 19, 3 })
        {
            Store.ResetCounters();
            var root = await Log.RootAsync(treeSize);

            Assert.Equal(BitOperations.PopCount((ulong)treeSize), Store.HashesRead);
            Assert.Equal(1, Store.ReadBatches);
            if (treeSize == N)
            {
                Assert.Equal(fixture.NaiveRoot, root);
            }
        }
    }

    [Fact]
    public async Task InclusionProofAtAMillionLeavesIsOneBatchOfAtMostTwoReadsPerLevel()
    {
        Assert.True(Bound <= 64);
        var random = new Random(20);
        var cases = new List<(long Index, long TreeSize)> { (0, N), (N - 1, N), (N / 2, N), (1L << 19, N), (999_999, 1_000_000) };
        cases.AddRange(Enumerable.Range(0, 30).Select(_ =>
        {
            var treeSize = random.NextInt64(1, N + 1);
            return (random.NextInt64(treeSize), treeSize);
        }));

        var stopwatch = new Stopwatch();
        var maxReads = 0L;
        foreach (var (index, treeSize) in cases)
        {
            var root = await Log.RootAsync(treeSize);
            var leafHash = (await Store.ReadEntriesAsync(index, index + 1))[0].LeafHash;
            Store.ResetCounters();

            stopwatch.Start();
            var proof = await Log.InclusionProofAsync(index, treeSize);
            stopwatch.Stop();

            Assert.InRange(Store.HashesRead, proof.Count, (long)Bound);
            Assert.Equal(1, Store.ReadBatches);
            maxReads = Math.Max(maxReads, Store.HashesRead);
            var result = MerkleProofVerifier.VerifyInclusion(index, treeSize, leafHash, proof, root);
            Assert.True(result.IsValid, $"index {index}, size {treeSize}: {result.Detail}");
        }

        output.WriteLine($"Inclusion proofs: at most {maxReads} hash reads (bound {Bound}); " +
            $"{stopwatch.Elapsed.TotalMicroseconds / cases.Count:F1} us each on the in-memory store.");
    }

    [Fact]
    public async Task ConsistencyProofAtAMillionLeavesIsOneBatchOfAtMostTwoReadsPerLevel()
    {
        var random = new Random(21);
        var cases = new List<(long Old, long New)> { (1, N), (N - 1, N), (1L << 19, N), ((1L << 19) + 1, N), (12_345, 1_000_000) };
        cases.AddRange(Enumerable.Range(0, 30).Select(_ =>
        {
            var newSize = random.NextInt64(1, N + 1);
            return (random.NextInt64(1, newSize + 1), newSize);
        }));

        var stopwatch = new Stopwatch();
        var maxReads = 0L;
        foreach (var (oldSize, newSize) in cases)
        {
            var oldRoot = await Log.RootAsync(oldSize);
            var newRoot = await Log.RootAsync(newSize);
            Store.ResetCounters();

            stopwatch.Start();
            var proof = await Log.ConsistencyProofAsync(oldSize, newSize);
            stopwatch.Stop();

            Assert.InRange(Store.HashesRead, proof.Count, (long)Bound);
            Assert.True(Store.ReadBatches <= 1);
            maxReads = Math.Max(maxReads, Store.HashesRead);
            var result = MerkleProofVerifier.VerifyConsistency(oldSize, newSize, proof, oldRoot, newRoot);
            Assert.True(result.IsValid, $"{oldSize} -> {newSize}: {result.Detail}");
        }

        output.WriteLine($"Consistency proofs: at most {maxReads} hash reads (bound {Bound}); " +
            $"{stopwatch.Elapsed.TotalMicroseconds / cases.Count:F1} us each on the in-memory store.");
    }
}
