using Exchange.Api.Auditing;
using Exchange.Api.Errors;
using Exchange.Api.Policy;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Exchange.Api.Decisions;

/// <summary>
/// For an endpoint decided without a child (registration, resolution): once the handler knows which existing child
/// the request is about, the endpoint's action is decided on that child, so its restriction, objections and erasure
/// apply (UK GDPR Art. 18, 21) and the audit event names the child and the decision the answer rests on. Scoped; it
/// asks the same question the decision point asked (<see cref="Decided"/>), only about a child.
/// </summary>
public sealed class ChildDecisions(Decided decided, AccessDecider decider, AuditTrail audit)
{
    /// <summary>
    /// Decides on <paramref name="childId"/> and adopts the decision; returns the refusal to answer, or null to go on.
    /// </summary>
    public async Task<ProblemHttpResult?> DecideAgainAsync(string childId, CancellationToken ct)
    {
        var access = await DecideOnAsync(childId, ct).ConfigureAwait(false);
        Adopt(access);
        if (!access.Decision.Permit)
        {
            return PolicyDecidedEndpointExtensions.Refusal(access.Decision.Reason, ProblemTypes.ChildNotFound);
        }

        return access.Erased ? Problems.Result(ProblemTypes.ChildErased, "This child's data has been erased.") : null;
    }

    /// <summary>
    /// Decides this endpoint's action on <paramref name="childId"/> without recording anything: the handler
    /// <see cref="Adopt"/>s the decision it acts on. For a handler that must look at several children (or at none,
    /// to spend the same queries) before it knows which decision its answer rests on.
    /// </summary>
    public Task<AccessDecision> DecideOnAsync(string childId, CancellationToken ct)
    {
        var (action, category, caller, purpose) = decided.Question
            ?? throw new InvalidOperationException("Only a policy-decided endpoint can decide again on a child.");
        return decider.DecideAsync(caller, action, category, purpose, childId, ct);
    }

    /// <summary>The request acts on this decision: the audit event names its child and records it, and it masks the answer.</summary>
    public void Adopt(AccessDecision access)
    {
        ArgumentNullException.ThrowIfNull(access);
        var (action, category, _, _) = decided.Question
            ?? throw new InvalidOperationException("Only a policy-decided endpoint can adopt a decision.");
        audit.About(access.ChildId);
        audit.Decided(access.Decision, access.BreakGlassGrant?.ToString(), action == "read" ? access.Decision.Fields : null);
        // The answer is masked by this decision, not the first.
        decided.Set(access, access.Decision.Permit ? new FieldMask(decider.Policy.Categories[category].Fields, access.Decision.Fields) : null);
    }

    /// <summary>
    /// For a batch about many children (attendance marks), decided item by item with
    /// <see cref="AccessDecider.DecideManyAsync"/>: the handler has refused each item the policy did not permit, so it
    /// may answer 200 even when none was. The batch's own event records the rule of <paramref name="anyPermit"/> (the
    /// permits are alike: one rule, one lawful basis) and names no child; each child stored gets its own event.
    /// </summary>
    public void AdoptBatch(AccessDecision? anyPermit)
    {
        decided.DecidedPerItem = true;
        if (anyPermit is not null)
        {
            audit.Decided(anyPermit.Decision);
            // The answer is released under the permit's mask (the endpoint's first, child-less decision was a denial).
            var category = decided.Question?.Category;
            decided.Set(anyPermit, category is null ? null : new FieldMask(decider.Policy.Categories[category].Fields, anyPermit.Decision.Fields));
        }
    }

    /// <summary>
    /// For a standing request about no child yet (a webhook subscription and its management): what it will be told is
    /// decided item by item when each is delivered (<see cref="Events.EventAudience"/>), so the request may succeed
    /// without a permit about a child. The endpoint's first decision has still refused a role with no rule for the
    /// category, or a purpose it may not use.
    /// </summary>
    public void DecidedAtDelivery() => decided.DecidedPerItem = true;
}
