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
/// <param name="WrappedKey">The wrapped key bytes.</param>
public sealed record WrappedDataKey(string OwnerId, byte[] KeyId, int Version, string KekKeyId, string Algorithm, byte[] WrappedKey);

/// <summary>Where wrapped data keys are kept (the service's database; in memory for tools and benchmarks).</summary>
public interface IDataKeyStore
{
    /// <summary>The owner's data key, or null when it has none (never had one, or it was erased).</summary>
    /// <param name="ownerId">The owner.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The wrapped key or null.</returns>
    Task<WrappedDataKey?> FindAsync(string ownerId, CancellationToken cancellationToken);

    /// <summary>Stores the key unless the owner already has one; returns whichever is stored (a concurrent creator may win).</summary>
    /// <param name="key">The new wrapped key.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>The stored key.</returns>
    Task<WrappedDataKey> AddIfAbsentAsync(WrappedDataKey key, CancellationToken cancellationToken);

    /// <summary>Deletes the owner's data key (crypto-shredding). True when there was one.</summary>
    /// <param name="ownerId">The owner.</param>
    /// <param name="cancellationToken">Cancels the delete.</param>
    /// <returns>Whether a key was deleted.</returns>
    Task<bool> DeleteAsync(string ownerId, CancellationToken cancellationToken);

    /// <summary>Up to <paramref name="max"/> keys not wrapped by <paramref name="kekKeyId"/>.</summary>
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

    /// <summary>How many data keys each KEK id wraps.</summary>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>KEK id to count.</returns>
    Task<IReadOnlyDictionary<string, int>> CountByKekAsync(CancellationToken cancellationToken);
}
