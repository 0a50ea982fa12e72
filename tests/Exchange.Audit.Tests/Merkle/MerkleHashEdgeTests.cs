using System.Security.Cryptography;
using Exchange.Audit.Merkle;

namespace Exchange.Audit.Tests.Merkle;

/// <summary>
/// The hashing at the edge between its stack and streaming paths, the buffers it writes into, and the
/// arguments and results around the proofs.
/// </summary>
public class MerkleHashEdgeTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(510)]
    [InlineData(511)]
    [InlineData(512)]
    [InlineData(513)]
    public void LeafHashIsSha256OfZeroByteThenLeafAroundTheStackBufferSize(int length)
    {
        var leaf = RandomNumberGenerator.GetBytes(length);
        var expected = SHA256.HashData([0x00, .. leaf]);

        Assert.Equal(expected, MerkleHash.LeafHash(leaf));
        var destination = new byte[MerkleHash.Size + 3];
        MerkleHash.LeafHash(leaf, destination);
        Assert.Equal(expected, destination[..MerkleHash.Size]);
        Assert.Equal(new byte[3], destination[MerkleHash.Size..]);
    }

    [Fact]
    public void HashesAreWrittenIntoADestinationOfAtLeastThirtyTwoBytes()
    {
        var hash = SHA256.HashData("x"u8);

        Assert.Throws<ArgumentOutOfRangeException>(() => MerkleHash.LeafHash("x"u8, new byte[MerkleHash.Size - 1]));
        Assert.Throws<ArgumentOutOfRangeException>(() => MerkleHash.NodeHash(hash, hash, new byte[MerkleHash.Size - 1]));
        Assert.Throws<ArgumentOutOfRangeException>(() => MerkleHash.NodeHash(hash[..31], hash));
        Assert.Throws<ArgumentOutOfRangeException>(() => MerkleHash.NodeHash(hash, [.. hash, 0]));
    }

    [Fact]
    public void ANodeHashMayBeWrittenOverEitherOfItsInputs()
    {
        var left = SHA256.HashData("l"u8);
        var right = SHA256.HashData("r"u8);
        var expected = SHA256.HashData([0x01, .. left, .. right]);

        var overLeft = (byte[])left.Clone();
        MerkleHash.NodeHash(overLeft, right, overLeft);
        var overRight = (byte[])right.Clone();
        MerkleHash.NodeHash(left, overRight, overRight);

        Assert.Equal(expected, overLeft);
        Assert.Equal(expected, overRight);
    }

    [Fact]
    public void ALeafHashThatIsNullOrNotThirtyTwoBytesIsRefusedByPosition()
    {
        var good = MerkleHash.LeafHash([1]);

        var ex = Assert.Throws<ArgumentException>(() => MerkleTree.RootHash([good, good, null!]));

        Assert.Contains("index 2", ex.Message, StringComparison.Ordinal);
        Assert.Contains("index 1", Assert.Throws<ArgumentException>(() => MerkleTree.InclusionProof([good, [.. good, 0]], 0)).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => MerkleTree.ConsistencyProof([good, good[..31]], 1));
    }

    [Fact]
    public void AFailedResultNeedsAReasonAndAValidOneHasNone()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => ProofVerificationResult.Fail(ProofFailure.None, "no reason"));

        Assert.True(ProofVerificationResult.Valid.IsValid);
        Assert.Equal("The proof verified.", ProofVerificationResult.Valid.Detail);
        Assert.Equal(ProofFailure.None, ProofVerificationResult.Valid.Failure);
        var failed = ProofVerificationResult.Fail(ProofFailure.RootMismatch, "why");
        Assert.False(failed.IsValid);
        Assert.Equal("why", failed.Detail);
    }

    [Fact]
    public void AConsistencyProofWithAHashOfTheWrongLengthFails()
    {
        var leaves = Enumerable.Range(0, 6).Select(i => MerkleHash.LeafHash([(byte)i])).ToArray();
        var root1 = MerkleTree.RootHash(leaves[..3]);
        var root2 = MerkleTree.RootHash(leaves);
        var proof = MerkleTree.ConsistencyProof(leaves, 3);

        Assert.True(MerkleProofVerifier.VerifyConsistency(3, 6, proof, root1, root2).IsValid);
        Assert.Equal(ProofFailure.WrongHashLength, MerkleProofVerifier.VerifyConsistency(3, 6, [.. proof.SkipLast(1), proof[^1][..31]], root1, root2).Failure);
        Assert.Equal(ProofFailure.WrongHashLength, MerkleProofVerifier.VerifyConsistency(3, 6, [.. proof.SkipLast(1), null!], root1, root2).Failure);
        Assert.Equal(ProofFailure.WrongHashLength, MerkleProofVerifier.VerifyConsistency(3, 6, proof, root1[..31], root2).Failure);
        Assert.Equal(ProofFailure.WrongHashLength, MerkleProofVerifier.VerifyConsistency(3, 6, proof, root1, [.. root2, 0]).Failure);
        Assert.Throws<ArgumentNullException>(() => MerkleProofVerifier.VerifyConsistency(3, 6, null!, root1, root2));
        Assert.Throws<ArgumentNullException>(() => MerkleProofVerifier.VerifyConsistency(3, 6, proof, root1, null!));
        Assert.Throws<ArgumentNullException>(() => MerkleProofVerifier.VerifyInclusion(0, 6, leaves[0], MerkleTree.InclusionProof(leaves, 0), null!));
    }

    [Fact]
    public void EqualSizesAreConsistentExactlyWhenTheRootsAreEqual()
    {
        var root = MerkleHash.LeafHash([1]);

        Assert.True(MerkleProofVerifier.VerifyConsistency(1, 1, [], root, (byte[])root.Clone()).IsValid);
        Assert.Equal(ProofFailure.RootMismatch, MerkleProofVerifier.VerifyConsistency(1, 1, [], root, MerkleHash.LeafHash([2])).Failure);
    }

    [Fact]
    public void EachFailureSaysWhatWasWrongWithTheProof()
    {
        var leaves = Enumerable.Range(0, 6).Select(i => MerkleHash.LeafHash([(byte)i])).ToArray();
        var root = MerkleTree.RootHash(leaves);
        var root3 = MerkleTree.RootHash(leaves[..3]);
        var inclusion = MerkleTree.InclusionProof(leaves, 2);
        var consistency = MerkleTree.ConsistencyProof(leaves, 3);

        Assert.Equal("The leaf index is not below the tree size.", MerkleProofVerifier.VerifyInclusion(6, 6, leaves[0], inclusion, root).Detail);
        Assert.Equal("The proof leads to a different root.", MerkleProofVerifier.VerifyInclusion(2, 6, leaves[3], inclusion, root).Detail);
        Assert.Equal("Every hash must be 32 bytes.", MerkleProofVerifier.VerifyInclusion(2, 6, leaves[2][..31], inclusion, root).Detail);
        Assert.Equal("The proof has more hashes than the sizes allow.", MerkleProofVerifier.VerifyInclusion(2, 6, leaves[2], [.. inclusion, root], root).Detail);
        Assert.Equal("The proof has fewer hashes than the sizes need.", MerkleProofVerifier.VerifyInclusion(2, 6, leaves[2], [.. inclusion.SkipLast(1)], root).Detail);
        Assert.Equal("Consistency needs 0 < size1 <= size2.", MerkleProofVerifier.VerifyConsistency(0, 6, consistency, root3, root).Detail);
        Assert.Equal("Equal sizes but different roots.", MerkleProofVerifier.VerifyConsistency(6, 6, [], root3, root).Detail);
        Assert.Equal("The proof leads to a different older root.", MerkleProofVerifier.VerifyConsistency(3, 6, consistency, root, root).Detail);
        Assert.Equal("The proof leads to a different newer root.", MerkleProofVerifier.VerifyConsistency(3, 6, consistency, root3, root3).Detail);
    }
}
