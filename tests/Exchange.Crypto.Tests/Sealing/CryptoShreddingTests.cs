using System.Security.Cryptography;
using Exchange.Crypto.Keys;
using Exchange.Crypto.Sealing;
using Exchange.Crypto.Tests.Keys;

namespace Exchange.Crypto.Tests.Sealing;

/// <summary>Erasing a child's data key makes every value sealed under it unreadable, by any path.</summary>
public sealed class CryptoShreddingTests : IDisposable
{
    private readonly KeyRig _rig = new();
    private readonly Dictionary<FieldPlace, byte[]> _erasedValues = [];
    private readonly Dictionary<FieldPlace, byte[]> _keptValues = [];

    public void Dispose() => _rig.Dispose();

    [Fact]
    public async Task ErasedChildsValuesOpenAsErased()
    {
        await SealValuesAsync();

        Assert.True(await _rig.Service.EraseAsync("ch_erased"));

        foreach (var (place, sealedValue) in _erasedValues)
        {
            Assert.Equal(new OpenedField.Erased(), await _rig.Sealer.OpenAsync(place, sealedValue));
        }
    }

    [Fact]
    public async Task ErasedChildsValuesOpenAsErasedThroughAFreshServiceAndCache()
    {
        await SealValuesAsync();
        await _rig.Service.EraseAsync("ch_erased");

        var fresh = new FieldSealer(_rig.NewService().Service);

        foreach (var (place, sealedValue) in _erasedValues)
        {
            Assert.Equal(new OpenedField.Erased(), await fresh.OpenAsync(place, sealedValue));
        }
    }

    [Fact]
    public async Task ErasureLeavesOtherChildrenReadable()
    {
        await SealValuesAsync();

        await _rig.Service.EraseAsync("ch_erased");

        foreach (var (place, sealedValue) in _keptValues)
        {
            Assert.Equal(new OpenedField.Opened("kept " + place.RecordId), await _rig.Sealer.OpenAsync(place, sealedValue));
        }
    }

    [Fact]
    public async Task AnotherInstancesCacheForgetsAnErasedKeyWithinOneTimeToLive()
    {
        // Another instance (its own cache) may still hold the key it unwrapped before the erasure,
        // but never for longer than the cache's time-to-live.
        await SealValuesAsync();
        var otherInstance = new FieldSealer(_rig.NewService().Service);
        var (place, sealedValue) = _erasedValues.First();
        await otherInstance.OpenAsync(place, sealedValue);

        await _rig.Service.EraseAsync("ch_erased");
        _rig.Clock.Advance(KeyRig.TimeToLive);

        Assert.Equal(new OpenedField.Erased(), await otherInstance.OpenAsync(place, sealedValue));
    }

    [Fact]
    public async Task AReadInFlightDuringErasureDoesNotBringTheKeyBack()
    {
        await SealValuesAsync();
        var (place, sealedValue) = _erasedValues.First();
        var store = new PausingStore(_rig.Store);
        var (service, _) = _rig.NewService(store: store);
        var sealer = new FieldSealer(service);

        var reading = sealer.OpenAsync(place, sealedValue); // has read the wrapped key, not yet unwrapped it
        await store.Found.Task;
        await service.EraseAsync("ch_erased");
        store.Release.SetResult();
        await reading; // whatever this read was already entitled to

        Assert.Equal(new OpenedField.Erased(), await sealer.OpenAsync(place, sealedValue));
    }

