using System.Reflection;
using System.Security.Cryptography;
using Exchange.Crypto.Keys;

namespace Exchange.Crypto.Tests.Keys;

/// <summary>
/// Edges of the key stack that the mutation run of Keys/ found unchecked: an erasure that lands
/// while a key is being unwrapped, a replaced key evicted later, the guards on arguments, stray
/// files beside the local KEKs, a wrapped key too short to hold a nonce and a tag.
/// </summary>
public sealed class KeyLifecycleEdgeTests : IDisposable
{
    private readonly KeyRig _rig = new();

    public void Dispose() => _rig.Dispose();

    [Fact]
    public async Task AnOwnerErasedWhileItsKeyIsBeingLoadedFailsTheLoadAndTheKeyIsZeroedNotCached()
    {
        using var cache = new DataKeyCache(new DataKeyCacheOptions(), _rig.Clock);
        var key = KeyRig.NewDataKey("ch_a");

        var ex = await Assert.ThrowsAsync<OwnerErasedException>(() => cache.GetOrLoadAsync("ch_a", () =>
        {
            cache.Remove("ch_a"); // the erasure commits while the vault is unwrapping
            return Task.FromResult<DataKey?>(key);
        }));

        Assert.True(key.IsDisposed);
        Assert.Null(cache.Get("ch_a"));
        Assert.Equal(0, cache.Count);
    }

    [Fact]
    public async Task AnOwnerRemovedBeforeALoadStartsIsLoadedAndCachedNormally()
    {
        using var cache = new DataKeyCache(new DataKeyCacheOptions(), _rig.Clock);
        cache.Remove("ch_a");
        var key = KeyRig.NewDataKey("ch_a");

        Assert.Same(key, await cache.GetOrLoadAsync("ch_a", () => Task.FromResult<DataKey?>(key)));
        Assert.Same(key, cache.Get("ch_a"));
    }

    [Fact]
    public void AKeyReplacedForItsOwnerAndThenEvictedIsZeroed()
    {
        using var cache = new DataKeyCache(new DataKeyCacheOptions { MaxEntries = 2 }, _rig.Clock);
        var first = KeyRig.NewDataKey("ch_a");
        var replacement = KeyRig.NewDataKey("ch_a");
        cache.Set(first);
        cache.Set(replacement);
        cache.Set(KeyRig.NewDataKey("ch_b"));

        cache.Set(KeyRig.NewDataKey("ch_c")); // ch_a's replacement is now the least recently used

        Assert.True(first.IsDisposed);
        Assert.True(replacement.IsDisposed);
        Assert.Null(cache.Get("ch_a"));
        Assert.Equal(2, cache.Count);
    }

    [Fact]
    public void RemoveLeavesNothingCounted()
    {
        using var cache = new DataKeyCache(new DataKeyCacheOptions(), _rig.Clock);
        cache.Set(KeyRig.NewDataKey("ch_a"));

        cache.Remove("ch_a");

        Assert.Equal(0, cache.Count);
    }

    [Fact]
    public async Task GetOrCreateOfAnOwnerWithACachedKeyMakesNoNewKey()
    {
        await _rig.Service.GetOrCreateAsync("ch_a");

        await _rig.Service.GetOrCreateAsync("ch_a");

        Assert.Equal(1, _rig.Keks.Wraps);
    }

    [Fact]
    public async Task ASpentPreparedKeyIsRefusedBeforeAnythingIsStored()
    {
        var prepared = await _rig.Service.PrepareAsync("ch_spare");
        prepared.Dispose();

        await Assert.ThrowsAsync<InvalidOperationException>(() => _rig.Service.AdoptAsync(prepared));

        Assert.Null(await _rig.Store.FindAsync("ch_spare", CancellationToken.None));
    }

    [Fact]
    public async Task DisposingAnUnadoptedPreparedKeyZeroesItsMaterial()
    {
        var prepared = await _rig.Service.PrepareAsync("ch_spare");
        // The material is private: the point of the test is that nobody else ever sees it.
        var material = (byte[])typeof(PreparedDataKey).GetField("_material", BindingFlags.NonPublic | BindingFlags.Instance)!.GetValue(prepared)!;
        Assert.Contains(material, b => b != 0);

        prepared.Dispose();

        Assert.All(material, b => Assert.Equal(0, b));
    }

