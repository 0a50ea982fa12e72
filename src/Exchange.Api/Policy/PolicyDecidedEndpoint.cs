using Exchange.Api.Auditing;
using Exchange.Api.Auth;
using Exchange.Api.Errors;
using Exchange.Api.Purpose;
using Microsoft.Extensions.Options;
using JsonOptions = Microsoft.AspNetCore.Http.Json.JsonOptions;

namespace Exchange.Api.Policy;

/// <summary>Finds the child a request is about, when it is not the <c>{childId}</c> route value (a body field, a record's owner).</summary>
public delegate ValueTask<string?> ChildLocator(EndpointFilterInvocationContext context);

/// <summary>Marks an endpoint whose access the policy engine decides: the action it performs on its audited category.</summary>
public sealed record PolicyDecidedEndpoint(string Action);

public static class PolicyDecidedEndpointExtensions
{
    private static readonly object ItemKey = new();

    /// <summary>The decision made for this request, once <see cref="Decides{TBuilder}"/> has run.</summary>
    public static AccessDecision? DecisionOf(HttpContext http) =>
        http is not null && http.Items.TryGetValue(ItemKey, out var value) ? value as AccessDecision : null;

    /// <summary>
    /// The child this permitted request is about, as the decision resolved it (a merged id becomes its survivor).
    /// Handlers use it rather than the route value, and check nothing more about who may act: the policy did.
    /// </summary>
    public static string DecidedChild(HttpContext http) => DecisionOf(http)?.ChildId
        ?? throw new InvalidOperationException("A policy-decided endpoint about a child runs only after its decision.");

    private static readonly object MaskKey = new();

    /// <summary>The field mask of this request's permit: a handler must not order by a field it hides either.</summary>
    public static FieldMask? MaskOf(HttpContext http) =>
        http is not null && http.Items.TryGetValue(MaskKey, out var value) ? value as FieldMask : null;

