using Exchange.Api.Work;
using Exchange.Api.Storage;
using Exchange.Crypto.Keys;
using Microsoft.EntityFrameworkCore;

namespace Exchange.Api.Keys;

/// <summary>
/// Data keys in the service's database, through the request's own DbContext and unit of work, so that a key
/// created while registering a child commits (or rolls back) with the child. A key written when no unit of work is
/// open (a key made while sealing, before the request's write begins) gets one of its own.
/// </summary>
internal sealed class EfDataKeyStore(ExchangeDbContext db, UnitOfWork work, TimeProvider clock) : IDataKeyStore
{
    private async Task<T> InWorkAsync<T>(Func<Task<T>> write, CancellationToken ct)
    {
        if (work.IsOpen)
        {
            return await write().ConfigureAwait(false);
        }

        await work.BeginAsync(ct).ConfigureAwait(false);
        try
        {
            var result = await write().ConfigureAwait(false);
            // Key material, not a request's effect: the request's own write (or its end) records the event.
            await work.CommitAsync(Outcome.Background, ct).ConfigureAwait(false);
            return result;
        }
        finally
        {
            await work.RollbackAsync(CancellationToken.None).ConfigureAwait(false); // nothing, once committed
        }
    }

    public async Task<WrappedDataKey?> FindAsync(string ownerId, CancellationToken cancellationToken)
    {
        var row = await db.DataKeys.AsNoTracking().FirstOrDefaultAsync(k => k.OwnerId == ownerId, cancellationToken).ConfigureAwait(false);
        return row is null ? null : ToWrapped(row);
    }

    public Task<WrappedDataKey> AddIfAbsentAsync(WrappedDataKey key, CancellationToken cancellationToken) =>
        InWorkAsync(() => AddInWorkAsync(key, cancellationToken), cancellationToken);

    private async Task<WrappedDataKey> AddInWorkAsync(WrappedDataKey key, CancellationToken cancellationToken)
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
        await work.FlushAsync(cancellationToken).ConfigureAwait(false);
        db.Entry(row).State = EntityState.Detached;
        return key;
    }

    public Task<bool> DeleteAsync(string ownerId, CancellationToken cancellationToken) =>
        InWorkAsync(() => DeleteInWorkAsync(ownerId, cancellationToken), cancellationToken);

    private async Task<bool> DeleteInWorkAsync(string ownerId, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var tombstone = WrappedDataKey.Tombstone(ownerId);
        // The row stays as a tombstone: its key material is overwritten, and its presence says "erased".
        var hadLiveKey = await work.UpdateAsync(db.DataKeys.Where(k => k.OwnerId == ownerId && k.ErasedAt == null), u => u
                .SetProperty(k => k.WrappedKey, tombstone.WrappedKey)
                .SetProperty(k => k.KeyId, tombstone.KeyId)
                .SetProperty(k => k.KekKeyId, tombstone.KekKeyId)
                .SetProperty(k => k.Algorithm, tombstone.Algorithm)
                .SetProperty(k => k.ErasedAt, now), cancellationToken).ConfigureAwait(false) == 1;
        if (!hadLiveKey && !await db.DataKeys.AnyAsync(k => k.OwnerId == ownerId, cancellationToken).ConfigureAwait(false))
        {
            db.DataKeys.Add(new DataKeyRecord
            {
                OwnerId = ownerId, KeyId = tombstone.KeyId, KekKeyId = "", Algorithm = "", WrappedKey = [], CreatedAt = now, ErasedAt = now,
            });
            await work.FlushAsync(cancellationToken).ConfigureAwait(false);
        }

        return hadLiveKey;
    }

    public async Task<IReadOnlyList<WrappedDataKey>> ListNotWrappedByAsync(string kekKeyId, int max, CancellationToken cancellationToken) =>
        (await db.DataKeys.AsNoTracking().Where(k => k.ErasedAt == null && k.KekKeyId != kekKeyId).OrderBy(k => k.OwnerId).Take(max)
            .ToListAsync(cancellationToken).ConfigureAwait(false)).Select(ToWrapped).ToList();

    public Task<bool> ReplaceWrappingAsync(string ownerId, string expectedKekKeyId, WrappedDataKey rewrapped, CancellationToken cancellationToken) =>
        InWorkAsync(() => ReplaceInWorkAsync(ownerId, expectedKekKeyId, rewrapped, cancellationToken), cancellationToken);

    private async Task<bool> ReplaceInWorkAsync(string ownerId, string expectedKekKeyId, WrappedDataKey rewrapped, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        // Conditional update: a key erased or rotated by someone else since it was read is left alone.
        return await work.UpdateAsync(db.DataKeys
            .Where(k => k.OwnerId == ownerId && k.ErasedAt == null && k.KekKeyId == expectedKekKeyId), u => u
                .SetProperty(k => k.KekKeyId, rewrapped.KekKeyId)
                .SetProperty(k => k.Algorithm, rewrapped.Algorithm)
                .SetProperty(k => k.WrappedKey, rewrapped.WrappedKey)
                .SetProperty(k => k.RewrappedAt, now), cancellationToken).ConfigureAwait(false) == 1;
    }

    public async Task<IReadOnlyDictionary<string, int>> CountByKekAsync(CancellationToken cancellationToken) =>
        await db.DataKeys.AsNoTracking().Where(k => k.ErasedAt == null).GroupBy(k => k.KekKeyId).Select(g => new { g.Key, Count = g.Count() })
            .ToDictionaryAsync(g => g.Key, g => g.Count, cancellationToken).ConfigureAwait(false);

    private static WrappedDataKey ToWrapped(DataKeyRecord row) =>
        new(row.OwnerId, row.KeyId, row.Version, row.KekKeyId, row.Algorithm, row.WrappedKey, IsErased: row.ErasedAt != null);
}