    [Fact]
    public async Task NullArgumentsAreRejected()
    {
        var options = new DataKeyCacheOptions();
        Assert.Throws<ArgumentNullException>(() => new DataKeyCache(null!, _rig.Clock));
        Assert.Throws<ArgumentNullException>(() => new DataKeyCache(options, null!));
        await Assert.ThrowsAsync<ArgumentNullException>(() => _rig.Cache.GetOrLoadAsync("ch_a", null!));
        Assert.Throws<ArgumentNullException>(() => _rig.Cache.Set(null!));

        Assert.Throws<ArgumentNullException>(() => new DataKeyService(null!, _rig.Keks, _rig.Cache));
        Assert.Throws<ArgumentNullException>(() => new DataKeyService(_rig.Store, null!, _rig.Cache));
        Assert.Throws<ArgumentNullException>(() => new DataKeyService(_rig.Store, _rig.Keks, null!));
        await Assert.ThrowsAsync<ArgumentNullException>(() => _rig.Service.AdoptAsync(null!));

        await Assert.ThrowsAsync<ArgumentNullException>(() => _rig.Store.AddIfAbsentAsync(null!, CancellationToken.None));
        await Assert.ThrowsAsync<ArgumentNullException>(() => _rig.Store.ReplaceWrappingAsync("ch_a", "k", null!, CancellationToken.None));

        Assert.Throws<ArgumentNullException>(() => _rig.Local.Resolve(null!));
    }

    [Fact]
    public void ALocalProviderNeedsADataDirectory()
    {
        Assert.Throws<ArgumentException>(() => new LocalKeyEncryptionKeyProvider(""));
        Assert.Throws<ArgumentNullException>(() => new LocalKeyEncryptionKeyProvider(null!));
    }

    [Theory]
    [InlineData("old-v7.key")]  // not a KEK file name
    [InlineData("kek-v7.bak")]
    [InlineData("kek-v0.key")]  // version 0 does not exist
    [InlineData("kek-vx.key")]
    public async Task AStrayFileBesideTheKeksIsNotTakenForAVersion(string stray)
    {
        await File.WriteAllBytesAsync(Path.Combine(_rig.Directory, "keys", stray), RandomNumberGenerator.GetBytes(32));

        Assert.Equal([1], _rig.Local.Versions());
        Assert.Equal("local:exchange-kek/v1", (await _rig.Local.GetCurrentAsync()).KeyId);
        Assert.Equal("local:exchange-kek/v2", _rig.Local.CreateNextVersion());
    }

    [Fact]
    public void TheFirstVersionIsMadeAgainWhenEveryKekFileIsGone()
    {
        Directory.Delete(Path.Combine(_rig.Directory, "keys"), recursive: true);

        Assert.Equal("local:exchange-kek/v1", _rig.Local.CreateNextVersion());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(10)]
    [InlineData(27)]
    [InlineData(28)] // a nonce and a tag and no key
    public async Task AWrappedKeyTooShortToHoldANonceAKeyAndATagFailsItsIntegrityCheck(int length)
    {
        var kek = await _rig.Local.GetCurrentAsync();

        Assert.Throws<WrappedKeyIntegrityException>(() => kek.UnwrapKey(LocalKeyEncryptionKeyProvider.Algorithm, new byte[length]));
    }

    [Fact]
    public void ATombstoneHoldsNoKeyMaterialAndNamesNoKek()
    {
        var tombstone = WrappedDataKey.Tombstone("ch_a");

        Assert.True(tombstone.IsErased);
        Assert.Equal("ch_a", tombstone.OwnerId);
        Assert.Equal("", tombstone.KekKeyId);
        Assert.Equal("", tombstone.Algorithm);
        Assert.Empty(tombstone.WrappedKey);
        Assert.Equal(new byte[DataKey.KeyIdSize], tombstone.KeyId);
        Assert.Equal(0, tombstone.Version);
    }

    [Fact]
    public void TheProviderExceptionsWithoutAMessageSayWhatFailed()
    {
        Assert.Equal("The key provider failed.", new KeyProviderException().Message);
        Assert.Equal("The key provider is unavailable.", new KeyProviderUnavailableException().Message);
        Assert.Equal("A stored data key failed its integrity check.", new WrappedKeyIntegrityException().Message);
        Assert.Equal("The owner has been erased.", new OwnerErasedException().Message);
    }
}
