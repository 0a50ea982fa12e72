using System.Collections.Concurrent;
using Exchange.Crypto.Keys;
using Exchange.Crypto.Sealing;

namespace Exchange.Crypto.Tests.Keys;

/// <summary>Moving data keys to a new KEK version while the service keeps serving.</summary>
public sealed class KeyRotationTests : IDisposable
{
    private const int Owners = 50;
    private const string V1 = "local:exchange-kek/v1";
    private const string V2 = "local:exchange-kek/v2";

    private readonly KeyRig _rig = new();
    private readonly Dictionary<string, byte[]> _sealed = [];

    public void Dispose() => _rig.Dispose();

    [Fact]
    public async Task KeysMoveToTheNewKekVersionInBatchesWhileReadsKeepWorking()
    {
        await SealOneValuePerOwnerAsync();
        _rig.Local.CreateNextVersion();

        // Readers with a cold cache for every read, so each read unwraps from the store while the
        // rotation rewrites it, some under v1 and some under v2.
        var reads = 0;
        var failures = new ConcurrentBag<string>();
        using var stop = new CancellationTokenSource();
        var readers = Enumerable.Range(0, 4).Select(r => Task.Run(async () =>
        {
            var owners = _sealed.Keys.ToArray();
            for (var i = r; !stop.IsCancellationRequested; i++)
            {
                var owner = owners[i % owners.Length];
                try
                {
                    using var cache = new DataKeyCache(new DataKeyCacheOptions(), _rig.Clock);
                    var readSealer = new FieldSealer(new DataKeyService(_rig.Store, _rig.Keks, cache));
                    if (await readSealer.OpenAsync(KeyRig.PlaceOf(owner), _sealed[owner]) != new OpenedField.Opened("value of " + owner))
                    {
                        failures.Add($"{owner}: wrong outcome");
                    }
                }
                catch (Exception ex)
                {
                    failures.Add($"{owner}: {ex.GetType().Name}: {ex.Message}");
                }

                Interlocked.Increment(ref reads);
            }
        })).ToList();

        var before = await _rig.Service.ReportAsync();
        Assert.Equal(V2, before.CurrentKekKeyId);
        Assert.Equal(Owners, before.Remaining);
        Assert.Equal(Owners, before.KeysByKek[V1]);

        var remaining = new List<int>();
        for (var batch = 0; ; batch++)
        {
            Assert.True(batch < 20, "The rotation did not finish.");
            await UntilMoreReadsAsync(() => Volatile.Read(ref reads)); // reads run between every batch
            var report = await _rig.Service.RewrapAsync(7);
            Assert.InRange(report.Moved, 0, 7);
            remaining.Add(report.Remaining);
            if (report.Remaining == 0)
            {
                break;
            }
        }

        await UntilMoreReadsAsync(() => Volatile.Read(ref reads));
        await stop.CancelAsync();
        await Task.WhenAll(readers);

        Assert.True(failures.IsEmpty, $"{failures.Count} reads failed during rotation, e.g. {string.Join("; ", failures.Take(5))}");
        Assert.True(reads > Owners, $"only {reads} reads ran");
        Assert.Equal([43, 36, 29, 22, 15, 8, 1, 0], remaining);
        var after = await _rig.Service.ReportAsync();
        Assert.Equal(0, after.Remaining);
        Assert.Equal(Owners, after.KeysByKek[V2]);
        Assert.DoesNotContain(V1, after.KeysByKek.Keys);
        await AssertEverySealedValueOpensThroughAFreshServiceAsync();
    }

    [Fact]
    public async Task AnInterruptedRotationResumesInANewServiceAndFinishes()
    {
        await SealOneValuePerOwnerAsync();
        _rig.Local.CreateNextVersion();

        var first = await _rig.Service.RewrapAsync(7);
        Assert.Equal(7, first.Moved);
        Assert.Equal(Owners - 7, first.Remaining);
        Assert.Equal(7, first.KeysByKek[V2]);
        Assert.Equal(Owners - 7, first.KeysByKek[V1]);

        // The process stops here. A new one: new provider over the same key files, new service, cold cache.
        var restartedKeks = new LocalKeyEncryptionKeyProvider(_rig.Directory);
        var (restarted, _) = _rig.NewService(keks: restartedKeks);
        Assert.Equal(Owners - 7, (await restarted.ReportAsync()).Remaining);

        var moved = first.Moved;
        KeyRotationReport report;
        do
        {
            report = await restarted.RewrapAsync(7);
            moved += report.Moved;
        }
        while (report.Remaining > 0);

        Assert.Equal(Owners, moved);
        Assert.Equal(V2, report.CurrentKekKeyId);
        Assert.Equal(Owners, report.KeysByKek[V2]);
        Assert.All(await _rig.AllStoredKeysAsync(), k => Assert.Equal(V2, k.KekKeyId));
        await AssertEverySealedValueOpensThroughAFreshServiceAsync();
    }

