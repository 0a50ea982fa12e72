using Exchange.Api.Work;
using Exchange.Api.Identity;
using Exchange.Api.Storage;
using Exchange.Crypto.Sealing;
using Microsoft.EntityFrameworkCore;

namespace Exchange.Api.Keys;

/// <summary>Where a blind-index rotation stands.</summary>
public sealed record BlindIndexReport(string CurrentVersion, int Moved, int Remaining, int Unreadable, IReadOnlyDictionary<string, int> RowsByVersion);

/// <summary>
/// Moves identifiers to the current blind-index secret by opening their sealed copies and indexing
/// them again, a batch at a time: resumable, and safe while the service runs because lookups
/// try every version still held until the old one is retired.
/// </summary>
public sealed partial class BlindIndexReindexer(
    ExchangeDbContext db,
    IdentifierProtector protector,
    BlindIndexKeys keys,
    UnitOfWork work,
    ILogger<BlindIndexReindexer> logger)
{
    /// <param name="outcome">The request's answer, or <see cref="Outcome.Background"/> for the command-line verb.</param>
    public async Task<BlindIndexReport> ReindexAsync(int batchSize, Outcome outcome, CancellationToken ct)
    {
        var current = keys.Ring.CurrentVersion;
        var moved = 0;
        var unreadable = 0;
        await work.BeginAsync(ct).ConfigureAwait(false);
        {
            var rows = await db.ChildIdentifiers.Where(i => i.IndexKeyVersion != current)
                .OrderBy(i => i.Id).Take(batchSize).ToListAsync(ct).ConfigureAwait(false);
            foreach (var row in rows)
            {
                var opened = await TryOpenAsync(row.Sealed, IdentityService.IdentifierEntity, row.ChildId, row.Id, ct).ConfigureAwait(false);
                if (opened is OpenedField.Opened value)
                {
                    row.BlindIndex = protector.Index(new PresentedIdentifier(row.Type, value.Value, row.IsTemporary));
                    row.IndexKeyVersion = current;
                    moved++;
                }
                else
                {
                    // Erased, or failed its integrity check (logged): left for the DPO, never a reason to stop.
                    unreadable++;
                }
            }

            // Open review cases hold presented identifiers too; closed ones are erased and never looked up.
            var openReviews = db.IdentityReviews.Where(r => r.Status == ReviewStatus.Open).Select(r => r.Id);
            var presented = await db.IdentityReviewIdentifiers
                .Where(i => i.IndexKeyVersion != current && openReviews.Contains(i.ReviewId))
                .OrderBy(i => i.Id).Take(batchSize).ToListAsync(ct).ConfigureAwait(false);
            foreach (var row in presented)
            {
                if (await TryOpenAsync(row.Sealed, IdentityService.ReviewIdentifierEntity, row.ReviewId, row.Id, ct).ConfigureAwait(false) is OpenedField.Opened value)
                {
                    row.BlindIndex = protector.Index(new PresentedIdentifier(row.Type, value.Value, row.IsTemporary));
                    row.IndexKeyVersion = current;
                }
            }

            await work.CommitAsync(outcome, ct).ConfigureAwait(false);
        }

        var report = await ReportAsync(moved, unreadable, ct).ConfigureAwait(false);
        LogBatch(logger, moved, report.Remaining, current);
        return report;
    }

    public Task<BlindIndexReport> ReportAsync(CancellationToken ct) => ReportAsync(0, 0, ct);

    private async Task<OpenedField?> TryOpenAsync(byte[] sealedValue, string entity, string owner, Guid rowId, CancellationToken ct)
    {
        try
        {
            return await protector.OpenAsync(sealedValue, entity, owner, rowId, ct).ConfigureAwait(false);
        }
        catch (Exchange.Crypto.SealedValueException ex)
        {
            LogUnreadable(logger, entity, owner, rowId, ex.Message);
            return null;
        }
        catch (Exchange.Crypto.Keys.WrappedKeyIntegrityException ex)
        {
            LogUnreadable(logger, entity, owner, rowId, ex.Message);
            return null;
        }
    }

    [LoggerMessage(Level = LogLevel.Error, EventId = 9002, EventName = "ReindexIntegrityFailure",
        Message = "INTEGRITY: re-indexing could not open {Entity} of {OwnerId}, record {RecordId}: {Reason}")]
    private static partial void LogUnreadable(ILogger logger, string entity, string ownerId, Guid recordId, string reason);

    private async Task<BlindIndexReport> ReportAsync(int moved, int unreadable, CancellationToken ct)
    {
        var current = keys.Ring.CurrentVersion;
        var counts = await db.ChildIdentifiers.AsNoTracking().GroupBy(i => i.IndexKeyVersion)
            .Select(g => new { g.Key, Count = g.Count() }).ToDictionaryAsync(g => g.Key, g => g.Count, ct).ConfigureAwait(false);
        return new BlindIndexReport(current, moved, counts.Where(c => c.Key != current).Sum(c => c.Value), unreadable, counts);
    }

    [LoggerMessage(EventId = 9406, EventName = "BlindIndexReindexBatch", Level = LogLevel.Information, Message = "Blind-index re-index batch: {Moved} identifiers moved to {Version}; {Remaining} remain")]
    private static partial void LogBatch(ILogger logger, int moved, int remaining, string version);
}
