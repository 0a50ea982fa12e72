using Exchange.Audit.Merkle;

namespace Exchange.Audit.Tests.Merkle;

public class MerkleProofVerifierTests
{
    private static readonly byte[][] Leaves = Enumerable.Range(0, 7)
        .Select(i => MerkleHash.LeafHash([(byte)i]))
        .ToArray();

    private static readonly byte[] Root = MerkleTree.RootHash(Leaves);

    [Theory]
    [InlineData(7, 7)]
    [InlineData(8, 7)]
    [InlineData(-1, 7)]
    [InlineData(0, 0)]
    [InlineData(long.MaxValue, 7)]
    public void InclusionWithIndexOutsideTheTreeFails(long index, long size)
    {
        var result = MerkleProofVerifier.VerifyInclusion(index, size, Leaves[0], MerkleTree.InclusionProof(Leaves, 0), Root);

        Assert.Equal(ProofFailure.IndexOutOfRange, result.Failure);
    }

    [Fact]
    public void InclusionWithShortLeafHashOrRootFails()
    {
        var proof = MerkleTree.InclusionProof(Leaves, 3);

        Assert.Equal(ProofFailure.WrongHashLength, MerkleProofVerifier.VerifyInclusion(3, 7, Leaves[3][..31], proof, Root).Failure);
        Assert.Equal(ProofFailure.WrongHashLength, MerkleProofVerifier.VerifyInclusion(3, 7, Leaves[3], proof, Root[..31]).Failure);
        Assert.Equal(ProofFailure.WrongHashLength, MerkleProofVerifier.VerifyInclusion(3, 7, Leaves[3], [.. proof.SkipLast(1), null!], Root).Failure);
    }

    [Fact]
    public void InclusionProofWithAnExtraOrMissingHashFails()
    {
        var proof = MerkleTree.InclusionProof(Leaves, 3);

        Assert.Equal(ProofFailure.WrongProofLength, MerkleProofVerifier.VerifyInclusion(3, 7, Leaves[3], [.. proof, Root], Root).Failure);
        Assert.Equal(ProofFailure.WrongProofLength, MerkleProofVerifier.VerifyInclusion(3, 7, Leaves[3], [.. proof.SkipLast(1)], Root).Failure);
    }

    [Theory]
    [InlineData(0, 7)]
    [InlineData(-1, 7)]
    [InlineData(5, 4)]
    [InlineData(0, 0)]
    public void ConsistencyFromAnEmptyOrLargerTreeFails(long size1, long size2)
    {
        var result = MerkleProofVerifier.VerifyConsistency(size1, size2, [], Root, Root);

        Assert.Equal(ProofFailure.InvalidSizes, result.Failure);
    }

    [Fact]
    public void ConsistencyProofWithAnExtraOrMissingHashFails()
    {
        var root1 = MerkleTree.RootHash(Leaves[..3]);
        var proof = MerkleTree.ConsistencyProof(Leaves, 3);

        Assert.True(MerkleProofVerifier.VerifyConsistency(3, 7, proof, root1, Root).IsValid);
        Assert.Equal(ProofFailure.WrongProofLength, MerkleProofVerifier.VerifyConsistency(3, 7, [.. proof, Root], root1, Root).Failure);
        Assert.Equal(ProofFailure.WrongProofLength, MerkleProofVerifier.VerifyConsistency(3, 7, [.. proof.SkipLast(1)], root1, Root).Failure);
        Assert.Equal(ProofFailure.WrongProofLength, MerkleProofVerifier.VerifyConsistency(3, 7, [], root1, Root).Failure);
        Assert.Equal(ProofFailure.WrongProofLength, MerkleProofVerifier.VerifyConsistency(7, 7, [Root], Root, Root).Failure);
    }

    [Fact]
    public void ConsistencyWithSwappedRootsFails()
    {
        var root1 = MerkleTree.RootHash(Leaves[..4]);
        var proof = MerkleTree.ConsistencyProof(Leaves, 4);

        Assert.Equal(ProofFailure.RootMismatch, MerkleProofVerifier.VerifyConsistency(4, 7, proof, Root, root1).Failure);
    }

    [Fact]
    public void NullArgumentsThrow()
    {
        Assert.Throws<ArgumentNullException>(() => MerkleProofVerifier.VerifyInclusion(0, 1, null!, [], Root));
        Assert.Throws<ArgumentNullException>(() => MerkleProofVerifier.VerifyInclusion(0, 1, Root, null!, Root));
        Assert.Throws<ArgumentNullException>(() => MerkleProofVerifier.VerifyConsistency(1, 1, [], null!, Root));
        Assert.Throws<ArgumentNullException>(() => MerkleTree.RootHash(null!));
    }

    [Fact]
    public void ProofGenerationRejectsPositionsOutsideTheTree()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => MerkleTree.InclusionProof(Leaves, 7));
        Assert.Throws<ArgumentOutOfRangeException>(() => MerkleTree.InclusionProof(Leaves, -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => MerkleTree.ConsistencyProof(Leaves, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => MerkleTree.ConsistencyProof(Leaves, 8));
        Assert.Throws<ArgumentException>(() => MerkleTree.RootHash([Leaves[0], new byte[31]]));
    }
}
