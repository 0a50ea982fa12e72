using Exchange.Api.Auth;
using Exchange.Api.Policy;

namespace Exchange.Api.Decisions;

/// <summary>
/// What the decision point decided for this request, as a handler parameter (<c>Decided decided</c>): the child the
/// request is about (a merged id already followed to its survivor), the rule and lawful basis, the periods a read may
/// release, and the field mask. Scoped, so minimal APIs bind it from the request's services; the
/// <see cref="PolicyDecidedEndpointExtensions.Decides{TBuilder}"/> filter fills it before the handler runs, and
/// <see cref="ChildDecisions"/> replaces it when a handler that finds its own child adopts a decision about it.
/// A handler checks nothing more about who may act: the policy did.
/// </summary>
public sealed class Decided
{
    private AccessDecision? _access;

    /// <summary>The endpoint's action and audited category, and who asked for which purpose: what a second decision repeats.</summary>
    internal (string Action, string Category, Caller Caller, string Purpose)? Question { get; private set; }

    /// <summary>
    /// The action the decision is about: the endpoint's own, or the other one it lets the policy grant instead
    /// (<c>.Decides(..., otherwise: ...)</c>) when that is what the caller was granted.
    /// </summary>
    public string Action => Question?.Action
        ?? throw new InvalidOperationException("A policy-decided endpoint reads its decision only after the decision point has run.");

    /// <summary>The decision the answer rests on.</summary>
    public AccessDecision Access => _access
        ?? throw new InvalidOperationException("A policy-decided endpoint reads its decision only after the decision point has run.");

    /// <summary>Whether a decision has been made for this request (a handler outside <c>.Decides(...)</c> has none).</summary>
    public bool IsMade => _access is not null;

    /// <summary>The child this permitted request is about, as the decision resolved it (a merged id becomes its survivor).</summary>
    public string ChildId => Access.ChildId
        ?? throw new InvalidOperationException("This endpoint was decided without a child: it finds its child and decides on it (ChildDecisions).");

    /// <summary>The rule that decided, its lawful basis and the fields it releases.</summary>
    public PolicyDecision Decision => Access.Decision;

    /// <summary>The periods whose facts the permit releases, or null for no limit (see <see cref="AccessDecision.Windows"/>).</summary>
    public DateWindows? Windows => Access.Windows;

    /// <summary>The fields the permit hides: a handler must not order by a field it hides either.</summary>
    public FieldMask Mask { get; private set; } = new([], []);

    /// <summary>A batch whose handler decided and refused item by item (<see cref="ChildDecisions.AdoptBatch"/>).</summary>
    internal bool DecidedPerItem { get; set; }

    internal void Ask(string action, string category, Caller caller, string purpose) => Question = (action, category, caller, purpose);

    internal void Set(AccessDecision access, FieldMask? mask)
    {
        _access = access;
        if (mask is not null)
        {
            Mask = mask;
        }
    }
}
