using Exchange.Audit.Merkle;
using Exchange.Audit.Storage;

namespace Exchange.Audit.Tests.Storage;

/// <summary>
/// The in-memory store the offline verifier and the tools use: it refuses a batch that would corrupt the tree
/// (whatever part of it is wrong) without keeping any of it, answers reads with copies, and counts what it is
/// asked for, which the read-cost tests rely on.
/// </summary>
public class InMemoryMerkleNodeStoreTests
{
    private static readonly byte[] Hash = MerkleHash.LeafHash([1]);

    private static MerkleLogEntry Entry(long index) => new(index, [(byte)index], MerkleHash.LeafHash([(byte)index]));

    public static TheoryData<string> MalformedBatches() => new(Batches.Keys);

    private static readonly Dictionary<string, Func<MerkleAppendBatch>> Batches = new()
    {
        ["entry index skips"] = () => new(2, [Entry(2), Entry(4)], []),
        ["entry index repeats"] = () => new(2, [Entry(2), Entry(2)], []),
        ["null entry"] = () => new(2, [Entry(2), null!], []),
        ["null leaf"] = () => new(2, [Entry(2) with { Leaf = null! }], []),
        ["null leaf hash"] = () => new(2, [Entry(2) with { LeafHash = null! }], []),
        ["short leaf hash"] = () => new(2, [Entry(2) with { LeafHash = Hash[..31] }], []),
        ["long leaf hash"] = () => new(2, [Entry(2) with { LeafHash = [.. Hash, 0] }], []),
        ["null node"] = () => new(2, [Entry(2), Entry(3)], [null!]),
        ["node at level 0"] = () => new(2, [Entry(2), Entry(3)], [new MerkleNode(0, 2, Hash)]),
        ["node above level 62"] = () => new(2, [Entry(2), Entry(3)], [new MerkleNode(63, 0, Hash)]),
        ["null node hash"] = () => new(2, [Entry(2), Entry(3)], [new MerkleNode(1, 1, null!)]),
        ["short node hash"] = () => new(2, [Entry(2), Entry(3)], [new MerkleNode(1, 1, Hash[..31])]),
        ["node overwrites"] = () => new(2, [Entry(2), Entry(3)], [new MerkleNode(1, 0, Hash)]),
        ["node skips"] = () => new(2, [Entry(2), Entry(3)], [new MerkleNode(1, 2, Hash)]),
        ["node twice in the batch"] = () => new(2, [Entry(2), Entry(3)], [new MerkleNode(1, 1, Hash), new MerkleNode(1, 1, Hash)]),
        ["node not complete"] = () => new(2, [Entry(2)], [new MerkleNode(1, 1, Hash)]),
        ["level skipped"] = () => new(2, [Entry(2), Entry(3)], [new MerkleNode(1, 1, Hash), new MerkleNode(3, 0, Hash)]),
    };

    [Theory]
    [MemberData(nameof(MalformedBatches))]
    public async Task AMalformedBatchIsRefusedAndLeavesNoTrace(string fault)
    {
        var store = await StoreOfTwoAsync();

        await Assert.ThrowsAsync<InvalidOperationException>(() => store.AppendAsync(Batches[fault]()));

        Assert.Equal(2, await store.GetSizeAsync());
        Assert.Equal(1, store.AppendBatches);
        await Assert.ThrowsAsync<KeyNotFoundException>(() => store.ReadHashesAsync([new MerkleNodeId(0, 2)]));
        await Assert.ThrowsAsync<KeyNotFoundException>(() => store.ReadHashesAsync([new MerkleNodeId(1, 1)]));
        // The right batch is still accepted afterwards.
        await store.AppendAsync(new MerkleAppendBatch(2, [Entry(2), Entry(3)], [new MerkleNode(1, 1, Hash), new MerkleNode(2, 0, Hash)]));
        Assert.Equal(4, await store.GetSizeAsync());
    }

    [Fact]
    public async Task NodesCompletedTogetherAreAcceptedLevelByLevelInOneBatch()
    {
        var store = new InMemoryMerkleNodeStore();
        var nodes = new[] { new MerkleNode(1, 0, Hash), new MerkleNode(1, 1, Hash), new MerkleNode(2, 0, Hash), new MerkleNode(1, 2, Hash) };

        await store.AppendAsync(new MerkleAppendBatch(0, [Entry(0), Entry(1), Entry(2), Entry(3), Entry(4), Entry(5)], nodes));

        Assert.Equal(6, await store.GetSizeAsync());
        Assert.Equal(4, (await store.ReadHashesAsync([.. nodes.Select(n => n.Id)])).Count);
    }

