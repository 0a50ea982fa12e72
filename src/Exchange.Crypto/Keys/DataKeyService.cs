using System.Security.Cryptography;

namespace Exchange.Crypto.Keys;

/// <summary>Where a key rotation stands: how many data keys each KEK version wraps.</summary>
/// <param name="CurrentKekKeyId">The KEK new and rotated keys are wrapped with.</param>
/// <param name="Moved">Keys moved to the current KEK by this run.</param>
/// <param name="Remaining">Keys still wrapped by older KEK versions.</param>
/// <param name="KeysByKek">KEK id (with version) to number of data keys.</param>
/// <param name="Failed">Keys this run could not move because they failed their integrity check.</param>
public sealed record KeyRotationReport(string CurrentKekKeyId, int Moved, int Remaining, IReadOnlyDictionary<string, int> KeysByKek, int Failed = 0);

/// <summary>
/// Per-owner (per-child) data keys: created on first need, stored only wrapped by the current
/// key-encryption key, unwrapped at most once per owner per cache lifetime (concurrent readers
/// share one unwrap), re-wrapped by rotation, and deleted to crypto-shred. Cheap to create: the
/// cache is the shared state, so a host may build one service per unit of work around a store
/// that joins that unit's database transaction.
/// </summary>
public sealed class DataKeyService
{
    private readonly IDataKeyStore _store;
    private readonly IKeyEncryptionKeyProvider _keks;
    private readonly DataKeyCache _cache;

