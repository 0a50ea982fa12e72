using Exchange.Api.Erasure.Storage;
using Exchange.Api.Identity;
using Exchange.Api.Storage;
using Exchange.Crypto.Keys;
using Microsoft.EntityFrameworkCore;

namespace Exchange.Api.Erasure;

/// <summary>
/// Erasure (UK GDPR Art. 17) by crypto-shredding: the operator's DPO erases a child, and nothing of it can be read
/// or found again. The pseudonymous id stays, answering 410.
/// </summary>
public sealed partial class ErasureService(
    ExchangeDbContext db,
    IdentityService identity,
    IWriteGate writeGate,
    DataKeyService dataKeys,
    ErasureStorage storage,
    Auditing.AuditTrail audit,
    TimeProvider clock,
    ILogger<ErasureService> logger)
{
    /// <summary>
    /// Erases a child: its data key is deleted (every sealed field of the child becomes
    /// permanently unreadable) and its identifiers' blind indexes go too, so the child can no
    /// longer be found by NHS number, UPN or council ID. The pseudonymous id stays, answering 410.
    /// </summary>
    public async Task<(string ChildId, DateTimeOffset ErasedAt)?> EraseAsync(string childId, CancellationToken ct)
    {
        using var _ = await writeGate.EnterAsync(ct).ConfigureAwait(false);
        var survivor = await identity.SurvivorOfAsync(childId, ct).ConfigureAwait(false);
        var now = clock.GetUtcNow();
        var dismissed = new List<string>();
        await using (var transaction = await db.Database.BeginTransactionAsync(ct).ConfigureAwait(false))
        {
            // Claim the child: concurrent registrations and merges touching it wait for this and then see it erased.
            var claimed = await db.Children.Where(c => c.Id == survivor && c.ErasedAt == null)
                .ExecuteUpdateAsync(u => u.SetProperty(c => c.ErasedAt, now), ct).ConfigureAwait(false);
            var child = await db.Children.AsNoTracking().FirstOrDefaultAsync(c => c.Id == survivor, ct).ConfigureAwait(false);
            if (child is null)
            {
                return null;
            }

            if (claimed == 1)
            {
                await db.ChildIdentifiers.Where(i => i.ChildId == survivor).ExecuteDeleteAsync(ct).ConfigureAwait(false);
                // Copies of its identifiers presented with identity conflicts go too, and open cases naming it close.
                await db.IdentityReviewIdentifiers.Where(i => i.MatchedChildId == survivor).ExecuteDeleteAsync(ct).ConfigureAwait(false);
                dismissed = await db.IdentityReviews.Where(r => r.Status == ReviewStatus.Open && r.CandidateChildIds.Contains(survivor))
                    .Select(r => r.Id).ToListAsync(ct).ConfigureAwait(false);
                await db.IdentityReviews.Where(r => dismissed.Contains(r.Id))
                    .ExecuteUpdateAsync(u => u.SetProperty(r => r.Status, ReviewStatus.Dismissed).SetProperty(r => r.ClosedAt, now)
                        .SetProperty(r => r.ClosedBy, "erasure"), ct).ConfigureAwait(false);
                foreach (var reviewId in dismissed)
                {
                    await dataKeys.EraseAsync(reviewId, ct).ConfigureAwait(false);
                }

                await dataKeys.EraseAsync(survivor, ct).ConfigureAwait(false);
                LogErased(logger, survivor);
            }

            audit.Expect(StatusCodes.Status200OK, survivor);
            await transaction.CommitAsync(ct).ConfigureAwait(false);
            if (claimed == 1)
            {
                // A request that read the key between our delete and our commit may have cached it.
                dataKeys.ForgetCached(survivor);
                dismissed.ForEach(dataKeys.ForgetCached);
                await storage.AfterErasureAsync(ct).ConfigureAwait(false);
            }

            return (survivor, child.ErasedAt ?? now);
        }
    }

    [LoggerMessage(EventId = 9305, EventName = "ChildErased", Level = LogLevel.Warning, Message = "Child {ChildId} erased: data key deleted, identifiers removed")]
    private static partial void LogErased(ILogger logger, string childId);
}
