using Exchange.Api.Work;
using System.Security.Cryptography;
using System.Text;
using Exchange.Api.Auth;
using Exchange.Api.Storage;
using Microsoft.EntityFrameworkCore;

namespace Exchange.Api.Identity;

public abstract record IdentityOutcome
{
    public sealed record Matched(string ChildId) : IdentityOutcome;
    public sealed record Created(string ChildId) : IdentityOutcome;
    public sealed record NoMatch : IdentityOutcome;
    /// <summary>
    /// A conflict about <paramref name="ChildIds"/> (the children the caller may know of); ReviewId is null when the
    /// caller's organisation has too many open cases to open another.
    /// </summary>
    public sealed record Conflict(string? ReviewId, IReadOnlyList<string> ChildIds) : IdentityOutcome;

    /// <summary>The child the identifiers match is in another council's open care (the answer discloses that much about it).</summary>
    public sealed record CareConflict(string ChildId) : IdentityOutcome;

    /// <summary>The new episode would start before, or overlap, another council's episode for the child; nothing was changed.</summary>
    public sealed record CareOverlap : IdentityOutcome;
    public sealed record Erased : IdentityOutcome;

}

/// <summary>
/// Resolves presented identifiers to one pseudonymous child. Identifiers that all point to one
/// child (or to none) resolve; identifiers that disagree with the register open a review case
/// and change nothing else.
/// </summary>
public sealed partial class IdentityService(
    ExchangeDbContext db,
    IdentifierProtector protector,
    UnitOfWork unitOfWork,
    Exchange.Crypto.Keys.DataKeyService dataKeys,
    Microsoft.Extensions.Options.IOptions<Configuration.ExchangeOptions> limits,
    Auditing.AuditTrail audit,
    TimeProvider clock,
    ILogger<IdentityService> logger)
{
    internal const string IdentifierEntity = "child_identifiers";
    internal const string ReviewIdentifierEntity = "identity_review_identifiers";
    public const string ReasonDifferentChildren = "identifiers-match-different-children";
    public const string ReasonDiffersFromRegister = "identifier-differs-from-register";

    internal sealed record Presented(PresentedIdentifier Identifier, byte[] Index, string? MatchedChildId);

    /// <summary>
    /// Resolution, step 1: the children the identifiers match (merges followed). Read-only. The handler decides on each
    /// whether the caller may resolve it, then calls <see cref="ResolveAsync"/> with those it may.
    /// </summary>
    public async Task<ResolutionCandidates> FindForResolutionAsync(IReadOnlyList<PresentedIdentifier> identifiers, CancellationToken ct)
    {
        var presented = await MatchAsync(identifiers, ct).ConfigureAwait(false);
        foreach (var _ in presented.Where(p => p.MatchedChildId is null))
        {
            // The merge lookup a match costs, so that an unknown identifier takes as long as a known one.
            await SurvivorOfAsync(Ids.NewChildId(), ct).ConfigureAwait(false);
        }

        return new ResolutionCandidates
        {
            Presented = presented,
            Children = presented.Select(p => p.MatchedChildId).OfType<string>().Distinct(StringComparer.Ordinal).ToList(),
        };
    }

    /// <summary>
    /// Resolution, step 2: read-only apart from opening a review case; it never creates or links. The identifiers are
    /// compared with the part of the register the caller may resolve (<paramref name="visible"/>): an identifier of any
    /// other child counts as unknown, so the answer (a match, a conflict, none) says nothing about children the caller
    /// is not responsible for.
    /// </summary>
    public async Task<IdentityOutcome> ResolveAsync(Caller caller, ResolutionCandidates candidates, IReadOnlyList<string> visible, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(caller);
        ArgumentNullException.ThrowIfNull(candidates);
        ArgumentNullException.ThrowIfNull(visible);
        var view = candidates.Presented.Select(p => p.MatchedChildId is { } c && !visible.Contains(c) ? p with { MatchedChildId = null } : p).ToList();
        if (visible.Count == 0)
        {
            return new IdentityOutcome.NoMatch();
        }

        var children = visible.ToList();
        if (children.Count > 1 || await DiffersFromRegisterAsync(children[0], view, ct).ConfigureAwait(false))
        {
            return await WithRetryAsync(() => OpenReviewAsync(caller, view, children, ct), ct).ConfigureAwait(false);
        }

        return new IdentityOutcome.Matched(children[0]);
    }

    /// <summary>
    /// Registration, step 1 (before the write gate: key work may be a Key Vault round trip): warms the keys of the
    /// children the identifiers match now, or prepares one for the child it may create.
    /// </summary>
    public async Task<PreparedRegistration> PrepareRegistrationAsync(
        Caller caller, string laNumber, IReadOnlyList<PresentedIdentifier> identifiers, DateOnly careStart, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(caller);
        var newChildId = Ids.NewChildId();
        var key = await PrepareKeysAsync(identifiers, newChildId, ct).ConfigureAwait(false);
        return new PreparedRegistration(caller, laNumber, identifiers, careStart, newChildId, key);
    }

    /// <summary>
    /// Registration, step 2: begins the unit of work and matches the identifiers. A conflict opens (and commits) a
    /// review case; another council's open care, an overlap with another council's episode or an erased child roll back;
    /// each is an <see cref="RegistrationMatch.Answer"/>. Otherwise the unit of work stays open for the handler to decide
    /// on the existing child (if any), then <see cref="CompleteRegistrationAsync"/> or <see cref="AbandonRegistrationAsync"/>.
    /// </summary>
    public async Task<RegistrationMatch> MatchRegistrationAsync(PreparedRegistration registration, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(registration);
        registration.Attempts++;
        await unitOfWork.BeginAsync(ct).ConfigureAwait(false);
        try
        {
            var presented = await MatchAsync(registration.Identifiers, ct).ConfigureAwait(false);
            var children = presented.Select(p => p.MatchedChildId).OfType<string>().Distinct(StringComparer.Ordinal).ToList();
            if (children.Count > 1 || (children.Count == 1 && await DiffersFromRegisterAsync(children[0], presented, ct).ConfigureAwait(false)))
            {
                var conflict = await OpenReviewAsync(registration.Caller, presented, children, ct).ConfigureAwait(false);
                await CommitAsync(conflict, ct).ConfigureAwait(false);
                return new RegistrationMatch { Answer = conflict };
            }

            if (children.Count == 0)
            {
                return new RegistrationMatch { Presented = presented };
            }

            var childId = children[0];
            // Hold the child (a no-op update takes its row lock): an erasure in progress finishes first and wins.
            if (await unitOfWork.UpdateAsync(db.Children.Where(c => c.Id == childId && c.ErasedAt == null), u => u.SetProperty(c => c.MergedAt, c => c.MergedAt), ct).ConfigureAwait(false) == 0)
            {
                return await RefuseAsync(new IdentityOutcome.Erased(), ct).ConfigureAwait(false);
            }

            var episodes = await db.CareEpisodes.Where(e => e.ChildId == childId && e.EndDate == null).ToListAsync(ct).ConfigureAwait(false);
            if (episodes.Any(e => e.ResponsibleLaNumber != registration.LaNumber))
            {
                // The 409 tells the caller the child is in another council's care: its event names the child.
                audit.About(childId);
                return await RefuseAsync(new IdentityOutcome.CareConflict(childId), ct).ConfigureAwait(false);
            }

            // A council may not reach back into another council's care: a new episode starts after every other
            // council's episode for the child ended (the other episodes are all ended here).
            var otherEnds = await db.CareEpisodes.Where(e => e.ChildId == childId && e.ResponsibleLaNumber != registration.LaNumber)
                .Select(e => e.EndDate).ToListAsync(ct).ConfigureAwait(false);
            if (episodes.Count == 0 && otherEnds.Any(end => end is null || registration.CareStart <= end))
            {
                return await RefuseAsync(new IdentityOutcome.CareOverlap(), ct).ConfigureAwait(false);
            }

            // After the care check: a council the child is not with learns of the other council's care, as before,
            // and nothing about a restriction. The handler decides on the child before anything is linked.
            return new RegistrationMatch { Presented = presented, ExistingChildId = childId, KeepsOpenEpisode = episodes.Count > 0 };
        }
        catch (DbUpdateException) when (registration.Attempts < 3)
        {
            await AbandonRegistrationAsync(registration, ct).ConfigureAwait(false);
            return new RegistrationMatch { Retry = true };
        }
        catch
        {
            await unitOfWork.RollbackAsync(CancellationToken.None).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Registration, step 3 (the handler has decided on the existing child, if any): creates the child or links the new
    /// identifiers to it, opens the care episode, and commits. Null when a concurrent writer won: match again.
    /// </summary>
    public async Task<IdentityOutcome?> CompleteRegistrationAsync(PreparedRegistration registration, RegistrationMatch match, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(registration);
        ArgumentNullException.ThrowIfNull(match);
        try
        {
            var now = clock.GetUtcNow();
            var childId = match.ExistingChildId ?? registration.NewChildId;
            if (match.ExistingChildId is null)
            {
                db.Children.Add(new Child { Id = childId, CreatedAt = now, CreatedByOrganisation = registration.Caller.Organisation });
                if (registration.Key is { IsSpent: false } key)
                {
                    await dataKeys.AdoptAsync(key, ct).ConfigureAwait(false);
                }
            }

            foreach (var p in match.Presented.Where(p => p.MatchedChildId is null))
            {
                await LinkAsync(childId, p.Identifier, p.Index, protector.CurrentIndexVersion, registration.Caller.Organisation, now, ct).ConfigureAwait(false);
            }

            // Already in this council's care: the open episode stays.
            if (!match.KeepsOpenEpisode)
            {
                db.CareEpisodes.Add(new CareEpisode { Id = Guid.NewGuid(), ChildId = childId, ResponsibleLaNumber = registration.LaNumber, StartDate = registration.CareStart, RecordedAt = now });
                if (match.ExistingChildId is not null)
                {
                    await RaiseEpisodeOpenedAsync(childId, registration.LaNumber, now, ct).ConfigureAwait(false);
                }
            }

            IdentityOutcome outcome = match.ExistingChildId is null ? new IdentityOutcome.Created(childId) : new IdentityOutcome.Matched(childId);
            await CommitAsync(outcome, ct).ConfigureAwait(false);
            var linked = match.Presented.Count(p => p.MatchedChildId is null);
            LogRegistered(logger, childId, match.ExistingChildId is null, linked);
            return outcome;
        }
        catch (DbUpdateException) when (registration.Attempts < 3)
        {
            await AbandonRegistrationAsync(registration, ct).ConfigureAwait(false);
            return null;
        }
        finally
        {
            await unitOfWork.RollbackAsync(CancellationToken.None).ConfigureAwait(false); // nothing, once committed
        }
    }

    /// <summary>Registration refused after matching (the handler's decision): nothing is changed.</summary>
    public async Task AbandonRegistrationAsync(PreparedRegistration registration, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(registration);
        await unitOfWork.RollbackAsync(ct).ConfigureAwait(false);
        // A key cached for a row that was rolled back must not be used: the next attempt makes its own.
        dataKeys.ForgetCached(registration.NewChildId);
    }

    private async Task<RegistrationMatch> RefuseAsync(IdentityOutcome outcome, CancellationToken ct)
    {
        await unitOfWork.RollbackAsync(ct).ConfigureAwait(false);
        return new RegistrationMatch { Answer = outcome };
    }

    private Task CommitAsync(IdentityOutcome outcome, CancellationToken ct) => unitOfWork.CommitAsync(outcome switch
    {
        IdentityOutcome.Created c => Outcome.Created(c.ChildId),
        IdentityOutcome.Matched m => Outcome.Ok(m.ChildId),
        // A conflict discloses something about each child it names: one event for each.
        IdentityOutcome.Conflict c => Outcome.Conflict(c.ChildIds),
        _ => Outcome.Ok(),
    }, ct);

    /// <summary>
    /// A care episode opened for a child the exchange already knew: the DPOs of the opening council and of every
    /// council that looked after the child before are alerted (child id and councils only; no identifiers, no staff).
    /// </summary>
    private async Task RaiseEpisodeOpenedAsync(string childId, string laNumber, DateTimeOffset now, CancellationToken ct)
    {
        var earlier = await db.CareEpisodes.AsNoTracking().Where(e => e.ChildId == childId)
            .Select(e => e.ResponsibleLaNumber).Distinct().ToListAsync(ct).ConfigureAwait(false);
        var councils = earlier.Append(laNumber).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).Select(la => "la:" + la).ToList();
        db.DpoAlerts.Add(new DpoAlert
        {
            Id = Guid.NewGuid(), Kind = DpoAlert.EpisodeOpened, ChildId = childId, RaisedBy = "la:" + laNumber, Organisations = councils, RaisedAt = now,
        });
        LogEpisodeOpened(logger, childId, councils.Count);
    }

    /// <summary>Loads (into the cache) the keys of the children the identifiers match, or prepares one for a new child.</summary>
    private async Task<Exchange.Crypto.Keys.PreparedDataKey?> PrepareKeysAsync(IReadOnlyList<PresentedIdentifier> identifiers, string newChildId, CancellationToken ct)
    {
        var matched = (await MatchAsync(identifiers, ct).ConfigureAwait(false)).Select(p => p.MatchedChildId).OfType<string>().Distinct().ToList();
        foreach (var child in matched)
        {
            try
            {
                await dataKeys.GetAsync(child, ct).ConfigureAwait(false);
            }
            catch (Exchange.Crypto.Keys.OwnerErasedException)
            {
                // Decided inside the transaction, where the erasure is seen for certain.
            }
        }

        return matched.Count == 0 ? await dataKeys.PrepareAsync(newChildId, ct).ConfigureAwait(false) : null;
    }

    /// <summary>Adds an identifier to a child: its blind index and a copy sealed to the new row.</summary>
    internal async Task<Guid> LinkAsync(string childId, PresentedIdentifier identifier, byte[] index, string indexVersion, string linkedBy, DateTimeOffset now, CancellationToken ct)
    {
        var id = Guid.NewGuid();
        var sealedValue = await protector.SealAsync(identifier.Value, IdentifierEntity, childId, id, ct).ConfigureAwait(false);
        db.ChildIdentifiers.Add(new ChildIdentifier
        {
            Id = id,
            ChildId = childId,
            Type = identifier.Type,
            BlindIndex = index,
            IndexKeyVersion = indexVersion,
            Sealed = sealedValue,
            IsTemporary = identifier.IsTemporary,
            LinkedAt = now,
            LinkedByOrganisation = linkedBy,
        });
        return id;
    }

    /// <summary>Whether any child holds this identifier (under any blind-index version still held).</summary>
    internal async Task<bool> IsKnownAsync(PresentedIdentifier identifier, CancellationToken ct) =>
        await FindChildAsync(identifier, ct).ConfigureAwait(false) is not null;

    private async Task<string?> FindChildAsync(PresentedIdentifier identifier, CancellationToken ct)
    {
        foreach (var (version, digest) in protector.IndexesForLookup(identifier))
        {
            var childId = await db.ChildIdentifiers.AsNoTracking()
                .Where(i => i.Type == identifier.Type && i.BlindIndex == digest && i.IndexKeyVersion == version)
                .Select(i => i.ChildId)
                .FirstOrDefaultAsync(ct).ConfigureAwait(false);
            if (childId is not null)
            {
                return childId;
            }
        }

        return null;
    }

    private async Task<List<Presented>> MatchAsync(IReadOnlyList<PresentedIdentifier> identifiers, CancellationToken ct)
    {
        var result = new List<Presented>(identifiers.Count);
        foreach (var identifier in identifiers)
        {
            var childId = await FindChildAsync(identifier, ct).ConfigureAwait(false);
            result.Add(new Presented(identifier, protector.Index(identifier), childId is null ? null : await SurvivorOfAsync(childId, ct).ConfigureAwait(false)));
        }

        return result;
    }

    /// <summary>Follows merges to the surviving child id.</summary>
    public async Task<string> SurvivorOfAsync(string childId, CancellationToken ct)
    {
        for (var hops = 0; hops < 16; hops++)
        {
            var next = await db.Children.AsNoTracking().Where(c => c.Id == childId).Select(c => c.MergedIntoChildId).FirstOrDefaultAsync(ct).ConfigureAwait(false);
            if (next is null)
            {
                return childId;
            }

            childId = next;
        }

        throw new InvalidOperationException("The merge chain of a child is too long.");
    }

    /// <summary>
    /// A child already holding a different identifier of the same kind (two NHS numbers, two
    /// permanent UPNs, two IDs from one council) is a discrepancy to review, not to guess at.
    /// A temporary UPN may sit beside another UPN: children get permanent UPNs later.
    /// </summary>
    private async Task<bool> DiffersFromRegisterAsync(string childId, List<Presented> presented, CancellationToken ct)
    {
        var unmatched = presented.Where(p => p.MatchedChildId is null).ToList();
        if (unmatched.Count == 0)
        {
            return false;
        }

        var held = await db.ChildIdentifiers.AsNoTracking().Where(i => i.ChildId == childId)
            .Select(i => new { i.Type, i.IsTemporary }).ToListAsync(ct).ConfigureAwait(false);
        return unmatched.Any(p => held.Any(h => h.Type == p.Identifier.Type
            && !(p.Identifier.Type == PresentedIdentifier.Upn && (h.IsTemporary || p.Identifier.IsTemporary))));
    }

    private async Task<IdentityOutcome> OpenReviewAsync(Caller caller, List<Presented> presented, List<string> children, CancellationToken ct)
    {
        var reason = children.Count > 1 ? ReasonDifferentChildren : ReasonDiffersFromRegister;
        var key = ConflictKey(reason, children, presented);
        var existing = await db.IdentityReviews.AsNoTracking()
            .Where(r => r.ConflictKey == key && r.Status == ReviewStatus.Open)
            .Select(r => r.Id).FirstOrDefaultAsync(ct).ConfigureAwait(false);
        if (existing is not null)
        {
            return new IdentityOutcome.Conflict(existing, children);
        }

        // A caller cannot flood the admin's queue (or park identifier copies) without limit.
        var open = await db.IdentityReviews.CountAsync(r => r.RaisedByOrganisation == caller.Organisation && r.Status == ReviewStatus.Open, ct).ConfigureAwait(false);
        if (open >= limits.Value.Limits.MaxOpenReviewsPerOrganisation)
        {
            LogReviewCap(logger, caller.Organisation, open);
            return new IdentityOutcome.Conflict(null, children);
        }

        var reviewId = Ids.NewReviewId();
        var review = new IdentityReview
        {
            Id = reviewId,
            Reason = reason,
            ConflictKey = key,
            Status = ReviewStatus.Open,
            CandidateChildIds = children.Order(StringComparer.Ordinal).ToList(),
            CreatedAt = clock.GetUtcNow(),
            RaisedByOrganisation = caller.Organisation,
        };
        foreach (var p in presented)
        {
            // Sealed under the case's own data key, erased when the case closes.
            var id = Guid.NewGuid();
            var sealedValue = await protector.SealAsync(p.Identifier.Value, ReviewIdentifierEntity, reviewId, id, ct).ConfigureAwait(false);
            review.Identifiers.Add(new IdentityReviewIdentifier
            {
                Id = id,
                ReviewId = reviewId,
                Type = p.Identifier.Type,
                BlindIndex = p.Index,
                IndexKeyVersion = protector.CurrentIndexVersion,
                Sealed = sealedValue,
                IsTemporary = p.Identifier.IsTemporary,
                MatchedChildId = p.MatchedChildId,
            });
        }

        db.IdentityReviews.Add(review);
        await unitOfWork.FlushAsync(ct).ConfigureAwait(false);
        LogConflict(logger, reviewId, reason, children.Count);
        return new IdentityOutcome.Conflict(reviewId, children);
    }

    private static string ConflictKey(string reason, List<string> children, List<Presented> presented)
    {
        var text = new StringBuilder(reason);
        foreach (var child in children.Order(StringComparer.Ordinal))
        {
            text.Append('|').Append(child);
        }

        foreach (var part in presented.Select(p => p.Identifier.Type + ":" + Convert.ToHexString(p.Index)).Order(StringComparer.Ordinal))
        {
            text.Append('|').Append(part);
        }

        return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }

    /// <summary>
    /// Resolution's review case, one unit of work per attempt: on PostgreSQL a concurrent writer can hit the unique
    /// index, and the retry then finds the other's case.
    /// </summary>
    private async Task<IdentityOutcome> WithRetryAsync(Func<Task<IdentityOutcome>> work, CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            await unitOfWork.BeginAsync(ct).ConfigureAwait(false);
            try
            {
                var outcome = await work().ConfigureAwait(false);
                await CommitAsync(outcome, ct).ConfigureAwait(false);
                return outcome;
            }
            catch (DbUpdateException) when (attempt < 3)
            {
                await unitOfWork.RollbackAsync(ct).ConfigureAwait(false);
            }
            finally
            {
                await unitOfWork.RollbackAsync(CancellationToken.None).ConfigureAwait(false); // nothing, once committed
            }
        }
    }

    [LoggerMessage(EventId = 9303, EventName = "ChildRegistered", Level = LogLevel.Information, Message = "Child {ChildId} registered (new: {IsNew}); {Linked} identifier(s) linked")]
    private static partial void LogRegistered(ILogger logger, string childId, bool isNew, int linked);

    [LoggerMessage(EventId = 9304, EventName = "IdentityConflictNotRecorded", Level = LogLevel.Warning, Message = "Identity conflict not recorded: {Organisation} already has {Open} open review cases")]
    private static partial void LogReviewCap(ILogger logger, string organisation, int open);

    [LoggerMessage(EventId = 9307, EventName = "CareEpisodeOpenedForKnownChild", Level = LogLevel.Warning, Message = "Care episode opened for known child {ChildId}; DPOs of {Councils} council(s) alerted")]
    private static partial void LogEpisodeOpened(ILogger logger, string childId, int councils);

    [LoggerMessage(EventId = 9306, EventName = "IdentityConflictOpened", Level = LogLevel.Warning, Message = "Identity conflict: review {ReviewId} opened ({Reason}, {Children} candidate child(ren))")]
    private static partial void LogConflict(ILogger logger, string reviewId, string reason, int children);
}
