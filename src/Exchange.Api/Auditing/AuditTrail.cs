using Exchange.Api.Auth;
using Exchange.Api.Identity;
using Exchange.Api.Purpose;
using Exchange.Audit.Events;
using Microsoft.AspNetCore.Authorization;

namespace Exchange.Api.Auditing;

/// <summary>
/// The audit record of one request (scoped). <see cref="AuditMiddleware"/> begins it for audited
/// endpoints; the decision point says which child and decision it concerns (<see cref="About"/>,
/// <see cref="Decided"/>). A request that writes has its event appended by its unit of work, for the outcome it
/// commits, just before the commit (<see cref="Work.UnitOfWork.CommitAsync"/>); a request that commits nothing has it
/// appended by the middleware before the answer is released. Outside an audited request every method does nothing.
/// </summary>
public sealed class AuditTrail(AuditWriter writer, TimeProvider clock, Policy.PolicySet? policy = null)
{
    private HttpContext? _http;
    private AuditedEndpoint? _endpoint;
    private string? _childId;
    private bool _childUnrecognised;
    private int? _expectedStatus;
    private Func<Task>? _onRecorded;
    private string? _recordedChildId;
    private Policy.PolicyDecision? _decision;
    private string? _breakGlassGrant;
    private IReadOnlyList<string>? _released;
    private List<string> _alsoAbout = [];
    private string? _targetOrganisation;
    private int? _count;
    private readonly List<Task> _ahead = [];
    private readonly HashSet<string> _recordedAhead = new(StringComparer.Ordinal);

    /// <summary>Whether this request is audited at all.</summary>
    public bool IsActive => _http is not null && writer.Enabled;

    /// <summary>The status recorded so far, or null when no event has been appended yet.</summary>
    public int? RecordedStatus { get; private set; }

    /// <summary>The index of the last event appended for this request.</summary>
    public long? RecordedIndex { get; private set; }

    internal void Begin(HttpContext http, AuditedEndpoint endpoint, Func<Task>? onRecorded = null)
    {
        _http = http;
        _endpoint = endpoint;
        _onRecorded = onRecorded;
        // The route value is the caller's text, whatever it looks like (ch_9991000291... holds an NHS number):
        // the event names a child only once the decision point has resolved it to a registered one (About).
        _childUnrecognised = http.GetRouteValue("childId") is string;
    }

    /// <summary>
    /// Names the child the request concerns (its pseudonymous id only). Only ids the service resolved to a
    /// registered child or created may be passed here, never a caller's value as it came.
    /// </summary>
    public void About(string? childId)
    {
        if (childId is not null && Ids.LooksLikeChildId(childId))
        {
            _childId = childId;
            _childUnrecognised = false;
        }
    }

    /// <summary>The request named a child that did not resolve to a registered one: the event says so and names none.</summary>
    public void ChildNotRecognised()
    {
        if (_childId is null)
        {
            _childUnrecognised = true;
        }
    }

    /// <summary>
    /// Further children the request disclosed something about (an identity conflict between two children): the
    /// event is recorded once more for each, naming it, so every child's own history (its subject access export,
    /// a DPO's search by child) shows the disclosure. The events share the request id and the outcome.
    /// </summary>
    public void AlsoAbout(IEnumerable<string> childIds)
    {
        ArgumentNullException.ThrowIfNull(childIds);
        _alsoAbout = childIds.Where(Ids.LooksLikeChildId).Where(c => !string.Equals(c, _childId, StringComparison.Ordinal))
            .Distinct(StringComparer.Ordinal).ToList();
    }

    /// <summary>
    /// A long read's children known before its answer is complete (the cohort, a chunk at a time): their events, for
    /// the answer expected (200, under the decision so far), start to be appended now, while the request goes on to
    /// the next chunk, instead of all at the end. <see cref="RecordAsync"/> waits for them before the answer is released
    /// and leaves them out of its own events; if the request ends otherwise, it records these children again with the
    /// outcome, so each child's last event of the request is what happened.
    /// </summary>
    public void DisclosingAhead(IReadOnlyList<string> childIds, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(childIds);
        var fresh = childIds.Where(Ids.LooksLikeChildId).Where(c => !string.Equals(c, _childId, StringComparison.Ordinal) && _recordedAhead.Add(c)).ToList();
        if (!IsActive || fresh.Count == 0)
        {
            return;
        }

        var each = TemplateFor(StatusCodes.Status200OK) with { Count = null, ChildUnrecognised = false };
        var now = clock.GetUtcNow();
        _ahead.Add(writer.AppendManyAsync(fresh.Select(child => AuditEvent.Create(now, child, each)).ToList(), cancellationToken));
    }

