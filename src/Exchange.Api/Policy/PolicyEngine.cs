using System.Collections.Concurrent;
using System.Collections.Frozen;

namespace Exchange.Api.Policy;

/// <summary>A relationship the caller's organisation holds to the child, as a dated fact (end inclusive; null = open).</summary>
public sealed record RelationshipFact(string Kind, DateOnly Start, DateOnly? End = null)
{
    public bool HoldsOn(DateOnly day) => Start <= day && (End is null || day <= End);
}

/// <summary>A consent that covers a category for a purpose (for the caller's organisation), valid from/until.</summary>
public sealed record ConsentFact(string Category, string Purpose, DateOnly From, DateOnly? Until = null)
{
    public bool Covers(string category, string purpose, DateOnly day) =>
        Category == category && Purpose == purpose && From <= day && (Until is null || day <= Until);
}

/// <summary>Everything a decision depends on; nothing else is consulted.</summary>
public sealed record PolicyRequest(
    IReadOnlyList<string> Roles,
    string Action,
    string Category,
    string Purpose,
    DateOnly On,
    IReadOnlyList<RelationshipFact> Relationships,
    IReadOnlyList<ConsentFact> Consents,
    bool Restricted = false,
    IReadOnlyList<string>? RestrictionAllows = null,
    bool BreakGlass = false)
{
    /// <summary>The caller's kind of organisation (council, school, health, operator), for rules that name kinds.</summary>
    public string? OrganisationKind { get; init; }
}

/// <summary>
/// Why a request was denied: lets the endpoint choose 404 (no relationship: existence must not leak) or 403.
/// Ordered as the conditions are checked, so a larger value means a candidate rule got further.
/// </summary>
public enum DenyReason
{
    None = 0,
    NoRule,
    PurposeNotPermitted,
    NoRelationship,
    OutsideRelationshipDates,
    BreakGlassRequired,
    Restricted,
    ConsentRequired,
}

/// <summary>The answer: permit or deny, the deciding rule, the lawful basis and the fields released.</summary>
public sealed record PolicyDecision(bool Permit, string Rule, string? LawfulBasis, IReadOnlyList<string> Fields, DenyReason Reason, string PolicyHash)
{
    /// <summary>Every rule that applied (the deciding one first); their fields make up the mask.</summary>
    public IReadOnlyList<string> AppliedRules { get; init; } = [];

    /// <summary>Only break-glass rules applied: the access is flagged with the grant it relied on.</summary>
    internal bool OnlyBreakGlass { get; init; }

    /// <summary>The relationships the applied rules name (<see cref="PolicyRule.NoRelationship"/> for a rule without one).</summary>
    internal IReadOnlySet<string> Relationships { get; init; } = FrozenSet<string>.Empty;

    public const string DefaultDeny = "default-deny";

    public string DecisionText => Permit ? "permit" : "deny";
}

/// <summary>
/// The one decision point. Default deny. Every rule whose roles, action, category and purpose match is
/// considered; it applies if its relationship holds (within its dates), its consent, restriction and
/// break-glass conditions are met. The first applying rule (file order) is the deciding rule and gives the
/// lawful basis; the released fields are the union over all applying rules. A denial names the furthest
/// condition a candidate rule reached, so the caller can answer 404 where even existence must not leak.
/// </summary>
public sealed class PolicyEngine(PolicySet policy)
{
    public PolicySet Policy { get; } = policy;

    private readonly FrozenDictionary<string, FrozenSet<string>> _categoryFields =
        policy.Categories.ToFrozenDictionary(c => c.Key, c => c.Value.Fields.ToFrozenSet(StringComparer.Ordinal), StringComparer.Ordinal);
    private readonly ConcurrentDictionary<CandidateKey, Candidates> _candidates = new();

    /// <summary>Distinct kinds of request whose candidate rules are remembered; beyond it they are worked out each time.</summary>
    private const int MaxRemembered = 4_096;

    /// <summary>Distinct outcomes remembered for one kind of request; beyond it they are worked out each time.</summary>
    private const int MaxOutcomes = 256;

    public PolicyDecision Decide(PolicyRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var candidates = CandidatesFor(request);
        var furthest = candidates.Furthest;
        // Which candidates applied (one bit each, in file order) and how far the others got is all a decision depends on
        // once the candidates are known, so each outcome is worked out once and shared: a cohort decides thousands of
        // children, most of them alike. Decisions are immutable. Beyond 64 candidates, the rules are listed instead.
        var applied = 0UL;
        List<PolicyRule>? listed = candidates.Rules.Count > 64 ? [] : null;
        for (var i = 0; i < candidates.Rules.Count; i++)
        {
            var failed = FirstFailure(candidates.Rules[i], request);
            if (failed != DenyReason.None)
            {
                furthest = Further(furthest, failed);
            }
            else if (listed is null)
            {
                applied |= 1UL << i;
            }
            else
            {
                listed.Add(candidates.Rules[i]);
            }
        }

        if (listed is not null)
        {
            return Outcome(listed, furthest, request.Category);
        }

        var key = (applied, applied == 0 ? furthest : DenyReason.None);
        if (candidates.Outcomes.TryGetValue(key, out var known))
        {
            return known;
        }

        var outcome = Outcome(candidates.Rules.Where((_, i) => (applied & (1UL << i)) != 0).ToList(), key.Item2, request.Category);
        if (candidates.Outcomes.Count < MaxOutcomes)
        {
            candidates.Outcomes.TryAdd(key, outcome);
        }

        return outcome;
    }

