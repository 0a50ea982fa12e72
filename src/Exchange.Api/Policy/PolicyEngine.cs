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

    private readonly FrozenSet<string> _breakGlassRules = policy.Rules.Where(r => r.Conditions.BreakGlass).Select(r => r.Id).ToFrozenSet(StringComparer.Ordinal);
    private readonly FrozenDictionary<string, FrozenSet<string>> _categoryFields =
        policy.Categories.ToFrozenDictionary(c => c.Key, c => c.Value.Fields.ToFrozenSet(StringComparer.Ordinal), StringComparer.Ordinal);
    private readonly ConcurrentDictionary<CandidateKey, Candidates> _candidates = new();

    /// <summary>Distinct kinds of request whose candidate rules are remembered; beyond it they are worked out each time.</summary>
    private const int MaxRemembered = 4_096;

    /// <summary>True when the rule only applies under a break-glass grant (its accesses are flagged).</summary>
    public bool IsBreakGlassRule(string ruleId) => _breakGlassRules.Contains(ruleId);

    public PolicyDecision Decide(PolicyRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        PolicyRule? deciding = null;
        var applied = new List<string>();
        var fields = new SortedSet<string>(StringComparer.Ordinal);
        var applying = new List<PolicyRule>();
        var candidates = CandidatesFor(request);
        var furthest = candidates.Furthest;
        foreach (var rule in candidates.Rules)
        {
            var failed = FirstFailure(rule, request);
            if (failed != DenyReason.None)
            {
                furthest = Further(furthest, failed);
                continue;
            }

            applying.Add(rule);
        }

        // Break-glass is for access no relationship gives: where an ordinary rule applies, a grant adds nothing
        // (it must not widen the mask of a related caller without the access being flagged as break-glass).
        if (applying.Any(r => !r.Conditions.BreakGlass))
        {
            applying.RemoveAll(r => r.Conditions.BreakGlass);
        }

        foreach (var rule in applying)
        {
            deciding ??= rule;
            applied.Add(rule.Id);
            fields.UnionWith(rule.Fields ?? Policy.Categories[request.Category].Fields);
        }

        if (deciding is null)
        {
            return new PolicyDecision(false, PolicyDecision.DefaultDeny, null, [], furthest, Policy.Hash);
        }

        // A rule over several categories may list fields of another: release only this category's.
        var own = _categoryFields[request.Category];
        return new PolicyDecision(true, deciding.Id, deciding.LawfulBasis, fields.Where(own.Contains).ToList(), DenyReason.None, Policy.Hash)
        {
            AppliedRules = applied,
        };
    }

    /// <summary>What a rule is matched on before the child's facts: the same for every child of a request.</summary>
    private readonly record struct CandidateKey(string Roles, string Action, string Category, string Purpose, string Kind);

    /// <summary>The rules whose roles, action, category, organisation kind and purpose match, in file order, and the furthest reason the others reached.</summary>
    private sealed record Candidates(IReadOnlyList<PolicyRule> Rules, DenyReason Furthest);

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
            var facts = request.Relationships.Where(r => r.Kind == rule.Relationship).ToList();
            if (facts.Count == 0)
            {
                return DenyReason.NoRelationship;
            }

            if (rule.Conditions.WithinDates && !facts.Any(f => f.HoldsOn(request.On)))
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

        if (rule.Conditions.RequiresConsent && !request.Consents.Any(c => c.Covers(request.Category, request.Purpose, request.On)))
        {
            return DenyReason.ConsentRequired;
        }

        return DenyReason.None;
    }

    // The reason from the candidate that got furthest through its conditions is the most telling.
    private static DenyReason Further(DenyReason a, DenyReason b) => (DenyReason)Math.Max((int)a, (int)b);
}