    /// <summary>The organisation an administrative action concerns (registered, deactivated): the event's <c>target_org</c>.</summary>
    public void Concerning(string organisationId) => _targetOrganisation = organisationId;

    /// <summary>
    /// The policy engine's decision for this request: its rule and lawful basis go into the event, and a read
    /// records the field mask as the fields released. <paramref name="breakGlassGrant"/> flags an access made
    /// under a break-glass grant.
    /// </summary>
    public void Decided(Policy.PolicyDecision decision, string? breakGlassGrant = null, IReadOnlyList<string>? released = null)
    {
        ArgumentNullException.ThrowIfNull(decision);
        _decision = decision;
        _released = released;
        _breakGlassGrant = breakGlassGrant;
    }

    /// <summary>
    /// Appends the event for the outcome a unit of work is about to commit (<see cref="Work.UnitOfWork.CommitAsync"/>):
    /// <paramref name="status"/>, naming the first of <paramref name="children"/> and recorded once more for each other.
    /// A batch (<paramref name="count"/> items) names no child in its own event, which carries the count, and is
    /// recorded once more for each of <paramref name="children"/>.
    /// </summary>
    internal Task RecordOutcomeAsync(int status, IReadOnlyList<string> children, CancellationToken cancellationToken, int? count = null)
    {
        _expectedStatus = status;
        if (count is not null)
        {
            _count = count;
            AlsoAbout(children);
        }
        else if (children.Count > 0)
        {
            About(children[0]);
            AlsoAbout(children.Skip(1));
        }

        return RecordBeforeCommitAsync(cancellationToken);
    }

    /// <summary>
    /// Appends the event for the answer expected so far (200 if nothing was said); called before each commit.
    /// A retried unit of work whose outcome changed (its first commit failed) records again: events of one
    /// request share its request id, and the last one is the outcome.
    /// </summary>
    internal Task RecordBeforeCommitAsync(CancellationToken cancellationToken)
    {
        var expected = _expectedStatus ?? StatusCodes.Status200OK;
        return IsActive && (RecordedStatus != expected || !string.Equals(_recordedChildId, _childId, StringComparison.Ordinal))
            ? RecordAsync(expected, cancellationToken)
            : Task.CompletedTask;
    }

    /// <summary>Whether some children's events were appended ahead of the answer (<see cref="DisclosingAhead"/>).</summary>
    public bool RecordedAhead => _recordedAhead.Count > 0;

    /// <summary>The status recorded for a request whose client went away after children were recorded ahead.</summary>
    public const int ClientClosedRequest = 499;

