using System.Security.Cryptography;
using Exchange.Crypto.Keys;

namespace Exchange.Crypto.Tests.Keys;

/// <summary>
/// The data-key service at its edges: a stored row that was damaged or tampered with, a store that
/// answers with a copy of what it stored (as a database does), and a prepared key that lost the race.
/// </summary>
public sealed class DataKeyServiceEdgeTests : IDisposable
{
    private readonly KeyRig _rig = new();

    public void Dispose() => _rig.Dispose();

    [Fact]
    public async Task AStoredKeyNamingAnotherWrapAlgorithmFailsItsIntegrityCheckNamingTheOwner()
    {
        await _rig.Service.GetOrCreateAsync("ch_a");
        await TamperAsync("ch_a", row => row with { Algorithm = "RSA-OAEP-256" });

        var ex = await Assert.ThrowsAsync<WrappedKeyIntegrityException>(() => ColdService().GetAsync("ch_a"));

        Assert.Equal("ch_a", ex.OwnerId);
        Assert.Equal(0, _rig.Keks.Unwraps); // refused before the KEK is asked
    }

    [Theory]
    [InlineData(7)]
    [InlineData(9)]
    public async Task AStoredKeyWhoseKeyIdIsNotEightBytesFailsItsIntegrityCheck(int keyIdLength)
    {
        await _rig.Service.GetOrCreateAsync("ch_a");
        await TamperAsync("ch_a", row => row with { KeyId = RandomNumberGenerator.GetBytes(keyIdLength) });

        var ex = await Assert.ThrowsAsync<WrappedKeyIntegrityException>(() => ColdService().GetAsync("ch_a"));

        Assert.Equal("ch_a", ex.OwnerId);
    }

    [Fact]
    public async Task ATamperedWrappedKeyFailsItsIntegrityCheckNamingTheOwner()
    {
        await _rig.Service.GetOrCreateAsync("ch_a");
        await TamperAsync("ch_a", row =>
        {
            var wrapped = (byte[])row.WrappedKey.Clone();
            wrapped[^1] ^= 1;
            return row with { WrappedKey = wrapped };
        });

        var ex = await Assert.ThrowsAsync<WrappedKeyIntegrityException>(() => ColdService().GetAsync("ch_a"));

        Assert.Equal("ch_a", ex.OwnerId);
        Assert.IsType<WrappedKeyIntegrityException>(ex.InnerException); // the KEK's own finding, kept as the cause
    }

