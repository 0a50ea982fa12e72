using Exchange.Audit.Merkle;
using Exchange.Audit.Storage;

namespace Exchange.Audit.Tests.Storage;

public class MerkleLogAppendTests
{
    private static byte[][] Leaves(int first, int count) =>
        Enumerable.Range(first, count).Select(i => MerkleLogPropertyTests.Leaf(i)).ToArray();

    private static async Task<byte[]> NaiveRootAsync(InMemoryMerkleNodeStore store)
    {
        var entries = await store.ReadEntriesAsync(0, long.MaxValue);
        return MerkleTree.RootHash(entries.Select(e => MerkleHash.LeafHash(e.Leaf)).ToArray());
    }

    [Fact]
    public async Task ABatchIsOneStoreWriteWithConsecutiveIndexesAndEveryCompletedNode()
    {
        var store = new RecordingStore(new InMemoryMerkleNodeStore());
        using var log = new MerkleLog(store);
        await log.AppendAsync(Leaves(0, 5));

        var indexes = await log.AppendAsync(Leaves(5, 11));

        Assert.Equal(Enumerable.Range(5, 11).Select(i => (long)i), indexes);
        Assert.Equal(2, store.Batches.Count);
        var batch = store.Batches[1];
        Assert.Equal(5, batch.FirstIndex);
        Assert.Equal(16, batch.NewSize);
        Assert.Equal(Leaves(5, 11), batch.Entries.Select(e => e.Leaf));
        Assert.All(batch.Entries, e => Assert.Equal(MerkleHash.LeafHash(e.Leaf), e.LeafHash));

        // Leaves 5..15 complete level-1 nodes 2..7, level-2 nodes 1..3, level-3 nodes 0..1 and the level-4 root.
        Assert.Equal(
            new[] { (1, 2L), (1, 3L), (2, 1L), (1, 4L), (1, 5L), (1, 6L), (2, 2L), (1, 7L), (2, 3L), (3, 0L), (3, 1L), (4, 0L) }
                .OrderBy(n => n),
            batch.Nodes.Select(n => (n.Level, n.Index)).OrderBy(n => n));
        Assert.Equal(await NaiveRootAsync(store.Inner), batch.Nodes.Single(n => n.Level == 4).Hash);
    }

    [Fact]
    public async Task AnEmptyBatchWritesNothing()
    {
        var store = new InMemoryMerkleNodeStore();
        using var log = new MerkleLog(store);

        Assert.Empty(await log.AppendAsync([]));
        Assert.Equal(0, store.AppendBatches);
    }

    [Fact]
    public async Task ANewLogOverAnExistingStoreContinuesTheSameTree()
    {
        var store = new InMemoryMerkleNodeStore();
        using (var first = new MerkleLog(store))
        {
            await first.AppendAsync(Leaves(0, 13));
        }

        using var second = new MerkleLog(store);
        Assert.Equal([13L, 14L, 15L], await second.AppendAsync(Leaves(13, 3)));

        Assert.Equal(await NaiveRootAsync(store), await second.RootAsync(16));
    }

    [Fact]
    public async Task AFailedStoreWriteLeavesNoTraceAndTheNextAppendSucceeds()
    {
        var inner = new InMemoryMerkleNodeStore();
        var store = new RecordingStore(inner);
        using var log = new MerkleLog(store);
        await log.AppendAsync(Leaves(0, 6));

        store.FailNextAppend = true;
        await Assert.ThrowsAsync<IOException>(() => log.AppendAsync(Leaves(6, 4)));
        Assert.Equal(6, await log.GetSizeAsync());

        Assert.Equal([6L, 7L], await log.AppendAsync(Leaves(6, 2)));
        Assert.Equal(await NaiveRootAsync(inner), await log.RootAsync(8));
    }

    [Fact]
    public async Task AStaleWriterIsRefusedByTheStoreAndRecoversOnRetry()
    {
        var store = new InMemoryMerkleNodeStore();
        using var stale = new MerkleLog(store);
        using var other = new MerkleLog(store);
        await stale.AppendAsync(Leaves(0, 3));
        await other.AppendAsync(Leaves(3, 2));

        await Assert.ThrowsAsync<MerkleLogConflictException>(() => stale.AppendAsync(Leaves(5, 1)));

        Assert.Equal([5L], await stale.AppendAsync(Leaves(5, 1)));
        Assert.Equal(await NaiveRootAsync(store), await stale.RootAsync(6));
    }

