using Exchange.Audit.Merkle;
using Exchange.Audit.Storage;

namespace Exchange.Audit.Tests.Storage;

/// <summary>
/// What the log does with its store's answers: a store that answers a read with too few hashes, none, or a
/// hash of the wrong length makes the read fail loudly instead of yielding a wrong root or proof; and the
/// round trips a read costs on a small log (one batch of the distinct subtrees, no size query for a size the
/// log has already seen).
/// </summary>
public class MerkleLogStoreAnswerTests
{
    private static byte[][] Leaves(int first, int count) =>
        Enumerable.Range(first, count).Select(i => MerkleLogPropertyTests.Leaf(i)).ToArray();

    public static TheoryData<string> Faults() => new(["null", "one short", "one more", "short hash", "null hash"]);

    [Theory]
    [MemberData(nameof(Faults))]
    public async Task AStoreAnsweringAReadWithTheWrongHashesFailsTheReadLoudly(string fault)
    {
        var inner = new InMemoryMerkleNodeStore();
        using (var writer = new MerkleLog(inner))
        {
            await writer.AppendAsync(Leaves(0, 7));
        }

        var store = new AnsweringStore(inner) { Fault = fault };
        using var log = new MerkleLog(store);

        var root = await Assert.ThrowsAsync<InvalidOperationException>(() => log.RootAsync(7));
        await Assert.ThrowsAsync<InvalidOperationException>(() => log.InclusionProofAsync(2, 7));
        await Assert.ThrowsAsync<InvalidOperationException>(() => log.AppendAsync(Leaves(7, 1)));

        Assert.Contains(fault is "short hash" or "null hash" ? "malformed hash for node" : "hashes for 3 requested nodes", root.Message, StringComparison.Ordinal);
        Assert.Equal(7, await inner.GetSizeAsync()); // nothing was appended on a wrong right edge
    }

    [Fact]
    public async Task AMalformedHashIsNamedByItsNode()
    {
        var inner = new InMemoryMerkleNodeStore();
        using (var writer = new MerkleLog(inner))
        {
            await writer.AppendAsync(Leaves(0, 7));
        }

        using var log = new MerkleLog(new AnsweringStore(inner) { Fault = "short hash" });

        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => log.RootAsync(7));

        // The root of 7 leaves is read as the subtrees (2, 0), (1, 2) and (0, 6); the last is spoiled.
        Assert.Contains("(level 0, index 6)", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ASizeTheLogHasSeenNeedsNoSizeQueryAndALargerOneIsAskedFor()
    {
        var inner = new InMemoryMerkleNodeStore();
        var store = new AnsweringStore(inner);
        using var log = new MerkleLog(store);
        await log.AppendAsync(Leaves(0, 5));
        store.SizeQueries = 0;

        await log.RootAsync(5);
        await log.RootAsync(3);
        await log.InclusionProofAsync(1, 5);
        await log.ConsistencyProofAsync(2, 5);
        Assert.Equal(0, store.SizeQueries);

        using (var other = new MerkleLog(inner))
        {
            await other.AppendAsync(Leaves(5, 2));
        }

        Assert.Equal(MerkleTree.RootHash(Leaves(0, 7).Select(l => MerkleHash.LeafHash(l)).ToArray()), await log.RootAsync(7));
        Assert.Equal(1, store.SizeQueries);
        await log.RootAsync(6);
        await log.RootAsync(7);
        Assert.Equal(1, store.SizeQueries); // the size it learned is remembered
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => log.RootAsync(8));
        Assert.Equal(2, store.SizeQueries);
    }

    [Fact]
    public async Task AProofIsOneReadOfItsDistinctSubtrees()
    {
        var inner = new InMemoryMerkleNodeStore();
        using var log = new MerkleLog(inner);
        await log.AppendAsync(Leaves(0, 7));
        inner.ResetCounters();

        var inclusion = await log.InclusionProofAsync(0, 7);

        // Siblings of leaf 0 in a tree of 7: leaf 1, node (1, 1), and the subtree of leaves 4..6 read as (1, 2) and (0, 6).
        Assert.Equal(3, inclusion.Count);
        Assert.Equal(1, inner.ReadBatches);
        Assert.Equal(4, inner.HashesRead);

        inner.ResetCounters();
        var consistency = await log.ConsistencyProofAsync(3, 7);

        // PROOF(3, 7): leaf 2, leaf 3, node (1, 0), and leaves 4..6 as (1, 2) and (0, 6).
        Assert.Equal(4, consistency.Count);
        Assert.Equal(1, inner.ReadBatches);
        Assert.Equal(5, inner.HashesRead);
        Assert.Equal(0, inner.AppendBatches);
    }

