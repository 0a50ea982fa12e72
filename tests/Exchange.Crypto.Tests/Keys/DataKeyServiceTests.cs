using System.Security.Cryptography;
using System.Text;
using Exchange.Crypto.Keys;
using Exchange.Crypto.Sealing;

namespace Exchange.Crypto.Tests.Keys;

/// <summary>The service over the real local KEK provider, in-memory store and cache.</summary>
public sealed class DataKeyServiceTests : IDisposable
{
    private readonly KeyRig _rig = new();

    public void Dispose() => _rig.Dispose();

    [Fact]
    public async Task AnOwnerWithoutAKeyHasNone()
    {
        Assert.Null(await _rig.Service.GetAsync("ch_nobody"));
        Assert.Equal(0, _rig.Keks.Unwraps);
    }

    [Fact]
    public async Task CreatedKeyIsReturnedByGetAndOpensWhatItSealed()
    {
        var created = await _rig.Service.GetOrCreateAsync("ch_a");
        var sealedValue = SealedField.Seal(created, KeyRig.PlaceOf("ch_a"), "9434765919");

        var fromCache = await _rig.Service.GetAsync("ch_a");
        var (fresh, _) = _rig.NewService();
        var fromStore = await fresh.GetAsync("ch_a");

        Assert.Same(created, fromCache);
        Assert.NotNull(fromStore);
        Assert.NotSame(created, fromStore);
        Assert.Equal(created.KeyId.ToArray(), fromStore.KeyId.ToArray());
        Assert.Equal(1, fromStore.Version);
        Assert.Equal("9434765919"u8.ToArray(), SealedField.Open(fromStore, KeyRig.PlaceOf("ch_a"), sealedValue));
    }

    [Fact]
    public async Task GetOrCreateOfAnOwnerWithAKeyReturnsThatKey()
    {
        var first = await _rig.Service.GetOrCreateAsync("ch_a");
        var (fresh, _) = _rig.NewService();

        var second = await fresh.GetOrCreateAsync("ch_a");

        Assert.Equal(first.KeyId.ToArray(), second.KeyId.ToArray());
        Assert.Single(await _rig.AllStoredKeysAsync());
    }

    [Fact]
    public async Task ConcurrentFirstUsesOfOneOwnerAgreeOnOneKey()
    {
        var services = Enumerable.Range(0, 20).Select(_ => _rig.NewService().Service).ToList();

        var keys = await Task.WhenAll(services.Select(s => Task.Run(() => s.GetOrCreateAsync("ch_a"))));

        var stored = Assert.Single(await _rig.AllStoredKeysAsync());
        Assert.All(keys, k => Assert.Equal(stored.KeyId, k.KeyId.ToArray()));
        var sealedValue = SealedField.Seal(keys[0], KeyRig.PlaceOf("ch_a"), "v");
        Assert.All(keys, k => Assert.Equal("v"u8.ToArray(), SealedField.Open(k, KeyRig.PlaceOf("ch_a"), sealedValue)));
    }

    [Fact]
    public async Task EachOwnerGetsItsOwnKey()
    {
        var a = await _rig.Service.GetOrCreateAsync("ch_a");
        var b = await _rig.Service.GetOrCreateAsync("ch_b");

        Assert.NotEqual(a.KeyId.ToArray(), b.KeyId.ToArray());
        Assert.NotEqual(await _rig.RawKeyOfAsync("ch_a"), await _rig.RawKeyOfAsync("ch_b"));
    }

    [Fact]
    public async Task StoredKeyIsWrappedUnderTheCurrentKekWithItsIdAndAlgorithm()
    {
        await _rig.Service.GetOrCreateAsync("ch_a");

        var stored = await _rig.Store.FindAsync("ch_a", CancellationToken.None);

        Assert.NotNull(stored);
        Assert.Equal("local:exchange-kek/v1", stored.KekKeyId);
        Assert.Equal(LocalKeyEncryptionKeyProvider.Algorithm, stored.Algorithm);
        Assert.Equal(1, stored.Version);
        Assert.Equal(DataKey.KeyIdSize, stored.KeyId.Length);
    }

    [Fact]
    public async Task StoredWrappedKeyNeverEqualsOrContainsTheRawKey()
    {
        var key = await _rig.Service.GetOrCreateAsync("ch_a");
        var sealedValue = SealedField.Seal(key, KeyRig.PlaceOf("ch_a"), "9434765919");
        var stored = (await _rig.Store.FindAsync("ch_a", CancellationToken.None))!;

        // The raw key, as only someone holding the KEK can get it; prove it is the key by decrypting
        // the sealed value with AesGcm directly in the documented layout.
        var raw = await _rig.RawKeyOfAsync("ch_a");
        var plaintext = new byte[sealedValue.Length - SealedField.Overhead];
        using (var aes = new AesGcm(raw, 16))
        {
            aes.Decrypt(sealedValue.AsSpan(13, 12), sealedValue.AsSpan(25, plaintext.Length), sealedValue.AsSpan(25 + plaintext.Length),
                plaintext, [.. sealedValue[..13], .. KeyRig.PlaceOf("ch_a").ToAssociatedData()]);
        }

        Assert.Equal("9434765919", Encoding.UTF8.GetString(plaintext));
        Assert.NotEqual(raw, stored.WrappedKey);
        for (var i = 0; i + 8 <= raw.Length; i++)
        {
            Assert.Equal(-1, stored.WrappedKey.AsSpan().IndexOf(raw.AsSpan(i, 8)));
        }
    }

