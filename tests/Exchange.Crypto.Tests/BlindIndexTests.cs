using System.Security.Cryptography;

namespace Exchange.Crypto.Tests;

public class BlindIndexTests
{
    private static readonly byte[] Secret = RandomNumberGenerator.GetBytes(32);

    [Fact]
    public void SameTypeAndValueGiveTheSameDigest()
    {
        var first = new BlindIndex(Secret).Compute("nhs", "9434765919");
        var index = new BlindIndex((byte[])Secret.Clone());

        Assert.Equal(first, index.Compute("nhs", "9434765919"));
        Assert.Equal(first, index.Compute("nhs", "9434765919"));
    }

    [Fact]
    public void SameValueUnderDifferentTypesGivesDifferentDigests()
    {
        var index = new BlindIndex(Secret);

        Assert.NotEqual(index.Compute("nhs", "9434765919"), index.Compute("upn", "9434765919"));
    }

    [Fact]
    public void TypeAndValueThatJoinToTheSameMessageStillDifferBecauseKeysArePerType()
    {
        // "a" + ":" + "b:c" and "a:b" + ":" + "c" are the same HMAC message; only the per-type key separates them.
        var index = new BlindIndex(Secret);

        Assert.NotEqual(index.Compute("a", "b:c"), index.Compute("a:b", "c"));
    }

    [Fact]
    public void DifferentValuesGiveDifferentDigests()
    {
        var index = new BlindIndex(Secret);

        Assert.NotEqual(index.Compute("nhs", "9434765919"), index.Compute("nhs", "9434765870"));
    }

    [Fact]
    public void DifferentSecretsGiveDifferentDigests()
    {
        var other = (byte[])Secret.Clone();
        other[^1] ^= 0x01;

        Assert.NotEqual(new BlindIndex(Secret).Compute("nhs", "9434765919"), new BlindIndex(other).Compute("nhs", "9434765919"));
    }

    [Theory]
    [InlineData("nhs", "9434765919")]
    [InlineData("upn", "")]
    [InlineData("name", "Zoë Ní Bhriain")]
    public void DigestIs32Bytes(string type, string value) =>
        Assert.Equal(32, new BlindIndex(Secret).Compute(type, value).Length);

    [Theory]
    [InlineData(0)]
    [InlineData(16)]
    [InlineData(31)]
    public void SecretShorterThan32BytesIsRejected(int length) =>
        Assert.Throws<ArgumentOutOfRangeException>("secret", () => new BlindIndex(new byte[length]));

    [Theory]
    [InlineData(32)]
    [InlineData(64)]
    public void SecretOfAtLeast32BytesIsAccepted(int length) =>
        Assert.Equal(32, new BlindIndex(new byte[length]).Compute("nhs", "1").Length);

    [Fact]
    public void ChangingTheCallersSecretArrayAfterConstructionDoesNotChangeDigests()
    {
        var secret = (byte[])Secret.Clone();
        var index = new BlindIndex(secret);
        var before = index.Compute("nhs", "9434765919");

        Array.Clear(secret);

        Assert.Equal(before, index.Compute("nhs", "9434765919"));
    }

    [Fact]
    public void NhsKnownAnswerMatchesAnIndependentHkdfAndHmac()
    {
        // Secret = bytes 0x00..0x1f. Expected values computed independently in Python 3 with only
        // hmac/hashlib, HKDF (RFC 5869) written out by hand:
        //   prk = HMAC-SHA256(key=32 zero bytes (empty salt), msg=secret)
        //   key = HMAC-SHA256(prk, b"exchange/blind-index/v1/nhs" + b"\x01")      (L = 32, one block)
        //       = 406e6d523ad2c98309f81dc96846af1a53dfe62026e61941eff975d45ace3979
        //   digest = HMAC-SHA256(key, b"nhs:9434765919")
        // (The hand-written HKDF was checked against RFC 5869 test case 3's PRK.)
        var secret = Enumerable.Range(0, 32).Select(i => (byte)i).ToArray();

        var digest = new BlindIndex(secret).Compute("nhs", "9434765919");

        Assert.Equal("e946ed4ffa89986c66fba6d824845ededf0a8306f607757ce443544b92dc9d72", Convert.ToHexStringLower(digest));
    }

    [Fact]
    public void ConcurrentCallsAgreeWithASequentialCall()
    {
        var index = new BlindIndex(Secret);
        var types = new[] { "nhs", "upn", "ulnn", "name" };
        var expected = types.ToDictionary(t => t, t => Convert.ToHexString(new BlindIndex(Secret).Compute(t, "v")), StringComparer.Ordinal);

        var results = new System.Collections.Concurrent.ConcurrentBag<(string Type, string Hex)>();
        Parallel.For(0, 400, i =>
        {
            var type = types[i % types.Length];
            results.Add((type, Convert.ToHexString(index.Compute(type, "v"))));
        });

        Assert.All(results, r => Assert.Equal(expected[r.Type], r.Hex));
    }

    [Fact]
    public void EmptyTypeAndNullArgumentsAreRejected()
    {
        var index = new BlindIndex(Secret);

        Assert.Throws<ArgumentNullException>(() => new BlindIndex(null!));
        Assert.Throws<ArgumentException>(() => index.Compute("", "v"));
        Assert.Throws<ArgumentNullException>(() => index.Compute(null!, "v"));
        Assert.Throws<ArgumentNullException>(() => index.Compute("nhs", null!));
    }
}
