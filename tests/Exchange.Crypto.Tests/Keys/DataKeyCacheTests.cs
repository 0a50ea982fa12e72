using System.Security.Cryptography;
using Exchange.Crypto.Keys;

namespace Exchange.Crypto.Tests.Keys;

public sealed class DataKeyCacheTests : IDisposable
{
    private static readonly TimeSpan Ttl = TimeSpan.FromMinutes(5);

    private readonly ManualClock _clock = new();
    private readonly DataKeyCache _cache;

    public DataKeyCacheTests() => _cache = NewCache(maxEntries: 100);

    public void Dispose() => _cache.Dispose();

    [Fact]
    public void CachedKeyIsReturnedWithinItsTimeToLive()
    {
        var key = NewKey("ch_a", out _);
        _cache.Set(key);

        _clock.Advance(Ttl - TimeSpan.FromTicks(1));

        Assert.Same(key, _cache.Get("ch_a"));
        Assert.False(key.IsDisposed);
    }

    [Fact]
    public void KeyIsMissedOnceItsTimeToLiveHasPassedAndIsZeroed()
    {
        var key = NewKey("ch_a", out var material);
        _cache.Set(key);

        _clock.Advance(Ttl);

        Assert.Null(_cache.Get("ch_a"));
        Assert.True(key.IsDisposed);
        Assert.All(material, b => Assert.Equal(0, b));
        Assert.Equal(0, _cache.Count);
    }

    [Fact]
    public void ReadingAKeyDoesNotExtendItsTimeToLive()
    {
        // One unwrap per owner per TTL also bounds how long an erased key lingers in another cache.
        var key = NewKey("ch_a", out _);
        _cache.Set(key);

        _clock.Advance(Ttl / 2);
        Assert.Same(key, _cache.Get("ch_a"));
        _clock.Advance(Ttl / 2);

        Assert.Null(_cache.Get("ch_a"));
    }

    [Fact]
    public void AnExpiredKeyNobodyReadsAgainIsZeroedWhenTheNextKeyIsCached()
    {
        // The sweep on Set zeroes keys no Get will ever evict; an entry expires on its exact instant.
        var idle = NewKey("ch_idle", out var material);
        _cache.Set(idle);

        _clock.Advance(Ttl);
        _cache.Set(NewKey("ch_b", out _));

        Assert.True(idle.IsDisposed);
        Assert.All(material, b => Assert.Equal(0, b));
        Assert.Equal(1, _cache.Count);
    }

    [Fact]
    public void TheSweepRunsAgainOnceHalfATimeToLiveHasPassed()
    {
        var idle = NewKey("ch_idle", out _);
        _cache.Set(idle);                       // sweeps at t0; ch_idle expires at t0 + TTL
        _clock.Advance(Ttl / 2 + TimeSpan.FromTicks(1));
        _cache.Set(NewKey("ch_b", out _));      // sweeps at t1 = t0 + TTL/2 + 1 tick
        _clock.Advance(Ttl / 2);

        _cache.Set(NewKey("ch_c", out _));      // exactly half a TTL after the last sweep: sweeps again

        Assert.True(idle.IsDisposed);
        Assert.Equal(2, _cache.Count);
    }

    [Fact]
    public void AnOwnerWithNothingCachedIsAMiss() => Assert.Null(_cache.Get("ch_nobody"));

    [Fact]
    public void BeyondMaxEntriesTheLeastRecentlyUsedKeyIsEvictedAndZeroed()
    {
        using var cache = NewCache(maxEntries: 3);
        var a = NewKey("a", out _);
        var b = NewKey("b", out var bMaterial);
        var c = NewKey("c", out _);
        cache.Set(a);
        cache.Set(b);
        cache.Set(c);
        Assert.Same(a, cache.Get("a")); // a is now the most recently used; b the least

        var d = NewKey("d", out _);
        cache.Set(d);

        Assert.Equal(3, cache.Count);
        Assert.Null(cache.Get("b"));
        Assert.True(b.IsDisposed);
        Assert.All(bMaterial, x => Assert.Equal(0, x));
        Assert.Same(a, cache.Get("a"));
        Assert.Same(c, cache.Get("c"));
        Assert.Same(d, cache.Get("d"));
        Assert.False(a.IsDisposed || c.IsDisposed || d.IsDisposed);
    }

    [Fact]
    public void TheEntryCountNeverExceedsMaxEntries()
    {
        using var cache = NewCache(maxEntries: 10);
        var keys = Enumerable.Range(0, 100).Select(i => NewKey($"o{i}", out _)).ToList();

        foreach (var key in keys)
        {
            cache.Set(key);
            Assert.True(cache.Count <= 10);
        }

        Assert.Equal(90, keys.Count(k => k.IsDisposed));
        Assert.All(keys.Skip(90), k => Assert.Same(k, cache.Get(k.OwnerId)));
    }

    [Fact]
    public void RemoveDropsAndZeroesTheKey()
    {
        var key = NewKey("ch_a", out var material);
        _cache.Set(key);

        _cache.Remove("ch_a");

        Assert.Null(_cache.Get("ch_a"));
        Assert.True(key.IsDisposed);
        Assert.All(material, b => Assert.Equal(0, b));
    }