    [Fact]
    public async Task TenThousandReadsOfAThousandOwnersCostOneUnwrapPerOwnerPerTimeToLive()
    {
        const int owners = 1_000, reads = 10_000;
        var ownerIds = await CreateKeysAsync(owners);

        // A reader with its own cold cache, as another instance of the service would be. Reads run
        // 16 at a time in random order; each owner's reads stay on one worker (see the next test).
        var (reader, cache) = _rig.NewService(maxEntries: 2 * owners);
        var workers = Enumerable.Range(0, reads).Select(i => i % owners).Shuffle()
            .GroupBy(o => o % 16, o => ownerIds[o]).ToList();
        var unwrapsBefore = _rig.Keks.Unwraps;

        await ReadAllAsync(reader, workers);
        var firstTtl = _rig.Keks.Unwraps - unwrapsBefore;
        await ReadAllAsync(reader, workers);
        var stillFirstTtl = _rig.Keks.Unwraps - unwrapsBefore;
        _rig.Clock.Advance(KeyRig.TimeToLive);
        await ReadAllAsync(reader, workers);
        var secondTtl = _rig.Keks.Unwraps - unwrapsBefore - stillFirstTtl;

        Assert.Equal(16, workers.Count);
        Assert.Equal(owners, firstTtl);
        Assert.Equal(owners, stillFirstTtl);
        Assert.Equal(owners, secondTtl);
        Assert.Equal(owners, cache.Count);
    }

    // A stress test: run with the rest of this suite on 2 cores it catches the gap below about one run in four.
    [Fact]
    public async Task ConcurrentReadsOfTheSameOwnersCostOneUnwrapPerOwnerPerTimeToLive()
    {
        const int owners = 1_000, reads = 10_000;
        var ownerIds = await CreateKeysAsync(owners);
        var (reader, _) = _rig.NewService(maxEntries: 2 * owners);
        var order = Enumerable.Range(0, reads).Select(i => ownerIds[i % owners]).Shuffle().ToList();

        for (var ttl = 0; ttl < 5; ttl++)
        {
            var before = _rig.Keks.Unwraps;
            await Parallel.ForEachAsync(order, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (ownerId, ct) =>
                Assert.NotNull(await reader.GetAsync(ownerId, ct)));
            Assert.Equal(owners, _rig.Keks.Unwraps - before);
            _rig.Clock.Advance(KeyRig.TimeToLive);
        }
    }

    [Fact]
    public async Task ACachedKeyKeepsWorkingWhileTheKeyProviderIsUnreachable()
    {
        var key = await _rig.Service.GetOrCreateAsync("ch_a");
        _rig.Keks.Unreachable = true;

        Assert.Same(key, await _rig.Service.GetAsync("ch_a"));
    }

    [Fact]
    public async Task AKeyNotInCacheFailsAsUnavailableWhileTheProviderIsUnreachableAndLoadsOnceItIsBack()
    {
        await _rig.Service.GetOrCreateAsync("ch_a");
        var (reader, _) = _rig.NewService();
        _rig.Keks.Unreachable = true;

        await Assert.ThrowsAsync<KeyProviderUnavailableException>(() => reader.GetAsync("ch_a"));

        _rig.Keks.Unreachable = false;
        Assert.NotNull(await reader.GetAsync("ch_a"));
        Assert.NotNull(await _rig.Store.FindAsync("ch_a", CancellationToken.None));
    }

    [Fact]
    public async Task EraseReportsWhetherAKeyExisted()
    {
        await _rig.Service.GetOrCreateAsync("ch_a");

        Assert.True(await _rig.Service.EraseAsync("ch_a"));
        Assert.False(await _rig.Service.EraseAsync("ch_a"));
        Assert.False(await _rig.Service.EraseAsync("ch_nobody"));
    }

    [Fact]
    public async Task EraseZeroesTheCachedKey()
    {
        var key = await _rig.Service.GetOrCreateAsync("ch_a");

        await _rig.Service.EraseAsync("ch_a");

        Assert.True(key.IsDisposed);
        Assert.Null(_rig.Cache.Get("ch_a"));
        await Assert.ThrowsAsync<OwnerErasedException>(() => _rig.Service.GetAsync("ch_a"));
        await Assert.ThrowsAsync<OwnerErasedException>(() => _rig.Service.GetOrCreateAsync("ch_a")); // never a new key for an erased owner
    }

    [Fact]
    public async Task EmptyOwnerIdIsRejected() =>
        await Assert.ThrowsAsync<ArgumentException>(() => _rig.Service.GetAsync(""));

    private async Task<string[]> CreateKeysAsync(int owners)
    {
        var ownerIds = Enumerable.Range(0, owners).Select(i => $"ch_{i:D4}").ToArray();
        foreach (var ownerId in ownerIds)
        {
            await _rig.Service.GetOrCreateAsync(ownerId);
        }

        return ownerIds;
    }

    private static Task ReadAllAsync(DataKeyService reader, IEnumerable<IEnumerable<string>> workers) =>
        Task.WhenAll(workers.Select(ownerIds => Task.Run(async () =>
        {
            foreach (var ownerId in ownerIds)
            {
                Assert.NotNull(await reader.GetAsync(ownerId));
            }
        })));
}