    [Fact]
    public async Task ReadsAreCountedPerHashAndPerCallUntilReset()
    {
        var store = await StoreOfTwoAsync();

        await store.ReadHashesAsync([new MerkleNodeId(0, 0), new MerkleNodeId(0, 1), new MerkleNodeId(1, 0)]);
        await store.ReadHashesAsync([new MerkleNodeId(0, 1)]);
        await Assert.ThrowsAsync<KeyNotFoundException>(() => store.ReadHashesAsync([new MerkleNodeId(0, 0), new MerkleNodeId(0, 2)]));

        Assert.Equal(4, store.HashesRead); // a failed read returns nothing and counts nothing
        Assert.Equal(2, store.ReadBatches);
        Assert.Equal(1, store.AppendBatches);

        store.ResetCounters();

        Assert.Equal(0, store.HashesRead);
        Assert.Equal(0, store.ReadBatches);
        Assert.Equal(0, store.AppendBatches);
    }

    [Theory]
    [InlineData(0, 2L)]
    [InlineData(1, 1L)]
    [InlineData(2, 0L)]
    [InlineData(-1, 0L)]
    [InlineData(0, -1L)]
    [InlineData(0, (long)int.MaxValue)]
    [InlineData(0, (long)int.MaxValue + 1)]
    public async Task ANodeNotStoredIsNotFound(int level, long index)
    {
        var store = await StoreOfTwoAsync();

        var ex = await Assert.ThrowsAsync<KeyNotFoundException>(() => store.ReadHashesAsync([new MerkleNodeId(level, index)]));

        Assert.Contains($"level {level}, index {index}", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StoredAndReturnedArraysAreCopies()
    {
        var store = new InMemoryMerkleNodeStore();
        var entry = Entry(0);
        var node = new MerkleNode(1, 0, (byte[])Hash.Clone());
        await store.AppendAsync(new MerkleAppendBatch(0, [entry, Entry(1)], [node]));
        var expectedLeafHash = (byte[])entry.LeafHash.Clone();

        entry.Leaf[0] ^= 1;
        entry.LeafHash[0] ^= 1;
        node.Hash[0] ^= 1;
        (await store.ReadHashesAsync([new MerkleNodeId(1, 0)]))[0][1] ^= 1;
        (await store.ReadEntriesAsync(0, 1))[0].Leaf[0] ^= 2;

        Assert.Equal(Hash, (await store.ReadHashesAsync([new MerkleNodeId(1, 0)]))[0]);
        Assert.Equal(expectedLeafHash, (await store.ReadHashesAsync([new MerkleNodeId(0, 0)]))[0]);
        var stored = Assert.Single(await store.ReadEntriesAsync(0, 1));
        Assert.Equal([0], stored.Leaf);
        Assert.Equal(expectedLeafHash, stored.LeafHash);
    }

    [Theory]
    [InlineData(0L, 4L, new long[] { 0, 1, 2, 3 })]
    [InlineData(1L, 3L, new long[] { 1, 2 })]
    [InlineData(3L, 10L, new long[] { 3 })]
    [InlineData(2L, 2L, new long[0])]
    [InlineData(3L, 1L, new long[0])]
    [InlineData(4L, 9L, new long[0])]
    [InlineData(7L, 9L, new long[0])]
    public async Task EntriesAreReadFromStartUpToEndOrTheSize(long start, long end, long[] expected)
    {
        var store = new InMemoryMerkleNodeStore();
        await store.AppendAsync(new MerkleAppendBatch(0, [Entry(0), Entry(1), Entry(2), Entry(3)], [new MerkleNode(1, 0, Hash), new MerkleNode(1, 1, Hash), new MerkleNode(2, 0, Hash)]));

        var entries = await store.ReadEntriesAsync(start, end);

        Assert.Equal(expected, entries.Select(e => e.Index));
        Assert.All(entries, e => Assert.Equal(Entry(e.Index).Leaf, e.Leaf));
        Assert.All(entries, e => Assert.Equal(Entry(e.Index).LeafHash, e.LeafHash));
    }

    [Fact]
    public async Task ArgumentsAndCancellationAreRefusedBeforeAnythingIsReadOrWritten()
    {
        var store = await StoreOfTwoAsync();
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAsync<ArgumentNullException>(() => store.AppendAsync(null!));
        await Assert.ThrowsAsync<ArgumentNullException>(() => store.ReadHashesAsync(null!));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => store.ReadEntriesAsync(-1, 1));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => store.GetSizeAsync(cancelled.Token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => store.ReadHashesAsync([new MerkleNodeId(0, 0)], cancelled.Token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => store.ReadEntriesAsync(0, 1, cancelled.Token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => store.AppendAsync(new MerkleAppendBatch(2, [Entry(2)], []), cancelled.Token));

        Assert.Equal(2, await store.GetSizeAsync());
        Assert.Equal(0, store.HashesRead);
        Assert.Equal(0, store.ReadBatches);
    }

    private static async Task<InMemoryMerkleNodeStore> StoreOfTwoAsync()
    {
        var store = new InMemoryMerkleNodeStore();
        await store.AppendAsync(new MerkleAppendBatch(0, [Entry(0), Entry(1)], [new MerkleNode(1, 0, Hash)]));
        return store;
    }
}