    [Fact]
    public void RemovingAnOwnerWithNothingCachedIsHarmless()
    {
        _cache.Remove("ch_nobody");

        Assert.Equal(0, _cache.Count);
    }

    [Fact]
    public void SettingAnotherKeyForAnOwnerZeroesTheOldOne()
    {
        var old = NewKey("ch_a", out _);
        var replacement = NewKey("ch_a", out _);
        _cache.Set(old);

        _cache.Set(replacement);

        Assert.True(old.IsDisposed);
        Assert.Same(replacement, _cache.Get("ch_a"));
        Assert.Equal(1, _cache.Count);
    }

    [Fact]
    public void SettingTheSameKeyAgainKeepsItUsable()
    {
        var key = NewKey("ch_a", out _);
        _cache.Set(key);

        _cache.Set(key);

        Assert.False(key.IsDisposed);
        Assert.Same(key, _cache.Get("ch_a"));
    }

    [Fact]
    public void DisposingTheCacheZeroesEveryKey()
    {
        var cache = NewCache(maxEntries: 10);
        var keys = Enumerable.Range(0, 5).Select(i => NewKey($"o{i}", out _)).ToList();
        keys.ForEach(cache.Set);

        cache.Dispose();

        Assert.All(keys, k => Assert.True(k.IsDisposed));
        Assert.Equal(0, cache.Count);
    }

    [Fact]
    public void MaxEntriesBelowOneIsRejected() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new DataKeyCache(new DataKeyCacheOptions { MaxEntries = 0 }, _clock));

    [Fact]
    public async Task GetOrLoadRunsTheLoaderOnceForFiftyConcurrentCallersOfOneOwner()
    {
        const int callers = 50;
        var loads = 0;
        var entered = 0;
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var key = NewKey("ch_a", out _);

        async Task<DataKey?> Load()
        {
            Interlocked.Increment(ref loads);
            await release.Task;
            return key;
        }

        var tasks = Enumerable.Range(0, callers).Select(_ => Task.Run(() =>
        {
            Interlocked.Increment(ref entered);
            return _cache.GetOrLoadAsync("ch_a", Load);
        })).ToList();
        while (Volatile.Read(ref entered) < callers)
        {
            await Task.Delay(5);
        }

        await Task.Delay(50); // let the last callers reach the shared load
        release.SetResult();
        var results = await Task.WhenAll(tasks);

        Assert.Equal(1, loads);
        Assert.All(results, r => Assert.Same(key, r));
        Assert.Same(key, _cache.Get("ch_a"));
    }

    [Fact]
    public async Task GetOrLoadServesACachedKeyWithoutLoading()
    {
        var key = NewKey("ch_a", out _);
        _cache.Set(key);

        var result = await _cache.GetOrLoadAsync("ch_a", () => throw new InvalidOperationException("must not load"));

        Assert.Same(key, result);
    }

    [Fact]
    public async Task GetOrLoadLoadsAgainOnceTheTimeToLiveHasPassed()
    {
        var loads = 0;
        Task<DataKey?> Load()
        {
            Interlocked.Increment(ref loads);
            return Task.FromResult<DataKey?>(NewKey("ch_a", out _));
        }

        var first = await _cache.GetOrLoadAsync("ch_a", Load);
        Assert.Same(first, await _cache.GetOrLoadAsync("ch_a", Load));
        _clock.Advance(Ttl);
        var second = await _cache.GetOrLoadAsync("ch_a", Load);

        Assert.Equal(2, loads);
        Assert.NotSame(first, second);
        Assert.True(first!.IsDisposed);
    }

    [Fact]
    public async Task AnOwnerWithoutAKeyIsNotCachedAndIsLookedUpAgain()
    {
        var loads = 0;
        Task<DataKey?> Load()
        {
            Interlocked.Increment(ref loads);
            return Task.FromResult<DataKey?>(null);
        }

        Assert.Null(await _cache.GetOrLoadAsync("ch_a", Load));
        Assert.Null(await _cache.GetOrLoadAsync("ch_a", Load));

        Assert.Equal(2, loads);
        Assert.Equal(0, _cache.Count);
    }

    [Fact]
    public async Task AFailedLoadReachesItsCallerAndTheNextCallLoadsAgain()
    {
        await Assert.ThrowsAsync<KeyProviderUnavailableException>(() =>
            _cache.GetOrLoadAsync("ch_a", () => throw new KeyProviderUnavailableException("down")));

        var key = NewKey("ch_a", out _);
        Assert.Same(key, await _cache.GetOrLoadAsync("ch_a", () => Task.FromResult<DataKey?>(key)));
    }

    private DataKeyCache NewCache(int maxEntries) =>
        new(new DataKeyCacheOptions { TimeToLive = Ttl, MaxEntries = maxEntries }, _clock);

    private static DataKey NewKey(string ownerId, out byte[] material)
    {
        material = RandomNumberGenerator.GetBytes(32);
        return new DataKey(ownerId, RandomNumberGenerator.GetBytes(8), 1, material);
    }
}
