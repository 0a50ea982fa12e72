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

    /// <summary>The identifiers match a child the caller may not process (its restriction or objection); nothing was changed.</summary>
    public sealed record Refused : IdentityOutcome;
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
    Microsoft.Extensions.Options.IOptions<Hosting.ExchangeOptions> limits,
    Auditing.AuditTrail audit,
    TimeProvider clock,
    ILogger<IdentityService> logger)
{
    internal const string IdentifierEntity = "child_identifiers";
    internal const string ReviewIdentifierEntity = "identity_review_identifiers";
    public const string ReasonDifferentChildren = "identifiers-match-different-children";
    public const string ReasonDiffersFromRegister = "identifier-differs-from-register";

    private sealed record Presented(PresentedIdentifier Identifier, byte[] Index, string? MatchedChildId);

    /// <summary>
    /// Resolution is read-only apart from opening a review case: it never creates or links. The identifiers are
    /// compared with the part of the register the caller may resolve: <paramref name="mayResolve"/> is asked about
    /// every child they match, and an identifier of any other child counts as unknown, so the answer (a match, a
    /// conflict, none) says nothing about children the caller is not responsible for.
    /// </summary>
    public async Task<IdentityOutcome> ResolveAsync(Caller caller, IReadOnlyList<PresentedIdentifier> identifiers,
        Func<string, CancellationToken, Task<bool>> mayResolve, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(caller);
        ArgumentNullException.ThrowIfNull(mayResolve);
        var presented = await MatchAsync(identifiers, ct).ConfigureAwait(false);
        foreach (var _ in presented.Where(p => p.MatchedChildId is null))
        {
            // The merge lookup a match costs, so that an unknown identifier takes as long as a known one.
            await SurvivorOfAsync(Ids.NewChildId(), ct).ConfigureAwait(false);
        }

        var visible = new List<string>();
        foreach (var child in presented.Select(p => p.MatchedChildId).OfType<string>().Distinct(StringComparer.Ordinal).ToList())
        {
            if (await mayResolve(child, ct).ConfigureAwait(false))
            {
                visible.Add(child);
            }
        }

        var view = presented.Select(p => p.MatchedChildId is { } c && !visible.Contains(c) ? p with { MatchedChildId = null } : p).ToList();
        if (visible.Count == 0)
        {
            return new IdentityOutcome.NoMatch();
        }

        if (visible.Count > 1 || await DiffersFromRegisterAsync(visible[0], view, ct).ConfigureAwait(false))
        {
            return await WithRetryAsync(() => OpenReviewAsync(caller, view, visible, ct), ct).ConfigureAwait(false);
        }

        return new IdentityOutcome.Matched(visible[0]);
    }

    /// <summary>Registers a child in the caller council's care, or links new identifiers to the one child they match.</summary>
    /// <param name="mayProcessExisting">Asked before anything is linked to a child the identifiers already match.</param>
    public async Task<IdentityOutcome> RegisterAsync(
        Caller caller, string laNumber, IReadOnlyList<PresentedIdentifier> identifiers, DateOnly careStart,
        Func<string, CancellationToken, Task<bool>> mayProcessExisting, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(mayProcessExisting);
        ArgumentNullException.ThrowIfNull(caller);
        // Key work (a Key Vault round trip) happens before the write lock and the transaction: warm the
        // keys of the children these identifiers match now, or wrap a key for the child we may create.
        var newChildId = Ids.NewChildId();
        using var prepared = await PrepareKeysAsync(identifiers, newChildId, ct).ConfigureAwait(false);
        return await WithRetryAsync(async () =>
        {
            var presented = await MatchAsync(identifiers, ct).ConfigureAwait(false);
            var children = presented.Select(p => p.MatchedChildId).OfType<string>().Distinct(StringComparer.Ordinal).ToList();
            if (children.Count > 1 || (children.Count == 1 && await DiffersFromRegisterAsync(children[0], presented, ct).ConfigureAwait(false)))
            {
                return await OpenReviewAsync(caller, presented, children, ct).ConfigureAwait(false);
            }

            var now = clock.GetUtcNow();
            string childId;
            if (children.Count == 0)
            {
                childId = newChildId;
                db.Children.Add(new Child { Id = childId, CreatedAt = now, CreatedByOrganisation = caller.Organisation });
                if (prepared is { IsSpent: false })
                {
                    await dataKeys.AdoptAsync(prepared, ct).ConfigureAwait(false);
                }
            }
            else
            {
                childId = children[0];
                // Hold the child (a no-op update takes its row lock): an erasure in progress finishes first and wins.
                var held = childId;
                if (await unitOfWork.UpdateAsync(db.Children.Where(c => c.Id == held && c.ErasedAt == null), u => u.SetProperty(c => c.MergedAt, c => c.MergedAt), ct).ConfigureAwait(false) == 0)
                {
                    return new IdentityOutcome.Erased();
                }

                var episodes = await db.CareEpisodes.Where(e => e.ChildId == childId && e.EndDate == null).ToListAsync(ct).ConfigureAwait(false);
                if (episodes.Any(e => e.ResponsibleLaNumber != laNumber))
                {
                    return new IdentityOutcome.CareConflict(childId);
                }

                // A council may not reach back into another council's care: a new episode starts after every other
                // council's episode for the child ended (the other episodes are all ended here).
                var otherEnds = await db.CareEpisodes.Where(e => e.ChildId == childId && e.ResponsibleLaNumber != laNumber)
                    .Select(e => e.EndDate).ToListAsync(ct).ConfigureAwait(false);
                if (episodes.Count == 0 && otherEnds.Any(end => end is null || careStart <= end))
                {
                    return new IdentityOutcome.CareOverlap();
                }

                // After the care check: a council the child is not with learns of the other council's care, as
                // before, and nothing about a restriction.
                if (!await mayProcessExisting(childId, ct).ConfigureAwait(false))
                {
                    return new IdentityOutcome.Refused();
                }

                if (episodes.Count > 0)
                {
                    careStart = default; // already in this council's care: keep the open episode
                }
            }

            foreach (var p in presented.Where(p => p.MatchedChildId is null))
            {
                await LinkAsync(childId, p.Identifier, p.Index, protector.CurrentIndexVersion, caller.Organisation, now, ct).ConfigureAwait(false);
            }

            if (careStart != default)
            {
                db.CareEpisodes.Add(new CareEpisode { Id = Guid.NewGuid(), ChildId = childId, ResponsibleLaNumber = laNumber, StartDate = careStart, RecordedAt = now });
                if (children.Count == 1)
                {
                    await RaiseEpisodeOpenedAsync(childId, laNumber, now, ct).ConfigureAwait(false);
                }
            }

            await unitOfWork.FlushAsync(ct).ConfigureAwait(false);
            var linked = presented.Count(p => p.MatchedChildId is null);
            LogRegistered(logger, childId, children.Count == 0, linked);
            return children.Count == 0 ? new IdentityOutcome.Created(childId) : new IdentityOutcome.Matched(childId);
        }, ct, onRollback: () => dataKeys.ForgetCached(newChildId)).ConfigureAwait(false);
    }

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
    /// One unit of work per attempt: one writer at a time on SQLite; on PostgreSQL a concurrent registration of the
    /// same identifier hits the unique index, and the retry then finds the other's child. An outcome that changes
    /// nothing rolls back; the others commit with their audit event (a conflict names every child it disclosed
    /// something about).
    /// </summary>
    private async Task<IdentityOutcome> WithRetryAsync(Func<Task<IdentityOutcome>> work, CancellationToken ct, Action? onRollback = null)
    {
        for (var attempt = 1; ; attempt++)
        {
            await unitOfWork.BeginAsync(ct).ConfigureAwait(false);
            try
            {
                var outcome = await work().ConfigureAwait(false);
                if (outcome is IdentityOutcome.CareConflict or IdentityOutcome.CareOverlap or IdentityOutcome.Erased or IdentityOutcome.Refused)
                {
                    await unitOfWork.RollbackAsync(ct).ConfigureAwait(false);
                    // The 409 tells the caller the child is in another council's care: its event names the child.
                    audit.About((outcome as IdentityOutcome.CareConflict)?.ChildId);
                }
                else
                {
                    await unitOfWork.CommitAsync(outcome switch
                    {
                        IdentityOutcome.Created c => Outcome.Created(c.ChildId),
                        IdentityOutcome.Matched m => Outcome.Ok(m.ChildId),
                        IdentityOutcome.Conflict c => Outcome.Conflict(c.ChildIds),
                        _ => Outcome.Ok(),
                    }, ct).ConfigureAwait(false);
                }

                return outcome;
            }
            catch (DbUpdateException) when (attempt < 3)
            {
                await unitOfWork.RollbackAsync(ct).ConfigureAwait(false);
                // A key cached for a row that was rolled back must not be used: the next attempt makes its own.
                onRollback?.Invoke();
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
