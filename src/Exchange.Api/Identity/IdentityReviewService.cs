using Exchange.Api.Work;
using Exchange.Api.Auth;
using Exchange.Api.Storage;
using Exchange.Crypto.Keys;
using Exchange.Crypto.Sealing;
using Microsoft.EntityFrameworkCore;

namespace Exchange.Api.Identity;

public abstract record ReviewOutcome
{
    public sealed record Done(IdentityReview Review, IReadOnlyList<string> MergedChildIds) : ReviewOutcome;
    public sealed record NotFound : ReviewOutcome;
    public sealed record Closed : ReviewOutcome;
    public sealed record BadSurvivor : ReviewOutcome;

    /// <summary>Two councils' care episodes of the candidates overlap: merging would put one council in the other's time.</summary>
    public sealed record EpisodeOverlap : ReviewOutcome;
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
    UnitOfWork work,
    DataKeyService dataKeys,
    Exchange.Crypto.Sealing.FieldSealer sealer,
    TimeProvider clock,
    ILogger<IdentityReviewService> logger)
{
    public async Task<ReviewOutcome> MergeAsync(Caller caller, string reviewId, string? survivorChildId, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(caller);
        await work.BeginAsync(ct).ConfigureAwait(false);
        try
        {
            return await MergeInWorkAsync(caller, reviewId, survivorChildId, ct).ConfigureAwait(false);
        }
        finally
        {
            await work.RollbackAsync(CancellationToken.None).ConfigureAwait(false); // nothing, once committed
        }
    }

    private async Task<ReviewOutcome> MergeInWorkAsync(Caller caller, string reviewId, string? survivorChildId, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        // Claim the case: a conditional update that a concurrent merge or dismiss of the same case
        // (on PostgreSQL, where writers are not serialised) waits for and then finds nothing to claim.
        if (await work.UpdateAsync(db.IdentityReviews.Where(r => r.Id == reviewId && r.Status == ReviewStatus.Open), u => u.SetProperty(r => r.ClosedAt, now), ct).ConfigureAwait(false) == 0)
        {
            return await db.IdentityReviews.AnyAsync(r => r.Id == reviewId, ct).ConfigureAwait(false)
                ? new ReviewOutcome.Closed() : new ReviewOutcome.NotFound();
        }

        var review = await db.IdentityReviews.Include(r => r.Identifiers).FirstAsync(r => r.Id == reviewId, ct).ConfigureAwait(false);

        // Lock the candidate children (a no-op update takes their row locks) so that two merges
        // over overlapping children run one after the other and never point children at each other.
        var lockIds = review.CandidateChildIds.ToList();
        await work.UpdateAsync(db.Children.Where(c => lockIds.Contains(c.Id)), u => u.SetProperty(c => c.MergedAt, c => c.MergedAt), ct).ConfigureAwait(false);

        // Candidates may have been merged by an earlier review since this one opened; erased ones are out.
        var candidates = new List<string>();
        foreach (var candidate in review.CandidateChildIds)
        {
            var current = await identity.SurvivorOfAsync(candidate, ct).ConfigureAwait(false);
            if (!candidates.Contains(current) && await db.Children.AnyAsync(c => c.Id == current && c.ErasedAt == null, ct).ConfigureAwait(false))
            {
                candidates.Add(current);
            }
        }

        if (candidates.Count == 0)
        {
            return new ReviewOutcome.BadSurvivor();
        }

        // A merge adds the candidates' care episodes together, so the registration rule holds for it too: no council's
        // episode may overlap another council's. Otherwise a council could backdate a decoy child's episode and reach,
        // through the merge, into the history of the council that looked after the child then.
        if (await EpisodesOverlapAsync(candidates, ct).ConfigureAwait(false))
        {
            return new ReviewOutcome.EpisodeOverlap();
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

        var merged = new List<string>();
        foreach (var other in candidates.Where(c => c != survivor))
        {
            await MergeChildAsync(caller, review.Id, survivor, other, now, ct).ConfigureAwait(false);
            merged.Add(other);
        }

        review.LinkedIdentifierIds.AddRange(await LinkUnmatchedAsync(caller, review, survivor, now, ct).ConfigureAwait(false));
        review.MergedChildIds.AddRange(merged);
        review.Status = ReviewStatus.Merged;
        review.ClosedAt = now;
        review.ClosedBy = caller.Subject;
        review.SurvivorChildId = survivor;
        await work.FlushAsync(ct).ConfigureAwait(false);
        // The identifiers presented with the case are now linked or were already known: the case's copies go.
        await dataKeys.EraseAsync(review.Id, ct).ConfigureAwait(false);
        await work.CommitAsync(Outcome.Ok(survivor), ct).ConfigureAwait(false);
        dataKeys.ForgetCached(review.Id);
        LogMerged(logger, review.Id, survivor, merged.Count);
        return new ReviewOutcome.Done(review, merged);
    }

    public async Task<ReviewOutcome> DismissAsync(Caller caller, string reviewId, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(caller);
        // Closing the case and shredding its copies of the identifiers happen together or not at all.
        await work.BeginAsync(ct).ConfigureAwait(false);
        try
        {
            return await DismissInWorkAsync(caller, reviewId, ct).ConfigureAwait(false);
        }
        finally
        {
            await work.RollbackAsync(CancellationToken.None).ConfigureAwait(false); // nothing, once committed
        }
    }

    private async Task<ReviewOutcome> DismissInWorkAsync(Caller caller, string reviewId, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var claimed = await work.UpdateAsync(db.IdentityReviews.Where(r => r.Id == reviewId && r.Status == ReviewStatus.Open), u => u
                .SetProperty(r => r.Status, ReviewStatus.Dismissed)
                .SetProperty(r => r.ClosedAt, now)
                .SetProperty(r => r.ClosedBy, caller.Subject), ct).ConfigureAwait(false);
        var review = await db.IdentityReviews.AsNoTracking().Include(r => r.Identifiers).FirstOrDefaultAsync(r => r.Id == reviewId, ct).ConfigureAwait(false);
        if (review is null)
        {
            return new ReviewOutcome.NotFound();
        }

        if (claimed == 0)
        {
            return new ReviewOutcome.Closed();
        }

        await dataKeys.EraseAsync(review.Id, ct).ConfigureAwait(false);
        await work.CommitAsync(Outcome.Ok(), ct).ConfigureAwait(false);
        dataKeys.ForgetCached(review.Id);
        LogDismissed(logger, review.Id);
        return new ReviewOutcome.Done(review, []);
    }

    private async Task<bool> EpisodesOverlapAsync(List<string> candidates, CancellationToken ct)
    {
        var episodes = await db.CareEpisodes.AsNoTracking().Where(e => candidates.Contains(e.ChildId))
            .Select(e => new { e.ResponsibleLaNumber, e.StartDate, e.EndDate }).ToListAsync(ct).ConfigureAwait(false);
        return episodes.Any(a => episodes.Any(b => a.ResponsibleLaNumber != b.ResponsibleLaNumber
            && a.StartDate <= (b.EndDate ?? DateOnly.MaxValue) && b.StartDate <= (a.EndDate ?? DateOnly.MaxValue)));
    }

    /// <summary>
    /// Relationships, consents, restrictions and objections (their reasons sealed again under the survivor's key), handovers and alerts follow the child, so access after a merge is decided
    /// as before it. A relationship the survivor already records (same kind, organisation and start) stays put.
    /// Break-glass grants move too, their reasons sealed again under the survivor's key, so the survivor's council's
    /// DPO still sees them and erasing the survivor shreds them.
    /// </summary>
    private async Task MoveAccessFactsAsync(string survivor, string other, CancellationToken ct)
    {
        var held = (await db.ChildRelationships.Where(r => r.ChildId == survivor).Select(r => new { r.Kind, r.OrganisationId, r.StartDate })
            .ToListAsync(ct).ConfigureAwait(false)).Select(r => (r.Kind, r.OrganisationId, r.StartDate)).ToHashSet();
        foreach (var relationship in await db.ChildRelationships.Where(r => r.ChildId == other).ToListAsync(ct).ConfigureAwait(false))
        {
            if (held.Add((relationship.Kind, relationship.OrganisationId, relationship.StartDate)))
            {
                relationship.ChildId = survivor;
            }
        }

        foreach (var consent in await db.Consents.Where(c => c.ChildId == other).ToListAsync(ct).ConfigureAwait(false))
        {
            consent.ChildId = survivor;
        }

        foreach (var limit in await db.ProcessingLimits.Where(l => l.ChildId == other).ToListAsync(ct).ConfigureAwait(false))
        {
            // Its reason is sealed to the child and the record: moving it means sealing it again for the survivor
            // (none is held for a record from before reasons were sealed).
            limit.ChildId = survivor;
            if (limit.SealedReason.Length == 0)
            {
                continue;
            }

            var reason = await sealer.OpenAsync(Restrictions.ProcessingLimitsApi.ReasonPlace(other, limit.Id), limit.SealedReason, ct).ConfigureAwait(false) switch
            {
                OpenedField.Opened opened => opened.Value,
                _ => throw new InvalidOperationException($"A processing limit of {other} is erased and cannot be moved."),
            };
            limit.SealedReason = await sealer.SealAsync(Restrictions.ProcessingLimitsApi.ReasonPlace(survivor, limit.Id), reason, ct).ConfigureAwait(false);
        }

        foreach (var handover in await db.CareHandovers.Where(h => h.ChildId == other).ToListAsync(ct).ConfigureAwait(false))
        {
            handover.ChildId = survivor;
        }

        foreach (var alert in await db.DpoAlerts.Where(a => a.ChildId == other).ToListAsync(ct).ConfigureAwait(false))
        {
            alert.ChildId = survivor;
        }

        // A school whose roll check found either id may still declare the enrolment of the child they turned out to be.
        foreach (var match in await db.RollCheckMatches.Where(m => m.ChildId == other).ToListAsync(ct).ConfigureAwait(false))
        {
            match.ChildId = survivor;
        }

        foreach (var grant in await db.BreakGlassGrants.Where(g => g.ChildId == other).ToListAsync(ct).ConfigureAwait(false))
        {
            var reason = await sealer.OpenAsync(BreakGlass.BreakGlassApi.ReasonPlace(other, grant.Id), grant.SealedReason, ct).ConfigureAwait(false);
            if (reason is OpenedField.Opened opened)
            {
                grant.SealedReason = await sealer.SealAsync(BreakGlass.BreakGlassApi.ReasonPlace(survivor, grant.Id), opened.Value, ct).ConfigureAwait(false);
                grant.ChildId = survivor;
            }
        }
    }

    /// <summary>
    /// Attendance marks and exclusions follow the child, so the council reads one register and one list of exclusions
    /// for the child the two ids turned out to be. Where both ids hold a current mark from the same school for the same
    /// session, the later one stays current and the earlier becomes its history (as a correction would). An exclusion
    /// the survivor already holds (same school, type and day) stays put; the others' reason texts are sealed again.
    /// </summary>
    private async Task MoveSchoolRecordsAsync(string survivor, string other, DateTimeOffset now, CancellationToken ct)
    {
        var marks = await db.AttendanceMarks.Where(m => m.ChildId == other).ToListAsync(ct).ConfigureAwait(false);
        if (marks.Count > 0)
        {
            var held = (await db.AttendanceMarks.Where(m => m.ChildId == survivor && m.ReplacedAt == null).ToListAsync(ct).ConfigureAwait(false))
                .ToDictionary(m => (m.SchoolId, m.Date, m.Session));
            foreach (var mark in marks.Where(m => m.ReplacedAt is null))
            {
                if (held.TryGetValue((mark.SchoolId, mark.Date, mark.Session), out var kept))
                {
                    var (earlier, later) = mark.RecordedAt <= kept.RecordedAt ? (mark, kept) : (kept, mark);
                    earlier.ReplacedAt = now;
                    earlier.ReplacedBy = later.Id;
                }
            }

            // Replaced first, so the one-current-mark index holds when the rest move.
            await work.FlushAsync(ct).ConfigureAwait(false);
            foreach (var mark in marks)
            {
                mark.ChildId = survivor;
            }

            // The counts of the year follow: both ids' are dropped and the survivor's counted again from its marks.
            await work.FlushAsync(ct).ConfigureAwait(false);
            await work.DeleteAsync(db.AttendanceYearCounts.Where(c => c.ChildId == other), ct).ConfigureAwait(false);
            await Attendance.YearCounts.RebuildAsync(db, work, survivor, ct).ConfigureAwait(false);
        }

        var exclusions = await db.Exclusions.Where(x => x.ChildId == other).ToListAsync(ct).ConfigureAwait(false);
        var survivorHolds = (await db.Exclusions.Where(x => x.ChildId == survivor).Select(x => new { x.SchoolId, x.Type, x.StartDate }).ToListAsync(ct).ConfigureAwait(false))
            .Select(x => (x.SchoolId, x.Type, x.StartDate)).ToHashSet();
        foreach (var exclusion in exclusions.Where(x => survivorHolds.Add((x.SchoolId, x.Type, x.StartDate))))
        {
            if (exclusion.SealedReasonText.Length > 0)
            {
                var text = await sealer.OpenAsync(Exclusions.ExclusionService.ReasonPlace(other, exclusion.Id), exclusion.SealedReasonText, ct).ConfigureAwait(false) switch
                {
                    OpenedField.Opened opened => opened.Value,
                    _ => throw new InvalidOperationException($"An exclusion of {other} is erased and cannot be moved."),
                };
                exclusion.SealedReasonText = await sealer.SealAsync(Exclusions.ExclusionService.ReasonPlace(survivor, exclusion.Id), text, ct).ConfigureAwait(false);
            }

            exclusion.ChildId = survivor;
        }

        await MovePepAsync(survivor, other, ct).ConfigureAwait(false);
    }

    /// <summary>
    /// The merged child's PEP moves, every version with its sealed parts sealed again for the survivor, when the survivor
    /// has none. When both have one, the survivor's stays current and the other's versions stay under the merged id (its
    /// subject-access export and the survivor's both list them): which plan a child in two records should have is a
    /// virtual school's judgement, not a merge's (docs/PEPS.md).
    /// </summary>
    private async Task MovePepAsync(string survivor, string other, CancellationToken ct)
    {
        if (db.Database.IsNpgsql())
        {
            // The lock a PEP save takes: a first save on the survivor racing the merge waits, instead of colliding on the version index.
            await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock(hashtext({"pep:" + survivor}))", ct).ConfigureAwait(false);
        }

        if (await db.PepVersions.AnyAsync(v => v.ChildId == survivor, ct).ConfigureAwait(false))
        {
            return;
        }

        foreach (var version in await db.PepVersions.Where(v => v.ChildId == other).ToListAsync(ct).ConfigureAwait(false))
        {
            async Task<byte[]> Reseal(string part, byte[] sealedValue) => sealedValue.Length == 0 ? sealedValue
                : await sealer.OpenAsync(Peps.PepService.Place(other, version.Id, part), sealedValue, ct).ConfigureAwait(false) switch
                {
                    OpenedField.Opened opened => await sealer.SealAsync(Peps.PepService.Place(survivor, version.Id, part), opened.Value, ct).ConfigureAwait(false),
                    _ => throw new InvalidOperationException($"A PEP of {other} is erased and cannot be moved."),
                };
            version.SealedContent = await Reseal("content", version.SealedContent).ConfigureAwait(false);
            version.SealedHealth = await Reseal("healthSection", version.SealedHealth).ConfigureAwait(false);
            version.SealedReturnReason = await Reseal("returnReason", version.SealedReturnReason).ConfigureAwait(false);
            version.ChildId = survivor;
        }
    }

    /// <summary>
    /// The organisations holding a relationship to a child: the councils of its care episodes and the organisations
    /// of its placements, enrolments and health responsibility (what the admin's review screen shows per candidate).
    /// </summary>
    internal static async Task<List<string>> HoldersAsync(ExchangeDbContext db, string childId, CancellationToken ct)
    {
        var councils = await db.CareEpisodes.AsNoTracking().Where(e => e.ChildId == childId).Select(e => e.ResponsibleLaNumber).Distinct()
            .ToListAsync(ct).ConfigureAwait(false);
        var others = await db.ChildRelationships.AsNoTracking().Where(r => r.ChildId == childId).Select(r => r.OrganisationId).Distinct()
            .ToListAsync(ct).ConfigureAwait(false);
        return councils.Select(la => "la:" + la).Concat(others).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
    }

    private async Task MergeChildAsync(Caller caller, string reviewId, string survivor, string other, DateTimeOffset now, CancellationToken ct)
    {
        // An organisation holding one child but not the other gains a relationship to a child it did not have: the
        // DPOs of every organisation holding either are alerted (child id and organisations only).
        var (survivorHolders, otherHolders) = (await HoldersAsync(db, survivor, ct).ConfigureAwait(false), await HoldersAsync(db, other, ct).ConfigureAwait(false));
        if (!survivorHolders.ToHashSet(StringComparer.Ordinal).SetEquals(otherHolders))
        {
            db.DpoAlerts.Add(new DpoAlert
            {
                Id = Guid.NewGuid(), Kind = DpoAlert.MergeRelationship, ChildId = survivor, RaisedBy = caller.Organisation,
                Organisations = survivorHolders.Union(otherHolders, StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList(), RaisedAt = now,
            });
        }

        var identifiers = await db.ChildIdentifiers.Where(i => i.ChildId == other).ToListAsync(ct).ConfigureAwait(false);
        foreach (var identifier in identifiers)
        {
            // The sealed copy is bound to its child's key and place: moving it means sealing it again for the survivor.
            var value = await OpenRequiredAsync(identifier.Sealed, IdentityService.IdentifierEntity, other, identifier.Id, ct).ConfigureAwait(false);
            identifier.Sealed = await protector.SealAsync(value, IdentityService.IdentifierEntity, survivor, identifier.Id, ct).ConfigureAwait(false);
            identifier.ChildId = survivor;
        }

        var episodes = await db.CareEpisodes.Where(e => e.ChildId == other).ToListAsync(ct).ConfigureAwait(false);
        foreach (var episode in episodes)
        {
            episode.ChildId = survivor;
        }

        await MoveAccessFactsAsync(survivor, other, ct).ConfigureAwait(false);
        await MoveSchoolRecordsAsync(survivor, other, now, ct).ConfigureAwait(false);

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

    /// <summary>
    /// Identifiers presented with the conflict that matched no child now belong to the survivor,
    /// except where the survivor already holds a permanent identifier of that kind: a second NHS
    /// number (or permanent UPN, or ID from the same council) is a discrepancy, never a link.
    /// </summary>
    private async Task<List<Guid>> LinkUnmatchedAsync(Caller caller, IdentityReview review, string survivor, DateTimeOffset now, CancellationToken ct)
    {
        await work.FlushAsync(ct).ConfigureAwait(false); // identifiers moved by the merge count as held
        var held = await db.ChildIdentifiers.Where(i => i.ChildId == survivor).Select(i => new { i.Type, i.IsTemporary }).ToListAsync(ct).ConfigureAwait(false);
        var linked = new List<Guid>();
        foreach (var presented in review.Identifiers.Where(i => i.MatchedChildId is null))
        {
            var sameKind = held.Any(h => h.Type == presented.Type && !(presented.Type == PresentedIdentifier.Upn && (h.IsTemporary || presented.IsTemporary)));
            if (sameKind)
            {
                continue;
            }

            // Indexed afresh from the value: the case may predate a blind-index rotation.
            var value = await OpenRequiredAsync(presented.Sealed, IdentityService.ReviewIdentifierEntity, review.Id, presented.Id, ct).ConfigureAwait(false);
            var identifier = new PresentedIdentifier(presented.Type, value, presented.IsTemporary);
            if (!await identity.IsKnownAsync(identifier, ct).ConfigureAwait(false))
            {
                linked.Add(await identity.LinkAsync(survivor, identifier, protector.Index(identifier), protector.CurrentIndexVersion, caller.Organisation, now, ct).ConfigureAwait(false));
            }
        }

        return linked;
    }

    private async Task<string> OpenRequiredAsync(byte[] sealedValue, string entity, string owner, Guid rowId, CancellationToken ct) =>
        await protector.OpenAsync(sealedValue, entity, owner, rowId, ct).ConfigureAwait(false) switch
        {
            OpenedField.Opened opened => opened.Value,
            _ => throw new InvalidOperationException($"An identifier of {owner} is erased and cannot be moved."),
        };

    [LoggerMessage(Level = LogLevel.Warning, EventId = 9301, EventName = "IdentityReviewMerged", Message = "Identity review {ReviewId} merged into {SurvivorChildId} ({Merged} child(ren) merged)")]
    private static partial void LogMerged(ILogger logger, string reviewId, string survivorChildId, int merged);

    [LoggerMessage(Level = LogLevel.Information, EventId = 9302, EventName = "IdentityReviewDismissed", Message = "Identity review {ReviewId} dismissed")]
    private static partial void LogDismissed(ILogger logger, string reviewId);
}
