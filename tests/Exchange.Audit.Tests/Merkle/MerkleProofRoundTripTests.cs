using System.Text;
using Exchange.Audit.Merkle;

namespace Exchange.Audit.Tests.Merkle;

public class MerkleProofRoundTripTests
{
    private const int MaxSize = 40;

    private static readonly byte[][] Leaves = Enumerable.Range(0, MaxSize)
        .Select(i => MerkleHash.LeafHash(Encoding.UTF8.GetBytes($"leaf-{i}")))
        .ToArray();

    public static TheoryData<int> Sizes() => new(Enumerable.Range(1, MaxSize));

    [Theory]
    [MemberData(nameof(Sizes))]
    public void GeneratedInclusionProofVerifiesAgainstRootHash(int size)
    {
        var leaves = Leaves[..size];
        var root = MerkleTree.RootHash(leaves);

        for (var index = 0; index < size; index++)
        {
            var proof = MerkleTree.InclusionProof(leaves, index);

            var result = MerkleProofVerifier.VerifyInclusion(index, size, leaves[index], proof, root);

            Assert.True(result.IsValid, $"size {size}, index {index}: {result.Detail}");
        }
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public void InclusionProofWithOneFlippedBitFails(int size)
    {
        var leaves = Leaves[..size];
        var root = MerkleTree.RootHash(leaves);

        for (var index = 0; index < size; index++)
        {
            var proof = MerkleTree.InclusionProof(leaves, index);
            for (var i = 0; i < proof.Count; i++)
            {
                var result = MerkleProofVerifier.VerifyInclusion(index, size, leaves[index], FlipBit(proof, i), root);

                Assert.Equal(ProofFailure.RootMismatch, result.Failure);
            }

            var flippedLeaf = FlipBit([leaves[index]], 0)[0];
            Assert.False(MerkleProofVerifier.VerifyInclusion(index, size, flippedLeaf, proof, root).IsValid);
        }
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public void GeneratedConsistencyProofVerifiesAgainstBothRootHashes(int size)
    {
        var root2 = MerkleTree.RootHash(Leaves[..size]);

        for (var oldSize = 1; oldSize <= size; oldSize++)
        {
            var root1 = MerkleTree.RootHash(Leaves[..oldSize]);
            var proof = MerkleTree.ConsistencyProof(Leaves[..size], oldSize);

            var result = MerkleProofVerifier.VerifyConsistency(oldSize, size, proof, root1, root2);

            Assert.True(result.IsValid, $"{oldSize} -> {size}: {result.Detail}");
        }
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public void ConsistencyProofWithOneFlippedBitFails(int size)
    {
        var root2 = MerkleTree.RootHash(Leaves[..size]);

        for (var oldSize = 1; oldSize < size; oldSize++)
        {
            var root1 = MerkleTree.RootHash(Leaves[..oldSize]);
            var proof = MerkleTree.ConsistencyProof(Leaves[..size], oldSize);
            Assert.NotEmpty(proof);

            for (var i = 0; i < proof.Count; i++)
            {
                var result = MerkleProofVerifier.VerifyConsistency(oldSize, size, FlipBit(proof, i), root1, root2);

                Assert.Equal(ProofFailure.RootMismatch, result.Failure);
            }
        }
    }

    private static byte[][] FlipBit(IReadOnlyList<byte[]> proof, int element)
    {
        var copy = proof.Select(h => (byte[])h.Clone()).ToArray();
        copy[element][element % MerkleHash.Size] ^= 0x10;
        return copy;
    }
}
