using Exchange.Api.Auth;
using Exchange.Api.Consents;
using Exchange.Api.Identity;
using Exchange.Api.Relationships;
using Exchange.Api.Restrictions;
using Exchange.Api.Storage;
using Microsoft.EntityFrameworkCore;

namespace Exchange.Api.Policy;

/// <summary>The engine's decision for one request, and the break-glass grant it relied on (flagged in the audit log).</summary>
public sealed record AccessDecision(PolicyDecision Decision, string? ChildId, Guid? BreakGlassGrant)
{
    /// <summary>The child's data has been erased: a permitted request finds nothing but that fact (410).</summary>
    public bool Erased { get; init; }

    /// <summary>
    /// The child is registered. Rules without a relationship (the operator DPO's, break-glass) permit whatever id
    /// is asked about, so the decision point answers 404 for one that is not.
    /// </summary>
    public bool Exists { get; init; }

    /// <summary>
    /// The periods whose facts a permit releases, or null for no limit. A rule with a relationship releases the
    /// facts dated within the periods the caller's organisation held that relationship (a council: its own care
    /// episodes, widened by handovers to it); rules without one (break-glass, the operator's DPO) are not limited.
    /// Handlers that list dated facts apply it (<see cref="DateWindows.Overlaps"/>).
    /// </summary>
    public DateWindows? Windows { get; init; }

    /// <summary>The facts the engine was asked about (the decision benchmark times the engine on them).</summary>
    internal PolicyRequest? Request { get; init; }
}

/// <summary>The periods a permitted request may read within (end inclusive; null = open).</summary>
public sealed record DateWindows(IReadOnlyList<RelationshipFact> Periods)
{
    /// <summary>
    /// A fact in force from <paramref name="start"/> to <paramref name="end"/> (inclusive; null = open) is within
    /// the windows when its period overlaps one of them: it held on at least one day of the caller's periods.
    /// </summary>
    public bool Overlaps(DateOnly start, DateOnly? end) =>
        Periods.Any(p => p.Start <= (end ?? DateOnly.MaxValue) && (p.End is null || start <= p.End));
}

/// <summary>
/// Builds the <see cref="PolicyRequest"/> for a caller and a child from the stored facts (the caller
/// organisation's dated relationships, the consents naming it as recipient, the child's restriction and
/// objections, the caller's own active break-glass grant) and asks the engine. Nothing else decides access.
/// </summary>
public sealed class AccessDecider(
    PolicyEngine engine,
    RelationshipFacts relationships,
    ConsentFacts consents,
    ProcessingState processing,
    IdentityService identity,
    ActiveOrganisationKinds organisationKinds,
    ExchangeDbContext db,
    TimeProvider clock)
{
    public PolicySet Policy => engine.Policy;

    public async Task<AccessDecision> DecideAsync(Caller caller, string action, string category, string purpose, string? childId, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(caller);
        var now = clock.GetUtcNow();
        // One connection for the whole decision: EF would otherwise open and close it around each of the
        // queries below, and every SQLite open runs the secure_delete pragma (docs/BENCHMARKS.md, part 4).
        await db.Database.OpenConnectionAsync(ct).ConfigureAwait(false);
        try
        {
            return await DecideOnOpenConnectionAsync(caller, action, category, purpose, childId, now, ct).ConfigureAwait(false);
        }
        finally
        {
            await db.Database.CloseConnectionAsync().ConfigureAwait(false);
        }
    }

    private async Task<AccessDecision> DecideOnOpenConnectionAsync(
        Caller caller, string action, string category, string purpose, string? childId, DateTimeOffset now, CancellationToken ct)
    {
        // Known from the sign-in check earlier in the request (an inactive organisation never gets this far).
        var kind = await organisationKinds.OfAsync(caller.Organisation, ct).ConfigureAwait(false);
        IReadOnlyList<RelationshipFact> facts = [];
        IReadOnlyList<ConsentFact> consented = [];
        (bool Restricted, IReadOnlyList<string> Allows) state = (false, []);
        Guid? grant = null;
        var erased = false;
        var exists = false;
        if (childId is not null)
        {
            // A merged id is decided as its survivor, which holds the merged child's relationships. One query
            // answers both whether the id was merged and whether it was erased; merges are rare and followed only then.
            var child = Ids.LooksLikeChildId(childId)
                ? await db.Children.AsNoTracking().Where(c => c.Id == childId)
                    .Select(c => new { c.MergedIntoChildId, Erased = c.ErasedAt != null }).FirstOrDefaultAsync(ct).ConfigureAwait(false)
                : null;
            exists = child is not null; // a merge target always exists
            if (child?.MergedIntoChildId is not null)
            {
                childId = await identity.SurvivorOfAsync(child.MergedIntoChildId, ct).ConfigureAwait(false);
                erased = await db.Children.AsNoTracking().AnyAsync(c => c.Id == childId && c.ErasedAt != null, ct).ConfigureAwait(false);
            }
            else
            {
                erased = child?.Erased == true;
            }

            facts = await relationships.ForAsync(caller.Organisation, childId, ct).ConfigureAwait(false);
            consented = await consents.ForAsync(caller.Organisation, childId, ct).ConfigureAwait(false);
            state = await processing.ForAsync(childId, ct).ConfigureAwait(false);
            grant = await db.BreakGlassGrants.AsNoTracking()
                .Where(g => g.ChildId == childId && g.OrganisationId == caller.Organisation && g.Subject == caller.Subject && g.StartsAt <= now && g.ExpiresAt > now)
                .OrderByDescending(g => g.ExpiresAt).Select(g => (Guid?)g.Id).FirstOrDefaultAsync(ct).ConfigureAwait(false);
        }

        var request = new PolicyRequest(caller.Roles, action, category, purpose, DateOnly.FromDateTime(now.UtcDateTime),
            facts, consented, state.Restricted, state.Allows, grant is not null)
        {
            OrganisationKind = kind?.ToString().ToLowerInvariant(),
        };
        var decision = engine.Decide(request);
        // Flag the access when only break-glass rules let it through: a relationship rule needs no flag.
        var underGrant = decision.Permit && decision.AppliedRules.All(engine.IsBreakGlassRule) ? grant : null;
        var windows = decision.Permit && childId is not null
            ? await WindowsAsync(caller, category, childId, decision, facts, ct).ConfigureAwait(false)
            : null;
        return new AccessDecision(decision, childId, underGrant) { Erased = erased, Exists = exists, Request = request, Windows = windows };
    }

    /// <summary>
    /// The periods of the applying rules' relationships; none (no limit) when any applying rule has no relationship.
    /// A responsible council's own episodes are widened by the episodes of councils that handed this category over to it.
    /// </summary>
    private async Task<DateWindows?> WindowsAsync(
        Caller caller, string category, string childId, PolicyDecision decision, IReadOnlyList<RelationshipFact> facts, CancellationToken ct)
    {
        var kinds = decision.AppliedRules.Select(id => engine.Policy.Rules.First(r => r.Id == id).Relationship).ToHashSet(StringComparer.Ordinal);
        if (kinds.Contains(PolicyRule.NoRelationship))
        {
            return null;
        }

        var periods = facts.Where(f => kinds.Contains(f.Kind)).ToList();
        if (kinds.Contains(ChildRelationship.ResponsibleCouncil))
        {
            periods.AddRange(await relationships.HandedOverAsync(caller.Organisation, childId, category, ct).ConfigureAwait(false));
        }

        return new DateWindows(periods);
    }
}