    [Fact]
    public async Task ConcurrentAppendsThroughOneLogAreSerialisedWithoutGapsOrOverlaps()
    {
        var store = new InMemoryMerkleNodeStore();
        using var log = new MerkleLog(store);

        var results = await Task.WhenAll(Enumerable.Range(0, 40).Select(t => Task.Run(() => log.AppendAsync(Leaves(t * 10, 7)))));

        Assert.Equal(Enumerable.Range(0, 280).Select(i => (long)i), results.SelectMany(r => r).Order());
        Assert.All(results, r => Assert.Equal(Enumerable.Range((int)r[0], 7).Select(i => (long)i), r));
        Assert.Equal(await NaiveRootAsync(store), await log.RootAsync(280));
    }

    [Fact]
    public async Task SizesBeyondTheLogOrOutsideTheProofRulesAreRejected()
    {
        using var log = new MerkleLog(new InMemoryMerkleNodeStore());
        await log.AppendAsync(Leaves(0, 4));

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => log.RootAsync(5));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => log.RootAsync(-1));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => log.InclusionProofAsync(4, 4));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => log.InclusionProofAsync(0, 5));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => log.ConsistencyProofAsync(0, 4));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => log.ConsistencyProofAsync(3, 2));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => log.ConsistencyProofAsync(2, 5));
        Assert.Equal(MerkleHash.EmptyRoot.ToArray(), await log.RootAsync(0));
        Assert.Empty(await log.ConsistencyProofAsync(4, 4));
    }

    [Fact]
    public async Task AStoreMissingANodeFailsLoudly()
    {
        var inner = new InMemoryMerkleNodeStore();
        using (var writer = new MerkleLog(inner))
        {
            await writer.AppendAsync(Leaves(0, 8));
        }

        using var log = new MerkleLog(new RecordingStore(inner) { HideNode = new MerkleNodeId(3, 0) });

        await Assert.ThrowsAsync<KeyNotFoundException>(() => log.RootAsync(8));
    }

    [Fact]
    public async Task TheInMemoryStoreRefusesGapsAndOverwritesWithoutChangingAnything()
    {
        var store = new InMemoryMerkleNodeStore();
        var hash = new byte[MerkleHash.Size];
        var entry = new MerkleLogEntry(0, [1], hash);

        await Assert.ThrowsAsync<MerkleLogConflictException>(() => store.AppendAsync(new MerkleAppendBatch(1, [entry with { Index = 1 }], [])));
        await Assert.ThrowsAsync<InvalidOperationException>(() => store.AppendAsync(new MerkleAppendBatch(0, [entry], [new MerkleNode(1, 0, hash)])));
        await store.AppendAsync(new MerkleAppendBatch(0, [entry], []));
        await Assert.ThrowsAsync<MerkleLogConflictException>(() => store.AppendAsync(new MerkleAppendBatch(0, [entry], [])));

        Assert.Equal(1, await store.GetSizeAsync());
        Assert.Equal(1, store.AppendBatches);
    }

    // Wraps a store to record batches, fail a write, or hide a node.
    private sealed class RecordingStore(InMemoryMerkleNodeStore inner) : IMerkleNodeStore
    {
        public InMemoryMerkleNodeStore Inner => inner;

        public List<MerkleAppendBatch> Batches { get; } = [];

        public bool FailNextAppend { get; set; }

        public MerkleNodeId? HideNode { get; init; }

        public Task<long> GetSizeAsync(CancellationToken cancellationToken = default) => inner.GetSizeAsync(cancellationToken);

        public Task<IReadOnlyList<byte[]>> ReadHashesAsync(IReadOnlyList<MerkleNodeId> nodes, CancellationToken cancellationToken = default) =>
            HideNode is { } hidden && nodes.Contains(hidden)
                ? Task.FromException<IReadOnlyList<byte[]>>(new KeyNotFoundException($"{hidden}"))
                : inner.ReadHashesAsync(nodes, cancellationToken);

        public Task<IReadOnlyList<MerkleLogEntry>> ReadEntriesAsync(long startIndex, long endIndex, CancellationToken cancellationToken = default) =>
            inner.ReadEntriesAsync(startIndex, endIndex, cancellationToken);

        public Task AppendAsync(MerkleAppendBatch batch, CancellationToken cancellationToken = default)
        {
            if (FailNextAppend)
            {
                FailNextAppend = false;
                return Task.FromException(new IOException("disk full"));
            }

            Batches.Add(batch);
            return inner.AppendAsync(batch, cancellationToken);
        }
    }
}
