namespace Exchange.Crypto.Keys;

/// <summary>Limits of the unwrapped data-key cache.</summary>
public sealed class DataKeyCacheOptions
{
    /// <summary>How long an unwrapped key stays in memory after it was unwrapped. Default 5 minutes.</summary>
    public TimeSpan TimeToLive { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>The most keys held at once; the least recently used goes first. Default 10,000.</summary>
    public int MaxEntries { get; set; } = 10_000;
}

/// <summary>
/// A bounded, time-limited cache of unwrapped data keys, so that the key vault sees about one
/// unwrap per owner per time-to-live. Evicted and expired keys are disposed, which zeroes them.
/// </summary>
/// <remarks>
/// Written here rather than taken from Microsoft.Extensions.Caching.Memory because that cache
/// enforces its size limit and expiry lazily (by compaction on a later access), and a key must
/// be zeroed promptly and the entry count must hold exactly.
/// </remarks>
public sealed class DataKeyCache : IDisposable
{
    private readonly DataKeyCacheOptions _options;
    private readonly TimeProvider _clock;
    private readonly Dictionary<string, LinkedListNode<Entry>> _entries = new(StringComparer.Ordinal);
    private readonly LinkedList<Entry> _recency = new();
    private readonly Lock _gate = new();
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, Lazy<Task<DataKey?>>> _loading = new(StringComparer.Ordinal);
    // Bumped by Remove: a load that started before an erasure must not cache what it unwrapped.
    private readonly Dictionary<string, long> _epochs = new(StringComparer.Ordinal);
    private DateTimeOffset _lastSweep = DateTimeOffset.MinValue;

    private sealed record Entry(string OwnerId, DataKey Key, DateTimeOffset ExpiresAt);

    /// <summary>Creates the cache.</summary>
    /// <param name="options">Its limits.</param>
    /// <param name="clock">The time source (tests move it).</param>
    public DataKeyCache(DataKeyCacheOptions options, TimeProvider clock)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(clock);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxEntries, 1);
        _options = options;
        _clock = clock;
    }

    /// <summary>How many keys are cached now.</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _entries.Count;
            }
        }
    }

    /// <summary>The owner's cached key, or null when absent or expired.</summary>
    /// <param name="ownerId">The owner.</param>
    /// <returns>The key or null.</returns>
    public DataKey? Get(string ownerId)
    {
        DataKey? expired = null;
        try
        {
            lock (_gate)
            {
                if (!_entries.TryGetValue(ownerId, out var node))
                {
                    return null;
                }

                if (node.Value.ExpiresAt <= _clock.GetUtcNow() || node.Value.Key.IsDisposed)
                {
                    RemoveNode(node);
                    expired = node.Value.Key;
                    return null;
                }

                _recency.Remove(node);
                _recency.AddFirst(node);
                return node.Value.Key;
            }
        }
        finally
        {
            expired?.Dispose();
        }
    }

    /// <summary>
    /// The owner's cached key, else the result of <paramref name="load"/>, which is cached. Concurrent
    /// callers for one owner share a single load, so one owner costs one unwrap however many
    /// requests arrive together.
    /// </summary>
    /// <param name="ownerId">The owner.</param>
    /// <param name="load">Reads and unwraps the key; null when the owner has none.</param>
    /// <returns>The key or null.</returns>
    public async Task<DataKey?> GetOrLoadAsync(string ownerId, Func<Task<DataKey?>> load)
    {
        ArgumentNullException.ThrowIfNull(load);
        var cached = Get(ownerId);
        if (cached is not null)
        {
            return cached;
        }

        var shared = _loading.GetOrAdd(ownerId, _ => new Lazy<Task<DataKey?>>(async () =>
        {
            // Another caller's load may have finished between our miss and this load starting.
            var again = Get(ownerId);
            if (again is not null)
            {
                return again;
            }

            var epoch = EpochOf(ownerId);
            var key = await load().ConfigureAwait(false);
            if (key is not null && !SetIfEpoch(key, epoch))
            {
                // The owner was erased while its key was being unwrapped: never bring it back.
                key.Dispose();
                throw new OwnerErasedException("The owner was erased while its key was being loaded.");
            }

            return key;
        }));
        try
        {
            return await shared.Value.ConfigureAwait(false);
        }
        finally
        {
            _loading.TryRemove(new KeyValuePair<string, Lazy<Task<DataKey?>>>(ownerId, shared));
        }
    }

    /// <summary>Caches a key (replacing any other for the owner), evicting the least recently used beyond the limit.</summary>
    /// <param name="key">The key; the cache disposes it when it leaves.</param>
    public void Set(DataKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        SetIfEpoch(key, null);
    }

    private long EpochOf(string ownerId)
    {
        lock (_gate)
        {
            return _epochs.GetValueOrDefault(ownerId);
        }
    }

    private bool SetIfEpoch(DataKey key, long? expectedEpoch)
    {
        var leaving = new List<DataKey>();
        lock (_gate)
        {
            if (expectedEpoch is { } epoch && _epochs.GetValueOrDefault(key.OwnerId) != epoch)
            {
                return false;
            }

            SweepExpired(leaving);
            if (_entries.TryGetValue(key.OwnerId, out var existing))
            {
                RemoveNode(existing);
                if (!ReferenceEquals(existing.Value.Key, key))
                {
                    leaving.Add(existing.Value.Key);
                }
            }

            var node = _recency.AddFirst(new Entry(key.OwnerId, key, _clock.GetUtcNow() + _options.TimeToLive));
            _entries[key.OwnerId] = node;
            while (_entries.Count > _options.MaxEntries)
            {
                var last = _recency.Last!;
                RemoveNode(last);
                leaving.Add(last.Value.Key);
            }
        }

        leaving.ForEach(k => k.Dispose());
        return true;
    }

    /// <summary>Drops expired keys (so a key nobody reads again is zeroed too), at most twice per time-to-live.</summary>
    private void SweepExpired(List<DataKey> leaving)
    {
        var now = _clock.GetUtcNow();
        if (now - _lastSweep < _options.TimeToLive / 2)
        {
            return;
        }

        _lastSweep = now;
        for (var node = _recency.First; node is not null;)
        {
            var next = node.Next;
            if (node.Value.ExpiresAt <= now)
            {
                RemoveNode(node);
                leaving.Add(node.Value.Key);
            }

            node = next;
        }
    }

    /// <summary>
    /// Drops and zeroes the owner's key (erasure, or a key that failed to open data). A load of the
    /// owner's key already under way will not put it back.
    /// </summary>
    /// <param name="ownerId">The owner.</param>
    public void Remove(string ownerId)
    {
        DataKey? leaving = null;
        lock (_gate)
        {
            _epochs[ownerId] = _epochs.GetValueOrDefault(ownerId) + 1;
            if (_entries.TryGetValue(ownerId, out var node))
            {
                RemoveNode(node);
                leaving = node.Value.Key;
            }
        }

        leaving?.Dispose();
    }

    /// <summary>Zeroes every cached key.</summary>
    public void Dispose()
    {
        List<DataKey> all;
        lock (_gate)
        {
            all = _recency.Select(e => e.Key).ToList();
            _entries.Clear();
            _recency.Clear();
        }

        all.ForEach(k => k.Dispose());
    }

    private void RemoveNode(LinkedListNode<Entry> node)
    {
        _entries.Remove(node.Value.OwnerId);
        _recency.Remove(node);
    }
}