    [Fact]
    public async Task RewrappingKeepsEachDataKeyAndOnlyChangesItsWrapping()
    {
        await SealOneValuePerOwnerAsync();
        var before = (await _rig.AllStoredKeysAsync()).ToDictionary(k => k.OwnerId);
        var rawBefore = await _rig.RawKeyOfAsync("ch_07");
        _rig.Local.CreateNextVersion();

        await _rig.Service.RewrapAsync(Owners);

        foreach (var after in await _rig.AllStoredKeysAsync())
        {
            var old = before[after.OwnerId];
            Assert.Equal(old.KeyId, after.KeyId);
            Assert.Equal(old.Version, after.Version);
            Assert.NotEqual(old.WrappedKey, after.WrappedKey);
            Assert.Equal(V2, after.KekKeyId);
        }

        Assert.Equal(rawBefore, await _rig.RawKeyOfAsync("ch_07"));
    }

    [Fact]
    public async Task OldKekVersionsStillUnwrapUntilRotationHasMovedTheirKeys()
    {
        await SealOneValuePerOwnerAsync();
        _rig.Local.CreateNextVersion();
        await _rig.Service.GetOrCreateAsync("ch_new");

        // Nothing rotated yet: v1 keys still open through a cold cache, the new key went straight to v2.
        await AssertEverySealedValueOpensThroughAFreshServiceAsync();
        Assert.Equal(V2, (await _rig.Store.FindAsync("ch_new", CancellationToken.None))!.KekKeyId);
        var report = await _rig.Service.ReportAsync();
        Assert.Equal(Owners, report.Remaining);
        Assert.Equal(1, report.KeysByKek[V2]);
    }

    [Fact]
    public async Task AKeyErasedWhileItsBatchIsBeingRewrappedIsNotResurrected()
    {
        await SealOneValuePerOwnerAsync();
        _rig.Local.CreateNextVersion();

        // Erase an owner after the rotation has listed its batch but before it writes it back.
        var store = new EraseAfterListingStore(_rig.Store);
        var (rotator, _) = _rig.NewService(store: store);
        var firstBatch = await _rig.Store.ListNotWrappedByAsync(V2, 7, CancellationToken.None);
        var victim = firstBatch[3].OwnerId;
        store.OnList = () => _rig.Service.EraseAsync(victim);

        var report = await rotator.RewrapAsync(7);

        Assert.Equal(6, report.Moved);
        Assert.True((await _rig.Store.FindAsync(victim, CancellationToken.None))!.IsErased); // a tombstone, not a key
        Assert.Equal(Owners - 1, report.KeysByKek.Values.Sum());

        store.OnList = null;
        while ((await rotator.RewrapAsync(7)).Remaining > 0)
        {
        }

        Assert.True((await _rig.Store.FindAsync(victim, CancellationToken.None))!.IsErased); // a tombstone, not a key
        Assert.Equal(new OpenedField.Erased(), await FreshSealer().OpenAsync(KeyRig.PlaceOf(victim), _sealed[victim]));
        _sealed.Remove(victim);
        await AssertEverySealedValueOpensThroughAFreshServiceAsync();
    }

    [Fact]
    public async Task AKeyErasedBetweenBatchesIsNotResurrected()
    {
        await SealOneValuePerOwnerAsync();
        _rig.Local.CreateNextVersion();
        await _rig.Service.RewrapAsync(7);
        var rotated = (await _rig.AllStoredKeysAsync()).First(k => k.KekKeyId == V2).OwnerId;
        var notYet = (await _rig.AllStoredKeysAsync()).First(k => k.KekKeyId == V1).OwnerId;

        await _rig.Service.EraseAsync(rotated);
        await _rig.Service.EraseAsync(notYet);
        while ((await _rig.Service.RewrapAsync(7)).Remaining > 0)
        {
        }

        Assert.True((await _rig.Store.FindAsync(rotated, CancellationToken.None))!.IsErased); // a tombstone, not a key
        Assert.True((await _rig.Store.FindAsync(notYet, CancellationToken.None))!.IsErased); // a tombstone, not a key
        Assert.Equal(Owners - 2, (await _rig.Service.ReportAsync()).KeysByKek[V2]);
    }

    [Fact]
    public async Task RotatingAgainMovesKeysFromEveryOlderVersion()
    {
        await SealOneValuePerOwnerAsync();
        _rig.Local.CreateNextVersion();
        await _rig.Service.RewrapAsync(20);
        _rig.Local.CreateNextVersion();

        var before = await _rig.Service.ReportAsync();
        Assert.Equal("local:exchange-kek/v3", before.CurrentKekKeyId);
        Assert.Equal(30, before.KeysByKek[V1]);
        Assert.Equal(20, before.KeysByKek[V2]);
        Assert.Equal(Owners, before.Remaining);

        var after = await _rig.Service.RewrapAsync(Owners);

        Assert.Equal(Owners, after.Moved);
        Assert.Equal(0, after.Remaining);
        await AssertEverySealedValueOpensThroughAFreshServiceAsync();
    }

