using Microsoft.EntityFrameworkCore;

namespace Exchange.Api.Auditing.Storage;

/// <summary>Makes short-lived contexts on the audit store; the log's writer and readers are not tied to a request.</summary>
public sealed class AuditDatabase(Func<AuditDbContext> create, bool isSqlite)
{
    public bool IsSqlite { get; } = isSqlite;

    public AuditDbContext Create() => create();

    /// <summary>Applies the audit store's migrations (after the main database's: see <c>DatabaseInitializer</c>).</summary>
    public async Task MigrateAsync(CancellationToken cancellationToken)
    {
        await using var db = Create();
        await db.Database.MigrateAsync(cancellationToken).ConfigureAwait(false);
        if (IsSqlite)
        {
            // WAL: DPO reads proceed while the writer commits. The mode is stored in the file.
            await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", cancellationToken).ConfigureAwait(false);
        }
    }
}