    [Fact]
    public async Task AnAdminHoldingEveryKekCannotReadAnErasedChildsValues()
    {
        await SealValuesAsync();
        _rig.Local.CreateNextVersion();
        await _rig.Service.RewrapAsync(2); // some keys under v1, some under v2: the admin holds both
        var erasedKeyId = (await _rig.Store.FindAsync("ch_erased", CancellationToken.None))!.KeyId;

        await _rig.Service.EraseAsync("ch_erased");

        // Only a tombstone refers to the child any more: no key material, so there is nothing to unwrap.
        var tombstone = await _rig.Store.FindAsync("ch_erased", CancellationToken.None);
        Assert.True(tombstone!.IsErased);
        Assert.Empty(tombstone.WrappedKey);
        var remaining = await _rig.AllStoredKeysAsync();
        Assert.NotEmpty(remaining);
        Assert.DoesNotContain(remaining, k => k.OwnerId == "ch_erased" || k.KeyId.AsSpan().SequenceEqual(erasedKeyId));

        // Every data key that still exists, unwrapped with the KEK, tried on every erased value:
        // through SealedField (relabelled to the value's own key id and version so the header check
        // cannot be what stops it) and through raw AES-GCM.
        foreach (var wrapped in remaining)
        {
            var material = await _rig.UnwrapAsync(wrapped);
            foreach (var (place, sealedValue) in _erasedValues)
            {
                using var relabelled = new DataKey(place.OwnerId, sealedValue[1..9], 1, (byte[])material.Clone());
                Assert.Throws<SealedValueException>(() => SealedField.Open(relabelled, place, sealedValue));
                Assert.ThrowsAny<CryptographicException>(() => RawOpen(material, place, sealedValue));
            }
        }

        var fresh = new FieldSealer(_rig.NewService().Service);
        foreach (var (place, sealedValue) in _erasedValues)
        {
            Assert.Equal(new OpenedField.Erased(), await fresh.OpenAsync(place, sealedValue));
        }
    }

    [Fact]
    public async Task ErasingAChildWithoutAKeyIsHarmless()
    {
        Assert.False(await _rig.Service.EraseAsync("ch_never_sealed"));
        Assert.Equal(new OpenedField.Erased(), await _rig.Sealer.OpenAsync(KeyRig.PlaceOf("ch_never_sealed"), new byte[SealedField.Overhead + 3]));
    }

    private async Task SealValuesAsync()
    {
        foreach (var record in new[] { "row1", "row2", "row3" })
        {
            var erased = new FieldPlace("child_identifiers", "value", "ch_erased", record);
            _erasedValues[erased] = await _rig.Sealer.SealAsync(erased, "erased " + record);
            var kept = new FieldPlace("child_identifiers", "value", "ch_kept", record);
            _keptValues[kept] = await _rig.Sealer.SealAsync(kept, "kept " + record);
        }

        await _rig.Sealer.SealAsync(KeyRig.PlaceOf("ch_third"), "third");
    }

    /// <summary>The real store, pausing each lookup after it has found the key until released.</summary>
    private sealed class PausingStore(IDataKeyStore inner) : IDataKeyStore
    {
        public TaskCompletionSource Found { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public async Task<WrappedDataKey?> FindAsync(string ownerId, CancellationToken cancellationToken)
        {
            var found = await inner.FindAsync(ownerId, cancellationToken);
            Found.TrySetResult();
            await Release.Task;
            return found;
        }

        public Task<WrappedDataKey> AddIfAbsentAsync(WrappedDataKey key, CancellationToken cancellationToken) => inner.AddIfAbsentAsync(key, cancellationToken);

        public Task<bool> DeleteAsync(string ownerId, CancellationToken cancellationToken) => inner.DeleteAsync(ownerId, cancellationToken);

        public Task<IReadOnlyList<WrappedDataKey>> ListNotWrappedByAsync(string kekKeyId, int max, CancellationToken cancellationToken) =>
            inner.ListNotWrappedByAsync(kekKeyId, max, cancellationToken);

        public Task<bool> ReplaceWrappingAsync(string ownerId, string expectedKekKeyId, WrappedDataKey rewrapped, CancellationToken cancellationToken) =>
            inner.ReplaceWrappingAsync(ownerId, expectedKekKeyId, rewrapped, cancellationToken);

        public Task<IReadOnlyDictionary<string, int>> CountByKekAsync(CancellationToken cancellationToken) => inner.CountByKekAsync(cancellationToken);
    }

    private static byte[] RawOpen(byte[] key, FieldPlace place, byte[] sealedValue)
    {
        var plaintext = new byte[sealedValue.Length - SealedField.Overhead];
        using var aes = new AesGcm(key, 16);
        aes.Decrypt(sealedValue.AsSpan(13, 12), sealedValue.AsSpan(25, plaintext.Length), sealedValue.AsSpan(25 + plaintext.Length),
            plaintext, [.. sealedValue[..13], .. place.ToAssociatedData()]);
        return plaintext;
    }
}