    /// <summary>Appends the event for <paramref name="status"/> and waits until it is durable.</summary>
    /// <exception cref="AuditUnavailableException">It could not be made durable.</exception>
    public async Task RecordAsync(int status, CancellationToken cancellationToken)
    {
        if (!IsActive)
        {
            return;
        }

        // The events appended ahead first: the request's own event says the answer went out only if they are all in.
        var ahead = _ahead.ToList();
        _ahead.Clear();
        Exception? aheadFailed = null;
        try
        {
            await Task.WhenAll(ahead).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is AuditUnavailableException or OperationCanceledException)
        {
            aheadFailed = ex;
        }

        if (aheadFailed is not null && status < 300)
        {
            // The answer will not be released (503): the children some chunks recorded as told about are recorded again,
            // with that outcome, if the log takes anything now; then the request fails closed.
            try
            {
                await AppendAsync(StatusCodes.Status503ServiceUnavailable, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is AuditUnavailableException or OperationCanceledException)
            {
                // Nothing more can be done: the events already in say 200 for a request whose answer never left.
            }

            throw aheadFailed as AuditUnavailableException ?? new AuditUnavailableException("The audit log could not record the children's events.", aheadFailed);
        }

        RecordedIndex = await AppendAsync(status, cancellationToken).ConfigureAwait(false);
        RecordedStatus = status;
        _recordedChildId = _childId;
        if (_onRecorded is { } onRecorded)
        {
            await onRecorded().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Appends the request's own event for <paramref name="status"/> and one for each other child it concerned. Children
    /// recorded ahead for a 200 are not recorded twice; for another outcome they are, with it.
    /// </summary>
    private async Task<long> AppendAsync(int status, CancellationToken cancellationToken)
    {
        var template = TemplateFor(status);
        var now = clock.GetUtcNow();
        var first = AuditEvent.Create(now, _childId, template);
        var others = status == StatusCodes.Status200OK ? _alsoAbout.Where(c => !_recordedAhead.Contains(c)).ToList()
            : _alsoAbout.Union(_recordedAhead.Where(c => !string.Equals(c, _childId, StringComparison.Ordinal)), StringComparer.Ordinal).ToList();
        if (others.Count == 0)
        {
            return await writer.AppendAsync(first, cancellationToken).ConfigureAwait(false);
        }

        // Appended together, so the log commits them as one group (a batch can name thousands of children);
        // each child's event is about that child alone and carries no batch count.
        var each = template with { Count = null, ChildUnrecognised = false };
        var events = new List<AuditEvent>(others.Count + 1) { first };
        events.AddRange(others.Select(other => AuditEvent.Create(now, other, each)));
        return await writer.AppendManyAsync(events, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The event this request records for <paramref name="status"/>, naming no child yet.</summary>
    private AuditEvent TemplateFor(int status)
    {
        var http = _http!;
        var decision = DecisionFor(status);
        // The server's own id, not the caller's X-Correlation-Id: no caller-chosen text goes into the log.
        var requestId = Logging.CorrelationIdMiddleware.ServerRequestId(http) ?? http.TraceIdentifier;
        return AuditEvent.Template(requestId, ActorOf(http), _endpoint!.Action, _endpoint.Category, decision) with
        {
            Purpose = PurposeOfUse.Of(http) ?? DeclaredPurpose(http),
            Fields = decision == "permit" && status < 300 ? _released ?? _endpoint.Fields : [],
            // Routes outside the child policy (administration, keys) name their endpoint's authorization policy.
            Rule = _decision?.Rule ?? RuleOf(http) ?? (decision == "permit" ? null : Policy.PolicyDecision.DefaultDeny),
            // A refusal processed nothing, so it rests on no lawful basis, even after the policy permitted the attempt.
            LawfulBasis = decision != "permit" ? null : _decision is null ? "unassessed" : _decision.LawfulBasis,
            Status = status,
            PolicyHash = _decision?.PolicyHash ?? policy?.Hash,
            BreakGlass = _breakGlassGrant,
            TargetOrganisation = _targetOrganisation,
            ChildUnrecognised = _childId is null && _childUnrecognised,
            Count = _count,
        };
    }

    /// <summary>
    /// permit: the request was allowed (whatever the data answered: 2xx, 3xx, 409, 410); deny: it was refused
    /// (sign-in, role, purpose, not found for this caller, invalid); error: the service failed, or the request did not
    /// complete (its client went away after children were recorded ahead: 499).
    /// </summary>
    internal static string DecisionFor(int status) => status switch
    {
        < 400 => "permit",
        // The client went away before its answer was released: the request did not complete.
        ClientClosedRequest => "error",
        StatusCodes.Status409Conflict or StatusCodes.Status410Gone => "permit",
        < 500 => "deny",
        _ => "error",
    };

    private static AuditActor ActorOf(HttpContext http)
    {
        if (http.User.Identity?.IsAuthenticated != true)
        {
            return new AuditActor(null, null, [], null);
        }

        var caller = Caller.From(http.User);
        return new AuditActor(NullIfEmpty(caller.Subject), NullIfEmpty(caller.Organisation), caller.Roles, caller.ClientId);
    }

    // A purpose that was refused is still worth recording when it is a known one; anything else is not echoed.
    private string? DeclaredPurpose(HttpContext http)
    {
        var declared = http.Request.Headers[PurposeOfUse.Header].ToString().Trim();
        return policy?.Purposes.Contains(declared) == true ? declared : null;
    }

    private static string? RuleOf(HttpContext http)
    {
        var policies = http.GetEndpoint()?.Metadata.GetOrderedMetadata<IAuthorizeData>()
            .Select(a => a.Policy).OfType<string>().Distinct(StringComparer.Ordinal).ToList();
        // Endpoints the policy engine does not decide (administration) name their authorization policy instead.
        return policies is { Count: > 0 } ? "endpoint-policy:" + string.Join('+', policies) : null;
    }

    private static string? NullIfEmpty(string value) => string.IsNullOrEmpty(value) ? null : value;
}
