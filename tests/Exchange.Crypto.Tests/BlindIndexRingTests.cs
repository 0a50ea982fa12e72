using System.Security.Cryptography;

namespace Exchange.Crypto.Tests;

/// <summary>
/// The versions of the blind-index secret during a rotation: new digests use the newest, lookups
/// try every version newest first, and a stored digest's version finds the secret it was made with.
/// </summary>
public class BlindIndexRingTests
{
    private static readonly byte[] Old = RandomNumberGenerator.GetBytes(32);
    private static readonly byte[] Middle = RandomNumberGenerator.GetBytes(32);
    private static readonly byte[] New = RandomNumberGenerator.GetBytes(32);

    private static BlindIndexRing ThreeVersions() => new([("v1", Old), ("v2", Middle), ("v3", New)]);

    [Fact]
    public void TheLastSecretGivenIsTheCurrentOne()
    {
        var ring = ThreeVersions();

        Assert.Equal("v3", ring.CurrentVersion);
        Assert.Equal(new BlindIndex(New).Compute("nhs", "9434765919"), ring.Current.Compute("nhs", "9434765919"));
        Assert.Equal(["v1", "v2", "v3"], ring.Versions);
    }

    [Fact]
    public void EachVersionFindsTheSecretItWasGivenWith()
    {
        var ring = ThreeVersions();

        Assert.Equal(new BlindIndex(Old).Compute("nhs", "x"), ring.For("v1").Compute("nhs", "x"));
        Assert.Equal(new BlindIndex(Middle).Compute("nhs", "x"), ring.For("v2").Compute("nhs", "x"));
        Assert.Equal(new BlindIndex(New).Compute("nhs", "x"), ring.For("v3").Compute("nhs", "x"));
    }

    [Theory]
    [InlineData("v4")]
    [InlineData("V1")]
    [InlineData("")]
    public void AVersionTheRingDoesNotHoldIsRefused(string version) =>
        Assert.Throws<KeyNotFoundException>(() => ThreeVersions().For(version));

    [Fact]
    public void ComputeAllGivesOneDigestPerVersionNewestFirst()
    {
        var all = ThreeVersions().ComputeAll("nhs", "9434765919").ToList();

        Assert.Equal(["v3", "v2", "v1"], all.Select(d => d.Version));
        Assert.Equal(new BlindIndex(New).Compute("nhs", "9434765919"), all[0].Digest);
        Assert.Equal(new BlindIndex(Middle).Compute("nhs", "9434765919"), all[1].Digest);
        Assert.Equal(new BlindIndex(Old).Compute("nhs", "9434765919"), all[2].Digest);
    }

    [Fact]
    public void ASingleSecretIsBothCurrentAndTheOnlyLookup()
    {
        var ring = new BlindIndexRing([("v1", Old)]);

        Assert.Equal("v1", ring.CurrentVersion);
        Assert.Equal(["v1"], ring.ComputeAll("nhs", "x").Select(d => d.Version));
    }

    [Fact]
    public void ARingNeedsAtLeastOneSecret()
    {
        Assert.Throws<ArgumentException>(() => new BlindIndexRing([]));
        Assert.Throws<ArgumentNullException>(() => new BlindIndexRing(null!));
    }

    [Fact]
    public void TwoSecretsUnderOneVersionAreRefused() =>
        Assert.Throws<ArgumentException>(() => new BlindIndexRing([("v1", Old), ("v2", Middle), ("v1", New)]));

    [Fact]
    public void AShortSecretIsRefusedWhateverItsVersion() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new BlindIndexRing([("v1", Old), ("v2", new byte[31])]));
}
