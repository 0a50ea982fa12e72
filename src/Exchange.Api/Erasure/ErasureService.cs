using Exchange.Api.Work;
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
    UnitOfWork work,
    DataKeyService dataKeys,
    ErasureStorage storage,
    TimeProvider clock,
    ILogger<ErasureService> logger)
{
    /// <summary>
    /// Erases a child: its data key is deleted (every sealed field of the child becomes
    /// permanently unreadable) and its identifiers' blind indexes go too, so the child can no
    /// longer be found by NHS number, UPN or council ID. The same goes for every id merged into it:
    /// their data keys, and every review case's copies of identifiers presented with them, would
    /// otherwise let anyone holding the database and the blind-index key link the child again.
    /// The pseudonymous ids stay, answering 410; the records held under them stay for the DPO's export.
    /// </summary>
    public async Task<(string ChildId, DateTimeOffset ErasedAt)?> EraseAsync(string childId, CancellationToken ct)
    {
        await work.BeginAsync(ct).ConfigureAwait(false);
        var survivor = await identity.SurvivorOfAsync(childId, ct).ConfigureAwait(false);
        var now = clock.GetUtcNow();
        List<string> ids = [survivor];
        var reviews = new List<string>();
        try
        {
            // Claim the child: concurrent registrations and merges touching it wait for this and then see it erased.
            var claimed = await work.UpdateAsync(db.Children.Where(c => c.Id == survivor && c.ErasedAt == null), u => u.SetProperty(c => c.ErasedAt, now), ct).ConfigureAwait(false);
            var child = await db.Children.AsNoTracking().FirstOrDefaultAsync(c => c.Id == survivor, ct).ConfigureAwait(false);
            if (child is null)
            {
                return null;
            }

            if (claimed == 1)
            {
                ids.AddRange(await MergedIntoAsync(survivor, ct).ConfigureAwait(false));
                await work.UpdateAsync(db.Children.Where(c => ids.Contains(c.Id) && c.ErasedAt == null), u => u.SetProperty(c => c.ErasedAt, now), ct).ConfigureAwait(false);
                await work.DeleteAsync(db.ChildIdentifiers.Where(i => ids.Contains(i.ChildId)), ct).ConfigureAwait(false);
                // Derived from the child's records, and not worth keeping once they are gone: the checks' alerts (when it
                // was missing education, absent, overdue a plan), the year's attendance counts (the marks stay, under the
                // pseudonymous id, as every school record does) and the webhook deliveries about it (the audit log
                // keeps who was told). Nothing more is queued or raised for an erased child.
                await work.DeleteAsync(db.CheckAlerts.Where(a => ids.Contains(a.ChildId)), ct).ConfigureAwait(false);
                await work.DeleteAsync(db.AttendanceYearCounts.Where(c => ids.Contains(c.ChildId)), ct).ConfigureAwait(false);
                await work.DeleteAsync(db.WebhookDeliveries.Where(d => ids.Contains(d.ChildId)), ct).ConfigureAwait(false);
                reviews = await ReviewsNamingAsync(ids, ct).ConfigureAwait(false);

                // Every case that named the child or an id merged into it loses its copies of the presented identifiers
                // (a case holds identifiers presented together, so all of them are about this child); open ones close.
                await work.DeleteAsync(db.IdentityReviewIdentifiers.Where(i => reviews.Contains(i.ReviewId) || (i.MatchedChildId != null && ids.Contains(i.MatchedChildId))), ct).ConfigureAwait(false);
                await work.UpdateAsync(db.IdentityReviews.Where(r => reviews.Contains(r.Id) && r.Status == ReviewStatus.Open), u => u.SetProperty(r => r.Status, ReviewStatus.Dismissed).SetProperty(r => r.ClosedAt, now)
                        .SetProperty(r => r.ClosedBy, "erasure"), ct).ConfigureAwait(false);
                foreach (var owner in reviews.Concat(ids))
                {
                    await dataKeys.EraseAsync(owner, ct).ConfigureAwait(false);
                }

                LogErased(logger, survivor, ids.Count - 1);
            }

            await work.CommitAsync(Outcome.Ok(survivor), ct).ConfigureAwait(false);
            if (claimed == 1)
            {
                // A request that read a key between our delete and our commit may have cached it.
                foreach (var owner in reviews.Concat(ids))
                {
                    dataKeys.ForgetCached(owner);
                }

                await storage.AfterErasureAsync(ct).ConfigureAwait(false);
            }

            return (survivor, child.ErasedAt ?? now);
        }
        finally
        {
            await work.RollbackAsync(CancellationToken.None).ConfigureAwait(false); // nothing, once committed
        }
    }

    /// <summary>Every id merged into this child, directly or through earlier merges.</summary>
    private async Task<List<string>> MergedIntoAsync(string survivor, CancellationToken ct)
    {
        var found = new List<string>();
        List<string> pending = [survivor];
        while (pending.Count > 0 && found.Count < 1000)
        {
            var current = pending;
            pending = await db.Children.AsNoTracking().Where(c => c.MergedIntoChildId != null && current.Contains(c.MergedIntoChildId))
                .Select(c => c.Id).ToListAsync(ct).ConfigureAwait(false);
            found.AddRange(pending);
        }

        return found;
    }

    /// <summary>Review cases, open or closed, that name any of the ids as a candidate or matched an identifier to one.</summary>
    private async Task<List<string>> ReviewsNamingAsync(List<string> ids, CancellationToken ct)
    {
        var found = await db.IdentityReviewIdentifiers.AsNoTracking().Where(i => i.MatchedChildId != null && ids.Contains(i.MatchedChildId))
            .Select(i => i.ReviewId).Distinct().ToListAsync(ct).ConfigureAwait(false);
        foreach (var id in ids)
        {
            found.AddRange(await db.IdentityReviews.AsNoTracking().Where(r => r.CandidateChildIds.Contains(id)).Select(r => r.Id).ToListAsync(ct).ConfigureAwait(false));
        }

        return found.Distinct(StringComparer.Ordinal).ToList();
    }

    [LoggerMessage(EventId = 9305, EventName = "ChildErased", Level = LogLevel.Warning, Message = "Child {ChildId} erased with {Merged} id(s) merged into it: data keys deleted, identifiers removed")]
    private static partial void LogErased(ILogger logger, string childId, int merged);
}