    /// <summary>
    /// The request is decided by the policy: <paramref name="action"/> on the category named by the endpoint's
    /// <see cref="AuditedEndpoint"/>, for the child in the <c>{childId}</c> route value, the one
    /// <paramref name="child"/> finds, or no child (<paramref name="noChild"/>). A denial answers 404 when the
    /// caller's organisation has no relationship to the child (existence must not leak; <paramref name="notFound"/>
    /// names the problem) and 403 otherwise. Queries naming a field the mask hides (directly, or through a parameter
    /// <paramref name="queryFields"/> maps to fields) are refused, and hidden fields
    /// are removed from the answer. The decision (rule, lawful basis, fields, break-glass grant) goes into the
    /// request's audit event, granted or denied.
    /// </summary>
    public static TBuilder Decides<TBuilder>(this TBuilder builder, string action, ChildLocator? child = null, bool noChild = false,
        ProblemTypes.ProblemType? notFound = null, IReadOnlyDictionary<string, string[]>? queryFields = null)
        where TBuilder : IEndpointConventionBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.WithMetadata(new PolicyDecidedEndpoint(action));
        builder.AddEndpointFilter(async (context, next) =>
        {
            var http = context.HttpContext;
            var audited = http.GetEndpoint()?.Metadata.GetMetadata<AuditedEndpoint>()
                ?? throw new InvalidOperationException("A policy-decided endpoint must be audited: its category is the audited one.");
            var (category, declared) = (audited.Category, audited.Fields);
            var childId = noChild ? null : child is null ? http.GetRouteValue("childId") as string ?? "" : await child(context).ConfigureAwait(false);
            if (!noChild && childId is null)
            {
                // The record that would name the child does not exist: nothing to decide about, and nothing to reveal.
                return Problems.Result(notFound ?? ProblemTypes.ChildNotFound);
            }
            var decider = http.RequestServices.GetRequiredService<AccessDecider>();
            var access = await decider.DecideAsync(Caller.From(http.User), action, category, PurposeOfUse.Of(http) ?? "", childId, http.RequestAborted)
                .ConfigureAwait(false);
            var decision = access.Decision;
            var audit = http.RequestServices.GetRequiredService<AuditTrail>();
            if (access.Exists)
            {
                audit.About(access.ChildId);
            }
            else if (!noChild)
            {
                // The id is the caller's text and names no registered child: it stays out of the permanent log.
                audit.ChildNotRecognised();
            }

            var options = http.RequestServices.GetRequiredService<IOptions<JsonOptions>>().Value.SerializerOptions;
            // Until the answer is known (a read that commits, such as signing a checkpoint, records its event
            // during the handler), a read releases the endpoint's declared fields within the mask.
            audit.Decided(decision, access.BreakGlassGrant?.ToString(), action == "read" ? AnswerFields.Narrow(decision.Fields, null, options, declared) : null);
            http.Items[ItemKey] = access;
            if (!decision.Permit)
            {
                return Refusal(decision.Reason, notFound ?? ProblemTypes.ChildNotFound);
            }

            // A rule without a relationship permits any id: one that names no registered child finds nothing.
            if (!noChild && !access.Exists)
            {
                return Problems.Result(notFound ?? ProblemTypes.ChildNotFound);
            }

            // Relationship rows outlive erasure (they hold only the pseudonymous id); nothing behind them is served.
            if (access.Erased && action != "erase")
            {
                return Problems.Result(ProblemTypes.ChildErased, "This child's data has been erased.");
            }

            var mask = new FieldMask(decider.Policy.Categories[category].Fields, decision.Fields);
            http.Items[MaskKey] = mask;
            if (mask.HiddenFieldNamedBy(http.Request.Query, queryFields) is { } hidden)
            {
                // The same answer whatever the data holds: a hidden field cannot be used to probe values.
                return Problems.Result(ProblemTypes.FilterNotPermitted, $"'{hidden}' is not a field you may filter or sort by.");
            }

            var answer = await next(context).ConfigureAwait(false);
            // The handler may have decided again, on the child it found (DecideAgainOnChildAsync): that decision stands.
            var final = DecisionOf(http) ?? access;
            if (action == "read" && final.Decision.Permit)
            {
                // The event names what the answer carries, not everything the mask would have allowed.
                audit.Decided(final.Decision, final.BreakGlassGrant?.ToString(), AnswerFields.Narrow(final.Decision.Fields, AnswerFields.ValueOf(answer), options, declared));
            }

            return (MaskOf(http) ?? mask).Apply(answer, http);
        });
        return builder;
    }

    /// <summary>
    /// For an endpoint decided without a child (registration, resolution): once the handler knows which existing
    /// child the request is about, the same action is decided again on that child, so its restriction and
    /// objections apply (UK GDPR Art. 18, 21) and the audit event names the child and the second decision.
    /// Returns the refusal to answer, or null to go on.
    /// </summary>
    public static async Task<Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult?> DecideAgainOnChildAsync(HttpContext http, string childId, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(http);
        var endpoint = http.GetEndpoint();
        var action = endpoint?.Metadata.GetMetadata<PolicyDecidedEndpoint>()?.Action;
        var category = endpoint?.Metadata.GetMetadata<AuditedEndpoint>()?.Category;
        if (action is null || category is null)
        {
            throw new InvalidOperationException("Only a policy-decided, audited endpoint can decide again on a child.");
        }

        var decider = http.RequestServices.GetRequiredService<AccessDecider>();
        var access = await decider.DecideAsync(Caller.From(http.User), action, category, PurposeOfUse.Of(http) ?? "", childId, ct).ConfigureAwait(false);
        var audit = http.RequestServices.GetRequiredService<AuditTrail>();
        audit.About(access.ChildId);
        audit.Decided(access.Decision, access.BreakGlassGrant?.ToString(), action == "read" ? access.Decision.Fields : null);
        http.Items[ItemKey] = access;
        if (!access.Decision.Permit)
        {
            return Refusal(access.Decision.Reason, ProblemTypes.ChildNotFound);
        }

        // The answer is masked by this decision, not the first.
        http.Items[MaskKey] = new FieldMask(decider.Policy.Categories[category].Fields, access.Decision.Fields);
        return access.Erased ? Problems.Result(ProblemTypes.ChildErased, "This child's data has been erased.") : null;
    }

    /// <summary>
    /// 404 only where the caller has no relationship at all (a child it may not know exists, or none); the
    /// other reasons are about a child the caller legitimately knows, or say nothing about any child.
    /// </summary>
    private static Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult Refusal(DenyReason reason, ProblemTypes.ProblemType notFound) => reason switch
    {
        DenyReason.NoRelationship => Problems.Result(notFound),
        DenyReason.PurposeNotPermitted => Problems.Result(ProblemTypes.PurposeNotPermitted,
            "The policy does not let your role do this for the declared purpose of use."),
        DenyReason.OutsideRelationshipDates => Problems.Result(ProblemTypes.RelationshipNotCurrent),
        DenyReason.BreakGlassRequired => Problems.Result(ProblemTypes.BreakGlassRequired),
        DenyReason.Restricted => Problems.Result(ProblemTypes.ProcessingRestricted),
        DenyReason.ConsentRequired => Problems.Result(ProblemTypes.ConsentRequired),
        _ => Problems.Result(ProblemTypes.Forbidden, "No rule of the access policy lets your role do this to this kind of data."),
    };
}