    [Theory]
    [InlineData(16)]
    [InlineData(31)]
    [InlineData(33)]
    public async Task AWrappedKeyThatUnwrapsToOtherThanThirtyTwoBytesFailsItsIntegrityCheck(int length)
    {
        // Wrapped under the real KEK, so only the length betrays it: an AES-256 data key is 32 bytes.
        var kek = await _rig.Local.GetCurrentAsync();
        var wrapped = await kek.WrapKeyAsync(LocalKeyEncryptionKeyProvider.Algorithm, RandomNumberGenerator.GetBytes(length));
        await _rig.Store.AddIfAbsentAsync(
            new WrappedDataKey("ch_short", RandomNumberGenerator.GetBytes(DataKey.KeyIdSize), 1, kek.KeyId, LocalKeyEncryptionKeyProvider.Algorithm, wrapped),
            CancellationToken.None);

        var ex = await Assert.ThrowsAsync<WrappedKeyIntegrityException>(() => _rig.Service.GetAsync("ch_short"));

        Assert.Equal("ch_short", ex.OwnerId);
        Assert.Contains("wrong length", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AStoreThatAnswersWithACopyOfTheNewKeyCostsNoUnwrap()
    {
        // A database hands back the row it stored as a new object: the service must recognise its own
        // key by its id and use the material it holds, not unwrap it again.
        var (service, cache) = _rig.NewService(store: new CopyingStore(_rig.Store));

        var key = await service.GetOrCreateAsync("ch_a");

        Assert.Equal(0, _rig.Keks.Unwraps);
        Assert.Same(key, cache.Get("ch_a"));
        Assert.Equal((await _rig.Store.FindAsync("ch_a", CancellationToken.None))!.KeyId, key.KeyId.ToArray());
    }

    [Fact]
    public async Task CreatingAKeyAnotherWriterStoredFirstReturnsTheirKey()
    {
        // The other writer's row lands between this service's miss and its own insert.
        var theirKeyId = RandomNumberGenerator.GetBytes(DataKey.KeyIdSize);
        var raced = new RacingStore(_rig.Store, async () =>
        {
            var kek = await _rig.Local.GetCurrentAsync();
            var wrapped = await kek.WrapKeyAsync(LocalKeyEncryptionKeyProvider.Algorithm, RandomNumberGenerator.GetBytes(32));
            await _rig.Store.AddIfAbsentAsync(
                new WrappedDataKey("ch_a", theirKeyId, 1, kek.KeyId, LocalKeyEncryptionKeyProvider.Algorithm, wrapped), CancellationToken.None);
        });
        var (service, _) = _rig.NewService(store: raced);

        var key = await service.GetOrCreateAsync("ch_a");

        Assert.Equal(theirKeyId, key.KeyId.ToArray());
        Assert.Equal(1, _rig.Keks.Unwraps); // their key, unwrapped from the store
        Assert.Single(await _rig.AllStoredKeysAsync());
    }

    [Fact]
    public async Task APreparedKeyForAnOwnerWhoAlreadyHasOneGivesTheExistingKeyAndStaysUnspent()
    {
        var existing = await _rig.Service.GetOrCreateAsync("ch_a");
        using var prepared = await _rig.Service.PrepareAsync("ch_a");

        var key = await _rig.Service.AdoptAsync(prepared);

        Assert.Equal(existing.KeyId.ToArray(), key.KeyId.ToArray());
        Assert.False(prepared.IsSpent); // its material was not taken: disposing it zeroes it
        Assert.Equal(existing.KeyId.ToArray(), (await _rig.Store.FindAsync("ch_a", CancellationToken.None))!.KeyId);
    }

    [Fact]
    public async Task APreparedKeyForAnOwnerErasedByAnotherInstanceIsRefusedThoughThisOneStillCachesTheOldKey()
    {
        // This instance read the key before another instance erased the owner; until it forgets its cached
        // copy, adopting a new key must still see the tombstone and refuse, not hand out the old key.
        var cached = await _rig.Service.GetOrCreateAsync("ch_a");
        var (other, _) = _rig.NewService();
        Assert.True(await other.EraseAsync("ch_a"));
        using var prepared = await _rig.Service.PrepareAsync("ch_a");

        await Assert.ThrowsAsync<OwnerErasedException>(() => _rig.Service.AdoptAsync(prepared));

        Assert.Same(cached, _rig.Service.TryGetCached("ch_a")); // still cached here: only the store knows of the erasure
        Assert.False(prepared.IsSpent);
        Assert.True((await _rig.Store.FindAsync("ch_a", CancellationToken.None))!.IsErased);
    }

    [Fact]
    public async Task APreparedKeyIsWrappedUnderTheCurrentKekAsVersionOneOfItsOwner()
    {
        using var prepared = await _rig.Service.PrepareAsync("ch_new");

        Assert.Equal("ch_new", prepared.Wrapped.OwnerId);
        Assert.Equal(1, prepared.Wrapped.Version);
        Assert.Equal("local:exchange-kek/v1", prepared.Wrapped.KekKeyId);
        Assert.Equal(LocalKeyEncryptionKeyProvider.Algorithm, prepared.Wrapped.Algorithm);
        Assert.Equal(DataKey.KeyIdSize, prepared.Wrapped.KeyId.Length);
        Assert.Equal(32, (await _rig.UnwrapAsync(prepared.Wrapped)).Length);
    }

    [Fact]
    public async Task AKeyCreatedWhileTheProviderIsUnreachableFailsAsUnavailableAndStoresNothing()
    {
        _rig.Keks.Unreachable = true;

        await Assert.ThrowsAsync<KeyProviderUnavailableException>(() => _rig.Service.GetOrCreateAsync("ch_a"));
        await Assert.ThrowsAsync<KeyProviderUnavailableException>(() => _rig.Service.PrepareAsync("ch_a"));

        Assert.Empty(await _rig.AllStoredKeysAsync());
    }

    [Fact]
    public async Task ForgetCachedDropsAndZeroesTheCachedKeyButKeepsTheStoredOne()
    {
        var key = await _rig.Service.GetOrCreateAsync("ch_a");

        _rig.Service.ForgetCached("ch_a");

        Assert.True(key.IsDisposed);
        Assert.Null(_rig.Service.TryGetCached("ch_a"));
        Assert.Equal(key.KeyId.ToArray(), (await _rig.Service.GetAsync("ch_a"))!.KeyId.ToArray());
    }

    [Fact]
    public async Task TheReportCountsKeysByKekAndThoseNotOnTheCurrentOne()
    {
        await _rig.Service.GetOrCreateAsync("ch_a");
        await _rig.Service.GetOrCreateAsync("ch_b");
        _rig.Local.CreateNextVersion();
        await _rig.Service.GetOrCreateAsync("ch_c");

        var report = await _rig.Service.ReportAsync();

        Assert.Equal("local:exchange-kek/v2", report.CurrentKekKeyId);
        Assert.Equal(0, report.Moved);
        Assert.Equal(2, report.Remaining);
        Assert.Equal(2, report.KeysByKek["local:exchange-kek/v1"]);
        Assert.Equal(1, report.KeysByKek["local:exchange-kek/v2"]);
    }

    private DataKeyService ColdService() => _rig.NewService().Service;

    private async Task TamperAsync(string ownerId, Func<WrappedDataKey, WrappedDataKey> change)
    {
        var row = (await _rig.Store.FindAsync(ownerId, CancellationToken.None))!;
        Assert.True(await _rig.Store.ReplaceWrappingAsync(ownerId, row.KekKeyId, change(row), CancellationToken.None));
    }

    /// <summary>Answers every read and insert with a copy of the stored row, as a database would.</summary>
    private sealed class CopyingStore(IDataKeyStore inner) : IDataKeyStore
    {
        public async Task<WrappedDataKey?> FindAsync(string ownerId, CancellationToken cancellationToken) =>
            await inner.FindAsync(ownerId, cancellationToken) is { } found ? Copy(found) : null;

        public async Task<WrappedDataKey> AddIfAbsentAsync(WrappedDataKey key, CancellationToken cancellationToken) =>
            Copy(await inner.AddIfAbsentAsync(key, cancellationToken));

        public Task<bool> DeleteAsync(string ownerId, CancellationToken cancellationToken) => inner.DeleteAsync(ownerId, cancellationToken);

        public Task<IReadOnlyList<WrappedDataKey>> ListNotWrappedByAsync(string kekKeyId, int max, CancellationToken cancellationToken) =>
            inner.ListNotWrappedByAsync(kekKeyId, max, cancellationToken);

        public Task<bool> ReplaceWrappingAsync(string ownerId, string expectedKekKeyId, WrappedDataKey rewrapped, CancellationToken cancellationToken) =>
            inner.ReplaceWrappingAsync(ownerId, expectedKekKeyId, rewrapped, cancellationToken);

        public Task<IReadOnlyDictionary<string, int>> CountByKekAsync(CancellationToken cancellationToken) => inner.CountByKekAsync(cancellationToken);

        private static WrappedDataKey Copy(WrappedDataKey row) =>
            row with { KeyId = (byte[])row.KeyId.Clone(), WrappedKey = (byte[])row.WrappedKey.Clone() };
    }

    /// <summary>Runs <paramref name="beforeInsert"/> once, just before the first insert: another writer getting there first.</summary>
    private sealed class RacingStore(IDataKeyStore inner, Func<Task> beforeInsert) : IDataKeyStore
    {
        private Func<Task>? _pending = beforeInsert;

        public Task<WrappedDataKey?> FindAsync(string ownerId, CancellationToken cancellationToken) => inner.FindAsync(ownerId, cancellationToken);

        public async Task<WrappedDataKey> AddIfAbsentAsync(WrappedDataKey key, CancellationToken cancellationToken)
        {
            if (Interlocked.Exchange(ref _pending, null) is { } race)
            {
                await race();
            }

            return await inner.AddIfAbsentAsync(key, cancellationToken);
        }

        public Task<bool> DeleteAsync(string ownerId, CancellationToken cancellationToken) => inner.DeleteAsync(ownerId, cancellationToken);

        public Task<IReadOnlyList<WrappedDataKey>> ListNotWrappedByAsync(string kekKeyId, int max, CancellationToken cancellationToken) =>
            inner.ListNotWrappedByAsync(kekKeyId, max, cancellationToken);

        public Task<bool> ReplaceWrappingAsync(string ownerId, string expectedKekKeyId, WrappedDataKey rewrapped, CancellationToken cancellationToken) =>
            inner.ReplaceWrappingAsync(ownerId, expectedKekKeyId, rewrapped, cancellationToken);

        public Task<IReadOnlyDictionary<string, int>> CountByKekAsync(CancellationToken cancellationToken) => inner.CountByKekAsync(cancellationToken);
    }
}
