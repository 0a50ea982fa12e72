using System.Text;
using Exchange.Audit.Merkle;
using Exchange.Audit.Storage;

namespace Exchange.Audit.Tests.Storage;

/// <summary>
/// The stored-subtree log must agree byte for byte with the naive RFC 6962 computation of
/// <see cref="MerkleTree"/> at every size, however the leaves were batched.
/// </summary>
public class MerkleLogPropertyTests
{
    public static TheoryData<int> Sizes()
    {
        var sizes = new SortedSet<int>(Enumerable.Range(1, 70));
        for (var power = 7; power <= 11; power++)
        {
            sizes.UnionWith([(1 << power) - 1, 1 << power, (1 << power) + 1]);
        }

        var random = new Random(6962);
        while (sizes.Count < 70 + 15 + 40)
        {
            sizes.Add(random.Next(71, 3001));
        }

        return new TheoryData<int>(sizes);
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public async Task RootAtEveryBatchBoundaryAndEarlierSizeEqualsNaiveRoot(int size)
    {
        var random = new Random(size);
        var (log, _, leafHashes, batchEnds) = await BuildAsync(size, random);

        foreach (var end in batchEnds)
        {
            Assert.Equal(MerkleTree.RootHash(leafHashes[..end]), await log.RootAsync(end));
        }

        foreach (var treeSize in SampleSizes(size, random, includeZero: true))
        {
            Assert.Equal(MerkleTree.RootHash(leafHashes[..(int)treeSize]), await log.RootAsync(treeSize));
        }
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public async Task InclusionProofEqualsNaiveProofAndVerifies(int size)
    {
        var random = new Random(size + 1);
        var (log, _, leafHashes, _) = await BuildAsync(size, random);

        foreach (var treeSize in new long[] { size }.Concat(SampleSizes(size, random, includeZero: false).Take(3)))
        {
            var prefix = leafHashes[..(int)treeSize];
            var root = await log.RootAsync(treeSize);
            var indexes = treeSize <= 70
                ? Enumerable.Range(0, (int)treeSize)
                : new[] { 0, (int)treeSize - 1 }.Concat(Enumerable.Range(0, 10).Select(_ => random.Next((int)treeSize)));

            foreach (var index in indexes)
            {
                var proof = await log.InclusionProofAsync(index, treeSize);

                Assert.Equal(MerkleTree.InclusionProof(prefix, index), proof);
                var result = MerkleProofVerifier.VerifyInclusion(index, treeSize, prefix[index], proof, root);
                Assert.True(result.IsValid, $"size {treeSize}, index {index}: {result.Detail}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public async Task ConsistencyProofEqualsNaiveProofAndVerifies(int size)
    {
        var random = new Random(size + 2);
        var (log, _, leafHashes, _) = await BuildAsync(size, random);

        var pairs = new List<(long Old, long New)> { (1, size), (size, size), (Math.Max(1, size - 1), size) };
        if (size <= 70)
        {
            pairs.AddRange(Enumerable.Range(1, size).Select(old => ((long)old, (long)size)));
        }

        for (var i = 0; i < 12; i++)
        {
            var newSize = random.Next(1, size + 1);
            pairs.Add((random.Next(1, newSize + 1), newSize));
        }

        foreach (var (oldSize, newSize) in pairs)
        {
            var prefix = leafHashes[..(int)newSize];
            var proof = await log.ConsistencyProofAsync(oldSize, newSize);

            Assert.Equal(MerkleTree.ConsistencyProof(prefix, oldSize), proof);
            var result = MerkleProofVerifier.VerifyConsistency(
                oldSize, newSize, proof, await log.RootAsync(oldSize), await log.RootAsync(newSize));
            Assert.True(result.IsValid, $"{oldSize} -> {newSize}: {result.Detail}");
        }
    }

    internal static byte[] Leaf(long index) => Encoding.UTF8.GetBytes($$"""{"action":"read","seq":{{index}}}""");

    // Appends `size` leaves in batches of random sizes (single leaves, small and large runs mixed).
    private static async Task<(MerkleLog Log, InMemoryMerkleNodeStore Store, byte[][] LeafHashes, List<int> BatchEnds)>
        BuildAsync(int size, Random random)
    {
        var store = new InMemoryMerkleNodeStore();
        var log = new MerkleLog(store);
        var leafHashes = new byte[size][];
        var batchEnds = new List<int>();
        var appended = 0;
        while (appended < size)
        {
            var limit = new[] { 1, 3, 17, 100, 700 }[random.Next(5)];
            var count = random.Next(1, Math.Min(limit, size - appended) + 1);
            var leaves = Enumerable.Range(appended, count).Select(i => Leaf(i)).ToArray();

            var indexes = await log.AppendAsync(leaves);

            Assert.Equal(Enumerable.Range(appended, count).Select(i => (long)i), indexes);
            foreach (var i in indexes)
            {
                leafHashes[i] = MerkleHash.LeafHash(leaves[i - appended]);
            }

            appended += count;
            batchEnds.Add(appended);
        }

        Assert.Equal(batchEnds.Count, store.AppendBatches);
        return (log, store, leafHashes, batchEnds);
    }

    private static IEnumerable<long> SampleSizes(int size, Random random, bool includeZero)
    {
        var first = includeZero ? 0 : 1;
        return size <= 70
            ? Enumerable.Range(first, size - first + 1).Select(s => (long)s)
            : Enumerable.Range(0, 8).Select(_ => (long)random.Next(first, size + 1));
    }
}
