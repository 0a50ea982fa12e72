using System.Collections.Concurrent;

namespace Exchange.Crypto.Keys;

/// <summary>A non-durable <see cref="IDataKeyStore"/> for command-line tools, benchmarks and library tests.</summary>
public sealed class InMemoryDataKeyStore : IDataKeyStore
{
    private readonly ConcurrentDictionary<string, WrappedDataKey> _keys = new(StringComparer.Ordinal);

    /// <inheritdoc />
    public Task<WrappedDataKey?> FindAsync(string ownerId, CancellationToken cancellationToken) =>
        Task.FromResult(_keys.TryGetValue(ownerId, out var key) ? key : null);

    /// <inheritdoc />
    public Task<WrappedDataKey> AddIfAbsentAsync(WrappedDataKey key, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        return Task.FromResult(_keys.GetOrAdd(key.OwnerId, key));
    }

    /// <inheritdoc />
    public Task<bool> DeleteAsync(string ownerId, CancellationToken cancellationToken)
    {
        var hadLiveKey = _keys.TryGetValue(ownerId, out var existing) && !existing.IsErased;
        _keys[ownerId] = WrappedDataKey.Tombstone(ownerId);
        return Task.FromResult(hadLiveKey);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<WrappedDataKey>> ListNotWrappedByAsync(string kekKeyId, int max, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<WrappedDataKey>>(_keys.Values.Where(k => !k.IsErased && k.KekKeyId != kekKeyId).Take(max).ToList());

    /// <inheritdoc />
    public Task<bool> ReplaceWrappingAsync(string ownerId, string expectedKekKeyId, WrappedDataKey rewrapped, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(rewrapped);
        return Task.FromResult(_keys.TryGetValue(ownerId, out var current) && !current.IsErased && current.KekKeyId == expectedKekKeyId
            && _keys.TryUpdate(ownerId, rewrapped, current));
    }

    /// <inheritdoc />
    public Task<IReadOnlyDictionary<string, int>> CountByKekAsync(CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyDictionary<string, int>>(_keys.Values.Where(k => !k.IsErased).GroupBy(k => k.KekKeyId).ToDictionary(g => g.Key, g => g.Count()));
}
