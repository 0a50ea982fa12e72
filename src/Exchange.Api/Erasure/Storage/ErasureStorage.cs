using Exchange.Api.Storage;
using Microsoft.EntityFrameworkCore;

namespace Exchange.Api.Erasure.Storage;

/// <summary>
/// Makes erasure reach the bytes on disk where the database allows it. SQLite: every connection
/// runs with <c>secure_delete</c> (freed pages are zeroed; Storage's <c>SqliteSecureDeleteInterceptor</c>) and an
/// erasure checkpoints and truncates the write-ahead log, so neither the old wrapped key nor the sealed copies linger in the file.
/// PostgreSQL keeps dead row versions until VACUUM, and backups keep what they had: there the
/// erasure of old copies rests on retiring the KEK version that wrapped the key (docs/SENSITIVE-FIELDS.md).
/// </summary>
public sealed class ErasureStorage(ExchangeDbContext db)
{
    public async Task AfterErasureAsync(CancellationToken ct)
    {
        if (db.Database.IsSqlite())
        {
            await db.Database.ExecuteSqlRawAsync("PRAGMA wal_checkpoint(TRUNCATE);", ct).ConfigureAwait(false);
        }
    }
}