    /// <summary>The decision when <paramref name="applying"/> (file order) are the candidate rules whose conditions hold.</summary>
    private PolicyDecision Outcome(List<PolicyRule> applying, DenyReason furthest, string category)
    {
        // Break-glass is for access no relationship gives: where an ordinary rule applies, a grant adds nothing
        // (it must not widen the mask of a related caller without the access being flagged as break-glass).
        if (applying.Any(r => !r.Conditions.BreakGlass))
        {
            applying.RemoveAll(r => r.Conditions.BreakGlass);
        }

        if (applying.Count == 0)
        {
            return new PolicyDecision(false, PolicyDecision.DefaultDeny, null, [], furthest, Policy.Hash);
        }

        var deciding = applying[0];
        var fields = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var rule in applying)
        {
            fields.UnionWith(rule.Fields ?? Policy.Categories[category].Fields);
        }

        // A rule over several categories may list fields of another: release only this category's.
        var own = _categoryFields[category];
        return new PolicyDecision(true, deciding.Id, deciding.LawfulBasis, fields.Where(own.Contains).ToList(), DenyReason.None, Policy.Hash)
        {
            AppliedRules = applying.Select(r => r.Id).ToList(),
            OnlyBreakGlass = applying.All(r => r.Conditions.BreakGlass),
            Relationships = applying.Select(r => r.Relationship).ToFrozenSet(StringComparer.Ordinal),
        };
    }

    /// <summary>What a rule is matched on before the child's facts: the same for every child of a request.</summary>
    private readonly record struct CandidateKey(string Roles, string Action, string Category, string Purpose, string Kind);

    /// <summary>The rules whose roles, action, category, organisation kind and purpose match, in file order, and the furthest reason the others reached.</summary>
    private sealed record Candidates(IReadOnlyList<PolicyRule> Rules, DenyReason Furthest)
    {
        /// <summary>The decisions already worked out, by which candidates applied and how far the others got.</summary>
        public ConcurrentDictionary<(ulong Applied, DenyReason Furthest), PolicyDecision> Outcomes { get; } = new();
    }

    /// <summary>
    /// The rules that match the request before its facts are looked at. A request for many children (a cohort, a batch)
    /// asks the same thing for each, so the answer is remembered by what it depends on.
    /// </summary>
    private Candidates CandidatesFor(PolicyRequest request)
    {
        // Roles joined with a character no role name may hold; a role holding it is matched without remembering.
        var cacheable = !request.Roles.Any(r => r.Contains('\n', StringComparison.Ordinal));
        var key = cacheable ? new CandidateKey(string.Join('\n', request.Roles), request.Action, request.Category, request.Purpose, request.OrganisationKind ?? "") : default;
        if (cacheable && _candidates.TryGetValue(key, out var known))
        {
            return known;
        }

        var rules = new List<PolicyRule>();
        var furthest = DenyReason.NoRule;
        foreach (var rule in Policy.Rules)
        {
            if (!rule.Roles.Any(request.Roles.Contains) || !rule.Actions.Contains(request.Action)
                || !rule.Categories.Contains(request.Category)
                || (rule.Organisations.Count > 0 && !rule.Organisations.Contains(request.OrganisationKind ?? "")))
            {
                continue;
            }

            // The role may do this, but not for the declared purpose: said as such, since it reveals nothing about the child.
            if (!rule.Purposes.Contains(request.Purpose))
            {
                furthest = Further(furthest, DenyReason.PurposeNotPermitted);
                continue;
            }

            rules.Add(rule);
        }

        var found = new Candidates(rules, furthest);
        if (cacheable && _candidates.Count < MaxRemembered)
        {
            _candidates.TryAdd(key, found);
        }

        return found;
    }

    private static DenyReason FirstFailure(PolicyRule rule, PolicyRequest request)
    {
        if (rule.Relationship != PolicyRule.NoRelationship)
        {
            // A loop, not a query: this runs for every rule of every child of a cohort.
            bool any = false, holds = false;
            for (var i = 0; i < request.Relationships.Count; i++)
            {
                if (request.Relationships[i].Kind == rule.Relationship)
                {
                    any = true;
                    holds |= request.Relationships[i].HoldsOn(request.On);
                }
            }

            if (!any)
            {
                return DenyReason.NoRelationship;
            }

            if (rule.Conditions.WithinDates && !holds)
            {
                return DenyReason.OutsideRelationshipDates;
            }
        }

        if (rule.Conditions.BreakGlass && !request.BreakGlass)
        {
            return DenyReason.BreakGlassRequired;
        }

        if (rule.Conditions.NotRestricted && request.Restricted && !(request.RestrictionAllows ?? []).Contains(request.Purpose))
        {
            return DenyReason.Restricted;
        }

        if (rule.Conditions.RequiresConsent && !Consented(request))
        {
            return DenyReason.ConsentRequired;
        }

        return DenyReason.None;
    }

    private static bool Consented(PolicyRequest request)
    {
        for (var i = 0; i < request.Consents.Count; i++)
        {
            if (request.Consents[i].Covers(request.Category, request.Purpose, request.On))
            {
                return true;
            }
        }

        return false;
    }

    // The reason from the candidate that got furthest through its conditions is the most telling.
    private static DenyReason Further(DenyReason a, DenyReason b) => (DenyReason)Math.Max((int)a, (int)b);
}
