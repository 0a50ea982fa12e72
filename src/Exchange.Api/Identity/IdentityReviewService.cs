using Exchange.Api.Auth;
using Exchange.Api.Storage;
using Microsoft.EntityFrameworkCore;

namespace Exchange.Api.Identity;

public abstract record ReviewOutcome
{
    public sealed record Done(IdentityReview Review, IReadOnlyList<string> MergedChildIds) : ReviewOutcome;
    public sealed record NotFound : ReviewOutcome;
    public sealed record Closed : ReviewOutcome;
    public sealed record BadSurvivor : ReviewOutcome;
}

/// <summary>
/// The exchange admin's decisions on identity reviews. A merge moves identifiers and care
/// episodes to the survivor, leaves the merged id redirecting to it, and records exactly what
/// moved so that the merge can be audited and reversed.
/// </summary>
public sealed partial class IdentityReviewService(
    ExchangeDbContext db,
    IdentifierProtector protector,
    IdentityService identity,
    IWriteGate writeGate,
    TimeProvider clock,
    ILogger<IdentityReviewService> logger)
{
    public async Task<ReviewOutcome> MergeAsync(Caller caller, string reviewId, string? survivorChildId, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(caller);
        using var _ = await writeGate.EnterAsync(ct).ConfigureAwait(false);
        await using var transaction = await db.Database.BeginTransactionAsync(ct).ConfigureAwait(false);
        var review = await db.IdentityReviews.Include(r => r.Identifiers).FirstOrDefaultAsync(r => r.Id == reviewId, ct).ConfigureAwait(false);
        if (review is null)
        {
            return new ReviewOutcome.NotFound();
        }

        if (review.Status != ReviewStatus.Open)
        {
            return new ReviewOutcome.Closed();
        }

        // Candidates may have been merged by an earlier review since this one opened.
        var candidates = new List<string>();
        foreach (var candidate in review.CandidateChildIds)
        {
            var current = await identity.SurvivorOfAsync(candidate, ct).ConfigureAwait(false);
            if (!candidates.Contains(current))
            {
                candidates.Add(current);
            }
        }

        string survivor;
        if (survivorChildId is null)
        {
            // The child registered first survives by default.
            survivor = await db.Children.AsNoTracking().Where(c => candidates.Contains(c.Id))
                .OrderBy(c => c.CreatedAt).ThenBy(c => c.Id).Select(c => c.Id).FirstAsync(ct).ConfigureAwait(false);
        }
        else if (candidates.Contains(survivorChildId))
        {
            survivor = survivorChildId;
        }
        else
        {
            return new ReviewOutcome.BadSurvivor();
        }

        var now = clock.GetUtcNow();
        var merged = new List<string>();
        foreach (var other in candidates.Where(c => c != survivor))
        {
            await MergeChildAsync(caller, review.Id, survivor, other, now, ct).ConfigureAwait(false);
            merged.Add(other);
        }

        await LinkUnmatchedAsync(caller, review, survivor, now, ct).ConfigureAwait(false);
        review.Status = ReviewStatus.Merged;
        review.ClosedAt = now;
        review.ClosedBy = caller.Subject;
        review.SurvivorChildId = survivor;
        await db.SaveChangesAsync(ct).ConfigureAwait(false);
        await transaction.CommitAsync(ct).ConfigureAwait(false);
        LogMerged(logger, review.Id, survivor, merged.Count);
        return new ReviewOutcome.Done(review, merged);
    }

    public async Task<ReviewOutcome> DismissAsync(Caller caller, string reviewId, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(caller);
        using var _ = await writeGate.EnterAsync(ct).ConfigureAwait(false);
        var review = await db.IdentityReviews.Include(r => r.Identifiers).FirstOrDefaultAsync(r => r.Id == reviewId, ct).ConfigureAwait(false);
        if (review is null)
        {
            return new ReviewOutcome.NotFound();
        }

        if (review.Status != ReviewStatus.Open)
        {
            return new ReviewOutcome.Closed();
        }

        review.Status = ReviewStatus.Dismissed;
        review.ClosedAt = clock.GetUtcNow();
        review.ClosedBy = caller.Subject;
        await db.SaveChangesAsync(ct).ConfigureAwait(false);
        LogDismissed(logger, review.Id);
        return new ReviewOutcome.Done(review, []);
    }

    private async Task MergeChildAsync(Caller caller, string reviewId, string survivor, string other, DateTimeOffset now, CancellationToken ct)
    {
        var identifiers = await db.ChildIdentifiers.Where(i => i.ChildId == other).ToListAsync(ct).ConfigureAwait(false);
        foreach (var identifier in identifiers)
        {
            // The sealed copy is bound to its child; moving it means sealing it again for the survivor.
            var value = protector.Open(identifier.Sealed, IdentityService.IdentifierEntity, other, identifier.Id);
            identifier.Sealed = protector.Seal(value, IdentityService.IdentifierEntity, survivor, identifier.Id);
            identifier.ChildId = survivor;
        }

        var episodes = await db.CareEpisodes.Where(e => e.ChildId == other).ToListAsync(ct).ConfigureAwait(false);
        foreach (var episode in episodes)
        {
            episode.ChildId = survivor;
        }

        var child = await db.Children.FirstAsync(c => c.Id == other, ct).ConfigureAwait(false);
        child.MergedIntoChildId = survivor;
        child.MergedAt = now;
        db.ChildMerges.Add(new ChildMerge
        {
            Id = Guid.NewGuid(),
            ReviewId = reviewId,
            SurvivorChildId = survivor,
            MergedChildId = other,
            MovedIdentifierIds = identifiers.Select(i => i.Id).ToList(),
            MovedCareEpisodeIds = episodes.Select(e => e.Id).ToList(),
            MergedAt = now,
            MergedBy = caller.Subject,
        });
    }

    /// <summary>Identifiers presented with the conflict that matched no child now belong to the survivor.</summary>
    private async Task LinkUnmatchedAsync(Caller caller, IdentityReview review, string survivor, DateTimeOffset now, CancellationToken ct)
    {
        foreach (var presented in review.Identifiers.Where(i => i.MatchedChildId is null))
        {
            var taken = await db.ChildIdentifiers.AnyAsync(i => i.Type == presented.Type && i.BlindIndex == presented.BlindIndex, ct).ConfigureAwait(false);
            if (taken)
            {
                continue;
            }

            var value = protector.Open(presented.Sealed, IdentityService.ReviewIdentifierEntity, review.Id, presented.Id);
            identity.Link(survivor, new PresentedIdentifier(presented.Type, value, presented.IsTemporary), presented.BlindIndex, caller.Organisation, now);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Identity review {ReviewId} merged into {SurvivorChildId} ({Merged} child(ren) merged)")]
    private static partial void LogMerged(ILogger logger, string reviewId, string survivorChildId, int merged);

    [LoggerMessage(Level = LogLevel.Information, Message = "Identity review {ReviewId} dismissed")]
    private static partial void LogDismissed(ILogger logger, string reviewId);
}
