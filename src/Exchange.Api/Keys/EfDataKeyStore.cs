using Exchange.Api.Storage;
using Exchange.Crypto.Keys;
using Microsoft.EntityFrameworkCore;

namespace Exchange.Api.Keys;

/// <summary>
/// Data keys in the service's database, through the request's own DbContext, so that a key
/// created while registering a child commits (or rolls back) with the child.
/// </summary>
internal sealed class EfDataKeyStore(ExchangeDbContext db, TimeProvider clock) : IDataKeyStore
{
    public async Task<WrappedDataKey?> FindAsync(string ownerId, CancellationToken cancellationToken)
    {
        var row = await db.DataKeys.AsNoTracking().FirstOrDefaultAsync(k => k.OwnerId == ownerId, cancellationToken).ConfigureAwait(false);
        return row is null ? null : ToWrapped(row);
    }

    public async Task<WrappedDataKey> AddIfAbsentAsync(WrappedDataKey key, CancellationToken cancellationToken)
    {
        var existing = await FindAsync(key.OwnerId, cancellationToken).ConfigureAwait(false);
        if (existing is not null)
        {
            return existing;
        }

        var row = new DataKeyRecord
        {
            OwnerId = key.OwnerId,
            KeyId = key.KeyId,
            Version = key.Version,
            KekKeyId = key.KekKeyId,
            Algorithm = key.Algorithm,
            WrappedKey = key.WrappedKey,
            CreatedAt = clock.GetUtcNow(),
        };
        db.DataKeys.Add(row);
        // A concurrent creator makes this fail on the primary key; the caller's unit of work retries.
        await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
        db.Entry(row).State = EntityState.Detached;
        return key;
    }

    public async Task<bool> DeleteAsync(string ownerId, CancellationToken cancellationToken) =>
        await db.DataKeys.Where(k => k.OwnerId == ownerId).ExecuteDeleteAsync(cancellationToken).ConfigureAwait(false) > 0;

    public async Task<IReadOnlyList<WrappedDataKey>> ListNotWrappedByAsync(string kekKeyId, int max, CancellationToken cancellationToken) =>
        (await db.DataKeys.AsNoTracking().Where(k => k.KekKeyId != kekKeyId).OrderBy(k => k.OwnerId).Take(max)
            .ToListAsync(cancellationToken).ConfigureAwait(false)).Select(ToWrapped).ToList();

    public async Task<bool> ReplaceWrappingAsync(string ownerId, string expectedKekKeyId, WrappedDataKey rewrapped, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        // Conditional update: a key erased or rotated by someone else since it was read is left alone.
        return await db.DataKeys
            .Where(k => k.OwnerId == ownerId && k.KekKeyId == expectedKekKeyId)
            .ExecuteUpdateAsync(u => u
                .SetProperty(k => k.KekKeyId, rewrapped.KekKeyId)
                .SetProperty(k => k.Algorithm, rewrapped.Algorithm)
                .SetProperty(k => k.WrappedKey, rewrapped.WrappedKey)
                .SetProperty(k => k.RewrappedAt, now), cancellationToken).ConfigureAwait(false) == 1;
    }

    public async Task<IReadOnlyDictionary<string, int>> CountByKekAsync(CancellationToken cancellationToken) =>
        await db.DataKeys.AsNoTracking().GroupBy(k => k.KekKeyId).Select(g => new { g.Key, Count = g.Count() })
            .ToDictionaryAsync(g => g.Key, g => g.Count, cancellationToken).ConfigureAwait(false);

    private static WrappedDataKey ToWrapped(DataKeyRecord row) =>
        new(row.OwnerId, row.KeyId, row.Version, row.KekKeyId, row.Algorithm, row.WrappedKey);
}