    [Fact]
    public async Task AnEmptyRangeOfWorkReadsNothing()
    {
        var inner = new InMemoryMerkleNodeStore();
        using var log = new MerkleLog(inner);
        await log.AppendAsync(Leaves(0, 1));
        inner.ResetCounters();

        Assert.Empty(await log.InclusionProofAsync(0, 1));
        Assert.Empty(await log.ConsistencyProofAsync(1, 1));
        Assert.Equal(MerkleHash.EmptyRoot.ToArray(), await log.RootAsync(0));

        Assert.Equal(0, inner.ReadBatches);
    }

    [Fact]
    public async Task ANullLeafIsRefusedByPositionAndNothingIsAppended()
    {
        var store = new InMemoryMerkleNodeStore();
        using var log = new MerkleLog(store);

        var ex = await Assert.ThrowsAsync<ArgumentException>(() => log.AppendAsync([[1], null!]));

        Assert.Contains("position 1", ex.Message, StringComparison.Ordinal);
        Assert.Equal(0, await store.GetSizeAsync());
        await Assert.ThrowsAsync<ArgumentNullException>(() => log.AppendAsync(null!));
        Assert.Throws<ArgumentNullException>(() => new MerkleLog(null!));
    }

    [Fact]
    public async Task TheFirstAppendToAnEmptyStoreReadsNothing()
    {
        var inner = new InMemoryMerkleNodeStore();
        using var log = new MerkleLog(inner);

        await log.AppendAsync(Leaves(0, 3));

        Assert.Equal(0, inner.ReadBatches);
        Assert.Equal(1, inner.AppendBatches);
    }

    [Fact]
    public async Task ANegativeIndexHasNoInclusionProof()
    {
        using var log = new MerkleLog(new InMemoryMerkleNodeStore());
        await log.AppendAsync(Leaves(0, 4));

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => log.InclusionProofAsync(-1, 4));
    }

    [Fact]
    public void ANodeCoversItsLevelsPowerOfTwoLeavesFromItsIndexTimesThat()
    {
        var node = new MerkleNodeId(3, 2);

        Assert.Equal(16, node.FirstLeaf);
        Assert.Equal(8, node.LeafCount);
        Assert.Equal(1, new MerkleNodeId(0, 5).LeafCount);
    }

    /// <summary>Passes calls to a real store, counting size queries, and spoils the answers to hash reads as told.</summary>
    private sealed class AnsweringStore(InMemoryMerkleNodeStore inner) : IMerkleNodeStore
    {
        public string? Fault { get; init; }

        public int SizeQueries { get; set; }

        public Task<long> GetSizeAsync(CancellationToken cancellationToken = default)
        {
            SizeQueries++;
            return inner.GetSizeAsync(cancellationToken);
        }

        public async Task<IReadOnlyList<byte[]>> ReadHashesAsync(IReadOnlyList<MerkleNodeId> nodes, CancellationToken cancellationToken = default)
        {
            var hashes = await inner.ReadHashesAsync(nodes, cancellationToken);
            return Fault switch
            {
                "null" => null!,
                "one short" => hashes.SkipLast(1).ToArray(),
                "one more" => [.. hashes, hashes[0]],
                "short hash" => [.. hashes.SkipLast(1), hashes[^1][..31]],
                "null hash" => [.. hashes.SkipLast(1), null!],
                _ => hashes,
            };
        }

        public Task<IReadOnlyList<MerkleLogEntry>> ReadEntriesAsync(long startIndex, long endIndex, CancellationToken cancellationToken = default) =>
            inner.ReadEntriesAsync(startIndex, endIndex, cancellationToken);

        public Task AppendAsync(MerkleAppendBatch batch, CancellationToken cancellationToken = default) => inner.AppendAsync(batch, cancellationToken);
    }
}