    /// <summary>Creates the service.</summary>
    /// <param name="store">Where wrapped keys are kept.</param>
    /// <param name="keks">The key-encryption keys.</param>
    /// <param name="cache">The unwrapped-key cache.</param>
    public DataKeyService(IDataKeyStore store, IKeyEncryptionKeyProvider keks, DataKeyCache cache)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(keks);
        ArgumentNullException.ThrowIfNull(cache);
        _store = store;
        _keks = keks;
        _cache = cache;
    }

    /// <summary>The owner's key when it is in the cache: the synchronous fast path of every read and write.</summary>
    /// <param name="ownerId">The owner.</param>
    /// <returns>The cached key or null.</returns>
    public DataKey? TryGetCached(string ownerId) => _cache.Get(ownerId);

    /// <summary>The owner's data key, or null when the owner never had one.</summary>
    /// <param name="ownerId">The owner.</param>
    /// <param name="cancellationToken">Cancels the wait (a load shared with other callers runs to its end).</param>
    /// <returns>The key or null.</returns>
    /// <exception cref="OwnerErasedException">The owner was crypto-shredded.</exception>
    /// <exception cref="KeyProviderUnavailableException">The key is not cached and the KEK provider cannot be reached.</exception>
    public async Task<DataKey?> GetAsync(string ownerId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(ownerId);
        // The load may be shared with other requests: one caller going away must not cancel theirs.
        return await _cache.GetOrLoadAsync(ownerId, () => LoadAsync(ownerId, CancellationToken.None)).ConfigureAwait(false);
    }

    /// <summary>
    /// The owner's key unwrapped for this caller alone, bypassing the cache (which a burst of other
    /// owners may be churning). The caller disposes it. Null when the owner has no key.
    /// </summary>
    /// <param name="ownerId">The owner.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <returns>A private key or null.</returns>
    public Task<DataKey?> GetUncachedAsync(string ownerId, CancellationToken cancellationToken = default) =>
        LoadAsync(ownerId, cancellationToken);

    /// <summary>The owner's data key, created (and stored wrapped) when it has none yet.</summary>
    /// <param name="ownerId">The owner.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <returns>The key.</returns>
    public async Task<DataKey> GetOrCreateAsync(string ownerId, CancellationToken cancellationToken = default)
    {
        var existing = await GetAsync(ownerId, cancellationToken).ConfigureAwait(false);
        if (existing is not null)
        {
            return existing;
        }

        var material = RandomNumberGenerator.GetBytes(32);
        WrappedDataKey candidate, stored;
        try
        {
            var kek = await _keks.GetCurrentAsync(cancellationToken).ConfigureAwait(false);
            var wrapped = await Wrap(kek, material, cancellationToken).ConfigureAwait(false);
            candidate = new WrappedDataKey(ownerId, RandomNumberGenerator.GetBytes(DataKey.KeyIdSize), 1, kek.KeyId, _keks.WrapAlgorithm, wrapped);
            stored = await _store.AddIfAbsentAsync(candidate, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            CryptographicOperations.ZeroMemory(material);
            throw;
        }

        if (stored.IsErased)
        {
            CryptographicOperations.ZeroMemory(material);
            throw new OwnerErasedException("The owner was erased; no new data key is made for it.");
        }

        if (!ReferenceEquals(stored, candidate) && !stored.KeyId.AsSpan().SequenceEqual(candidate.KeyId))
        {
            // Another writer created the owner's key first: use theirs.
            CryptographicOperations.ZeroMemory(material);
            return await GetAsync(ownerId, cancellationToken).ConfigureAwait(false)
                ?? throw new InvalidOperationException("The data key vanished while it was being created.");
        }

        var key = new DataKey(ownerId, stored.KeyId, stored.Version, material);
        _cache.Set(key);
        return key;
    }

    /// <summary>
    /// Makes and wraps a new data key for an owner without storing it: the KEK call (a network
    /// round trip to Key Vault) can then happen before the caller takes its write lock or opens its
    /// transaction, and <see cref="AdoptAsync"/> stores it inside them. Dispose what is not adopted.
    /// </summary>
    /// <param name="ownerId">The owner the key is for.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <returns>The prepared key.</returns>
    public async Task<PreparedDataKey> PrepareAsync(string ownerId, CancellationToken cancellationToken = default)
    {
        var material = RandomNumberGenerator.GetBytes(32);
        try
        {
            var kek = await _keks.GetCurrentAsync(cancellationToken).ConfigureAwait(false);
            var wrapped = await Wrap(kek, material, cancellationToken).ConfigureAwait(false);
            return new PreparedDataKey(new WrappedDataKey(ownerId, RandomNumberGenerator.GetBytes(DataKey.KeyIdSize), 1, kek.KeyId, _keks.WrapAlgorithm, wrapped), material);
        }
        catch
        {
            CryptographicOperations.ZeroMemory(material);
            throw;
        }
    }

    /// <summary>Stores a prepared key (unless the owner already has one) and caches it; no KEK call.</summary>
    /// <param name="prepared">From <see cref="PrepareAsync"/>.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>The owner's key.</returns>
    public async Task<DataKey> AdoptAsync(PreparedDataKey prepared, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(prepared);
        if (prepared.IsSpent)
        {
            throw new InvalidOperationException("The prepared key was already adopted or disposed.");
        }

        var stored = await _store.AddIfAbsentAsync(prepared.Wrapped, cancellationToken).ConfigureAwait(false);
        if (stored.IsErased)
        {
            throw new OwnerErasedException("The owner was erased; no new data key is made for it.");
        }

        if (!stored.KeyId.AsSpan().SequenceEqual(prepared.Wrapped.KeyId))
        {
            return await GetAsync(prepared.Wrapped.OwnerId, cancellationToken).ConfigureAwait(false)
                ?? throw new InvalidOperationException("The data key vanished while it was being adopted.");
        }

        var key = new DataKey(prepared.Wrapped.OwnerId, stored.KeyId, stored.Version, prepared.TakeMaterial());
        _cache.Set(key);
        return key;
    }

    /// <summary>
    /// Crypto-shreds the owner: replaces its data key by a tombstone, so every value sealed under it
    /// can no longer be opened and no new key is made for it. Copies of the wrapped key made before
    /// (backups, old database pages) die with the KEK version that wrapped them. True when a key existed.
    /// Call <see cref="ForgetCached"/> again once the caller's transaction has committed.
    /// </summary>
    /// <param name="ownerId">The owner.</param>
    /// <param name="cancellationToken">Cancels the delete.</param>
    /// <returns>Whether a key was deleted.</returns>
    public async Task<bool> EraseAsync(string ownerId, CancellationToken cancellationToken = default)
    {
        var deleted = await _store.DeleteAsync(ownerId, cancellationToken).ConfigureAwait(false);
        _cache.Remove(ownerId);
        return deleted;
    }

    /// <summary>
    /// Drops the owner's key from this process's cache. After an erasure commits, this closes the
    /// window in which another request read the key before the commit and cached it.
    /// </summary>
    /// <param name="ownerId">The owner.</param>
    public void ForgetCached(string ownerId) => _cache.Remove(ownerId);

    /// <summary>
    /// Moves up to <paramref name="batchSize"/> data keys from older KEK versions to the current
    /// one. Safe while the service runs (each key is replaced only if nobody changed it since it
    /// was read) and resumable (what remains is simply what is not on the current KEK yet).
    /// </summary>
    /// <param name="batchSize">The most keys to move in this call.</param>
    /// <param name="cancellationToken">Cancels between keys.</param>
    /// <returns>The report after the batch.</returns>
    public async Task<KeyRotationReport> RewrapAsync(int batchSize, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        var current = await _keks.GetCurrentAsync(cancellationToken).ConfigureAwait(false);
        var moved = 0;
        var failed = 0;
        foreach (var old in await _store.ListNotWrappedByAsync(current.KeyId, batchSize, cancellationToken).ConfigureAwait(false))
        {
            cancellationToken.ThrowIfCancellationRequested();
            // Not a try/catch around an unassigned local: Stryker drops every mutant of a method in which one mutant
            // does not compile, and removing the `continue` would leave the local unassigned (CS0165).
            var material = await UnwrapOrNullIfDamagedAsync(old, cancellationToken).ConfigureAwait(false);
            if (material is null)
            {
                // A damaged row must not stop the rotation of every other key; it is reported and stays.
                failed++;
                continue;
            }

            try
            {
                var rewrapped = old with
                {
                    KekKeyId = current.KeyId,
                    Algorithm = _keks.WrapAlgorithm,
                    WrappedKey = await Wrap(current, material, cancellationToken).ConfigureAwait(false),
                };
                if (await _store.ReplaceWrappingAsync(old.OwnerId, old.KekKeyId, rewrapped, cancellationToken).ConfigureAwait(false))
                {
                    moved++;
                }
            }
            finally
            {
                CryptographicOperations.ZeroMemory(material);
            }
        }

        return await ReportAsync(moved, cancellationToken).ConfigureAwait(false) with { Failed = failed };
    }

    private async Task<byte[]?> UnwrapOrNullIfDamagedAsync(WrappedDataKey wrapped, CancellationToken cancellationToken)
    {
        try
        {
            return await Unwrap(wrapped, cancellationToken).ConfigureAwait(false);
        }
        catch (WrappedKeyIntegrityException)
        {
            return null;
        }
    }

    /// <summary>How many data keys each KEK version wraps.</summary>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The report.</returns>
    public Task<KeyRotationReport> ReportAsync(CancellationToken cancellationToken = default) => ReportAsync(0, cancellationToken);

    private async Task<KeyRotationReport> ReportAsync(int moved, CancellationToken cancellationToken)
    {
        var current = await _keks.GetCurrentAsync(cancellationToken).ConfigureAwait(false);
        var counts = await _store.CountByKekAsync(cancellationToken).ConfigureAwait(false);
        return new KeyRotationReport(current.KeyId, moved, counts.Where(c => c.Key != current.KeyId).Sum(c => c.Value), counts);
    }

    private async Task<DataKey?> LoadAsync(string ownerId, CancellationToken cancellationToken)
    {
        var wrapped = await _store.FindAsync(ownerId, cancellationToken).ConfigureAwait(false);
        if (wrapped is null)
        {
            return null;
        }

        if (wrapped.IsErased)
        {
            throw new OwnerErasedException("The owner was erased.");
        }

        return new DataKey(ownerId, wrapped.KeyId, wrapped.Version, await Unwrap(wrapped, cancellationToken).ConfigureAwait(false));
    }

    private async Task<byte[]> Unwrap(WrappedDataKey wrapped, CancellationToken cancellationToken)
    {
        if (wrapped.Algorithm != _keks.WrapAlgorithm || wrapped.KeyId.Length != DataKey.KeyIdSize)
        {
            throw new WrappedKeyIntegrityException("The stored data key names a wrap algorithm or key id this provider does not use.") { OwnerId = wrapped.OwnerId };
        }

        var kek = await _keks.ResolveAsync(wrapped.KekKeyId, cancellationToken).ConfigureAwait(false);
        byte[] material;
        try
        {
            material = await kek.UnwrapKeyAsync(wrapped.Algorithm, wrapped.WrappedKey, cancellationToken).ConfigureAwait(false);
        }
        catch (WrappedKeyIntegrityException ex)
        {
            throw new WrappedKeyIntegrityException(ex.Message, ex) { OwnerId = wrapped.OwnerId };
        }

        if (material.Length != 32)
        {
            CryptographicOperations.ZeroMemory(material);
            throw new WrappedKeyIntegrityException("The unwrapped data key has the wrong length.") { OwnerId = wrapped.OwnerId };
        }

        return material;
    }

    private Task<byte[]> Wrap(Azure.Core.Cryptography.IKeyEncryptionKey kek, byte[] material, CancellationToken cancellationToken) =>
        kek.WrapKeyAsync(_keks.WrapAlgorithm, material, cancellationToken);
}

/// <summary>A new data key, wrapped but not yet stored (see <see cref="DataKeyService.PrepareAsync"/>). Zeroed on dispose.</summary>
public sealed class PreparedDataKey : IDisposable
{
    private byte[]? _material;

    internal PreparedDataKey(WrappedDataKey wrapped, byte[] material)
    {
        Wrapped = wrapped;
        _material = material;
    }

    /// <summary>The wrapped form that will be stored.</summary>
    public WrappedDataKey Wrapped { get; }

    /// <summary>True once adopted (or disposed): its material now belongs to a cached key, or is gone.</summary>
    public bool IsSpent => Volatile.Read(ref _material) is null;

    internal byte[] TakeMaterial() => Interlocked.Exchange(ref _material, null) ?? throw new InvalidOperationException("The prepared key was already adopted or disposed.");

    /// <summary>Zeroes the key unless it was adopted.</summary>
    public void Dispose()
    {
        var material = Interlocked.Exchange(ref _material, null);
        if (material is not null)
        {
            CryptographicOperations.ZeroMemory(material);
        }
    }
}
