namespace Exchange.Crypto.Keys;

/// <summary>
/// A data key as it is stored: never in the clear, only wrapped by a key-encryption key whose
/// id (with version) and algorithm sit beside it.
/// </summary>
/// <param name="OwnerId">Whose data the key protects: a child id (or a review case id).</param>
/// <param name="KeyId">8 random bytes naming this data key inside sealed values.</param>
/// <param name="Version">The data key's version for its owner (1 for the first).</param>
/// <param name="KekKeyId">The wrapping KEK's id, including its version.</param>
/// <param name="Algorithm">The wrap algorithm.</param>
/// <param name="WrappedKey">The wrapped key bytes (empty for a tombstone).</param>
/// <param name="IsErased">A tombstone: the owner was crypto-shredded; no key may ever be made for it again.</param>
public sealed record WrappedDataKey(string OwnerId, byte[] KeyId, int Version, string KekKeyId, string Algorithm, byte[] WrappedKey, bool IsErased = false)
{
    /// <summary>The tombstone left for an erased owner.</summary>
    /// <param name="ownerId">The owner.</param>
    /// <returns>A record with no key material.</returns>
    public static WrappedDataKey Tombstone(string ownerId) => new(ownerId, new byte[DataKey.KeyIdSize], 0, "", "", [], IsErased: true);
}

/// <summary>Where wrapped data keys are kept (the service's database; in memory for tools and benchmarks).</summary>
public interface IDataKeyStore
{
    /// <summary>The owner's data key (or its tombstone when erased), or null when it never had one.</summary>
    /// <param name="ownerId">The owner.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The wrapped key or null.</returns>
    Task<WrappedDataKey?> FindAsync(string ownerId, CancellationToken cancellationToken);

    /// <summary>Stores the key unless the owner already has one (or a tombstone); returns whichever is stored (a concurrent creator may win).</summary>
    /// <param name="key">The new wrapped key.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>The stored key.</returns>
    Task<WrappedDataKey> AddIfAbsentAsync(WrappedDataKey key, CancellationToken cancellationToken);

    /// <summary>
    /// Crypto-shreds the owner: replaces its wrapped key by a tombstone (no key material), so the
    /// owner is known to be erased and no new key is ever made for it. True when a live key existed.
    /// </summary>
    /// <param name="ownerId">The owner.</param>
    /// <param name="cancellationToken">Cancels the delete.</param>
    /// <returns>Whether a key was deleted.</returns>
    Task<bool> DeleteAsync(string ownerId, CancellationToken cancellationToken);

    /// <summary>Up to <paramref name="max"/> live keys (not tombstones) not wrapped by <paramref name="kekKeyId"/>.</summary>
    /// <param name="kekKeyId">The current KEK id.</param>
    /// <param name="max">Batch size.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>Keys to re-wrap.</returns>
    Task<IReadOnlyList<WrappedDataKey>> ListNotWrappedByAsync(string kekKeyId, int max, CancellationToken cancellationToken);

    /// <summary>
    /// Replaces the wrapping of one key if it is still wrapped by <paramref name="expectedKekKeyId"/>
    /// (so a concurrent rotation or erasure is never overwritten). True when replaced.
    /// </summary>
    /// <param name="ownerId">The owner.</param>
    /// <param name="expectedKekKeyId">The KEK id the key was read with.</param>
    /// <param name="rewrapped">The same data key wrapped by the new KEK.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>Whether the row was replaced.</returns>
    Task<bool> ReplaceWrappingAsync(string ownerId, string expectedKekKeyId, WrappedDataKey rewrapped, CancellationToken cancellationToken);

    /// <summary>How many live data keys each KEK id wraps (tombstones are not counted).</summary>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>KEK id to count.</returns>
    Task<IReadOnlyDictionary<string, int>> CountByKekAsync(CancellationToken cancellationToken);
}