    [Fact]
    public async Task RotationWithNothingOnOlderVersionsMovesNothing()
    {
        await SealOneValuePerOwnerAsync();

        var report = await _rig.Service.RewrapAsync(7);

        Assert.Equal(0, report.Moved);
        Assert.Equal(0, report.Remaining);
        Assert.Equal(V1, report.CurrentKekKeyId);
    }

    [Fact]
    public async Task ADamagedKeyIsReportedAndLeftWhileEveryOtherKeyMoves()
    {
        await SealOneValuePerOwnerAsync();
        var damaged = (await _rig.Store.FindAsync("ch_07", CancellationToken.None))!;
        var tampered = (byte[])damaged.WrappedKey.Clone();
        tampered[^1] ^= 0x01;
        Assert.True(await _rig.Store.ReplaceWrappingAsync("ch_07", V1, damaged with { WrappedKey = tampered }, CancellationToken.None));
        _rig.Local.CreateNextVersion();

        var report = await _rig.Service.RewrapAsync(Owners);

        Assert.Equal(1, report.Failed);
        Assert.Equal(Owners - 1, report.Moved);
        Assert.Equal(1, report.Remaining);
        Assert.Equal(V1, (await _rig.Store.FindAsync("ch_07", CancellationToken.None))!.KekKeyId);
        _sealed.Remove("ch_07");
        await AssertEverySealedValueOpensThroughAFreshServiceAsync();
    }

    [Fact]
    public async Task ACancelledRotationMovesNothing()
    {
        await SealOneValuePerOwnerAsync();
        _rig.Local.CreateNextVersion();
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _rig.Service.RewrapAsync(Owners, cancelled.Token));

        Assert.Equal(Owners, (await _rig.Service.ReportAsync()).Remaining);
    }

    [Fact]
    public async Task BatchSizeBelowOneIsRejected() =>
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => _rig.Service.RewrapAsync(0));

    private async Task SealOneValuePerOwnerAsync()
    {
        for (var i = 0; i < Owners; i++)
        {
            var owner = $"ch_{i:D2}";
            _sealed[owner] = await _rig.Sealer.SealAsync(KeyRig.PlaceOf(owner), "value of " + owner);
        }
    }

    private FieldSealer FreshSealer() => new(_rig.NewService().Service);

    private async Task AssertEverySealedValueOpensThroughAFreshServiceAsync()
    {
        var sealer = FreshSealer();
        foreach (var (owner, sealedValue) in _sealed)
        {
            Assert.Equal(new OpenedField.Opened("value of " + owner), await sealer.OpenAsync(KeyRig.PlaceOf(owner), sealedValue));
        }
    }

    private static async Task UntilMoreReadsAsync(Func<int> reads)
    {
        var start = reads();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (reads() < start + 3)
        {
            Assert.True(DateTime.UtcNow < deadline, "The readers stopped making progress.");
            await Task.Delay(1);
        }
    }

    /// <summary>The real store, with a hook that runs after a rotation has listed its batch.</summary>
    private sealed class EraseAfterListingStore(IDataKeyStore inner) : IDataKeyStore
    {
        public Func<Task>? OnList { get; set; }

        public async Task<IReadOnlyList<WrappedDataKey>> ListNotWrappedByAsync(string kekKeyId, int max, CancellationToken cancellationToken)
        {
            var listed = await inner.ListNotWrappedByAsync(kekKeyId, max, cancellationToken);
            if (OnList is { } onList)
            {
                await onList();
            }

            return listed;
        }

        public Task<WrappedDataKey?> FindAsync(string ownerId, CancellationToken cancellationToken) => inner.FindAsync(ownerId, cancellationToken);

        public Task<WrappedDataKey> AddIfAbsentAsync(WrappedDataKey key, CancellationToken cancellationToken) => inner.AddIfAbsentAsync(key, cancellationToken);

        public Task<bool> DeleteAsync(string ownerId, CancellationToken cancellationToken) => inner.DeleteAsync(ownerId, cancellationToken);

        public Task<bool> ReplaceWrappingAsync(string ownerId, string expectedKekKeyId, WrappedDataKey rewrapped, CancellationToken cancellationToken) =>
            inner.ReplaceWrappingAsync(ownerId, expectedKekKeyId, rewrapped, cancellationToken);

        public Task<IReadOnlyDictionary<string, int>> CountByKekAsync(CancellationToken cancellationToken) => inner.CountByKekAsync(cancellationToken);
    }
}
