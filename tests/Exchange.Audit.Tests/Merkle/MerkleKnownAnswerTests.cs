using System.Security.Cryptography;
using Exchange.Audit.Merkle;

namespace Exchange.Audit.Tests.Merkle;

public class MerkleKnownAnswerTests
{
    // The RFC 6962 test tree used by transparency-dev/merkle (proof/verify_test.go) with its root
    // after each prefix of leaves; these were also recomputed independently with Python hashlib.
    private static readonly string[] TestTreeLeaves =
    [
        "", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f",
    ];

    public static TheoryData<int, string> TestTreeRoots() => new()
    {
        { 1, "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d" },
        { 2, "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125" },
        { 3, "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77" },
        { 4, "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7" },
        { 5, "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4" },
        { 6, "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef" },
        { 7, "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c" },
        { 8, "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328" },
    };

    [Fact]
    public void EmptyTreeRootIsSha256OfTheEmptyString()
    {
        const string expected = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

        Assert.Equal(expected, Convert.ToHexStringLower(MerkleTree.RootHash([])));
        Assert.Equal(expected, Convert.ToHexStringLower(MerkleHash.EmptyRoot));
        Assert.Equal(SHA256.HashData([]), MerkleHash.EmptyRoot.ToArray());
    }

    [Fact]
    public void LeafHashIsSha256OfZeroByteThenLeaf()
    {
        Assert.Equal(SHA256.HashData([0x00, 0x61, 0x62]), MerkleHash.LeafHash("ab"u8));

        var large = new byte[10_000]; // beyond the stack buffer, so the streaming path is taken
        large[^1] = 7;
        Assert.Equal(SHA256.HashData([0x00, .. large]), MerkleHash.LeafHash(large));
    }

    [Fact]
    public void NodeHashIsSha256OfOneByteThenLeftThenRight()
    {
        var left = SHA256.HashData("l"u8);
        var right = SHA256.HashData("r"u8);

        Assert.Equal(SHA256.HashData([0x01, .. left, .. right]), MerkleHash.NodeHash(left, right));
    }

    [Theory]
    [MemberData(nameof(TestTreeRoots))]
    public void RootOfRfc6962TestTreeMatchesTransparencyDevReference(int size, string expectedRoot)
    {
        var leafHashes = TestTreeLeaves.Take(size).Select(h => MerkleHash.LeafHash(Convert.FromHexString(h))).ToArray();

        Assert.Equal(expectedRoot, Convert.ToHexStringLower(MerkleTree.RootHash(leafHashes)));
    }
}
