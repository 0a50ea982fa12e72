using Exchange.Api.Auditing;
using Exchange.Api.Auth;
using Exchange.Api.Errors;
using Exchange.Api.Purpose;
using Microsoft.Extensions.Options;
using JsonOptions = Microsoft.AspNetCore.Http.Json.JsonOptions;

using Exchange.Api.Policy;

namespace Exchange.Api.Decisions;

/// <summary>Finds the child a request is about, when it is not the <c>{childId}</c> route value (a body field, a record's owner).</summary>
public delegate ValueTask<string?> ChildLocator(EndpointFilterInvocationContext context);

/// <summary>Marks an endpoint whose access the policy engine decides: the action it performs on its audited category.</summary>
public sealed record PolicyDecidedEndpoint(string Action);

public static class PolicyDecidedEndpointExtensions
{
    /// <summary>
    /// The request is decided by the policy: <paramref name="action"/> on the category named by the endpoint's
    /// <see cref="AuditedEndpoint"/>, for the child in the <c>{childId}</c> route value, the one
    /// <paramref name="child"/> finds, or no child (<paramref name="noChild"/>). A denial answers 404 when the
    /// caller's organisation has no relationship to the child (existence must not leak; <paramref name="notFound"/>
    /// names the problem) and 403 otherwise. Queries naming a field the mask hides (directly, or through a parameter
    /// <paramref name="queryFields"/> maps to fields) are refused, and hidden fields
    /// are removed from the answer. An erased child answers 410, except to the <c>erase</c> action and to an endpoint that
    /// <paramref name="servesErased"/> (the DPO's subject access export of what is still held). The decision (rule, lawful basis, fields, break-glass grant) goes into the
    /// request's audit event, granted or denied.
    /// <paramref name="findsChild"/> (with <paramref name="noChild"/>): the handler finds the child itself and decides
    /// on it (<see cref="ChildDecisions"/>), so a first denial that depends on the child (a relationship, its
    /// restriction) is left to that decision; one that does not (no rule for the role, a purpose it may not use)
    /// refuses at once. Such a handler must not answer with success without a permit of its own.
    /// <paramref name="otherwise"/> (with <paramref name="noChild"/>): a second action the policy may grant instead, to a
    /// caller it refuses <paramref name="action"/> at once (no rule for the role, a purpose it may not use); when the
    /// policy permits it, the request goes on under that permit and the handler sees which action was granted
    /// (<see cref="Decided.Action"/>). Otherwise the refusal that got further stands. (An organisation's DPO deletes a
    /// webhook subscription without being a role that is told of events.)
    /// The handler reads what was decided from its <see cref="Decided"/> parameter (never from the HTTP context).
    /// </summary>
    public static TBuilder Decides<TBuilder>(this TBuilder builder, string action, ChildLocator? child = null, bool noChild = false,
        ProblemTypes.ProblemType? notFound = null, IReadOnlyDictionary<string, string[]>? queryFields = null, bool servesErased = false,
        bool findsChild = false, string? otherwise = null)
        where TBuilder : IEndpointConventionBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (otherwise is not null && !noChild)
        {
            throw new ArgumentException("Another action is granted only to an endpoint decided without a child.", nameof(otherwise));
        }

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
            var decided = http.RequestServices.GetRequiredService<Decided>();
            var granted = action;
            decided.Ask(action, category, Caller.From(http.User), PurposeOfUse.Of(http) ?? "");
            var access = await decider.DecideAsync(Caller.From(http.User), action, category, PurposeOfUse.Of(http) ?? "", childId, http.RequestAborted)
                .ConfigureAwait(false);
            if (otherwise is not null && !access.Decision.Permit && !DependsOnChild(access.Decision.Reason))
            {
                var instead = await decider.DecideAsync(Caller.From(http.User), otherwise, category, PurposeOfUse.Of(http) ?? "", childId, http.RequestAborted)
                    .ConfigureAwait(false);
                // Granted; or refused at once for a reason that got further (the purpose): that refusal says more.
                if (instead.Decision.Permit || (instead.Decision.Reason > access.Decision.Reason && !DependsOnChild(instead.Decision.Reason)))
                {
                    access = instead;
                    granted = otherwise;
                    decided.Ask(otherwise, category, Caller.From(http.User), PurposeOfUse.Of(http) ?? "");
                }
            }

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
            audit.Decided(decision, access.BreakGlassGrant?.ToString(), granted == "read" ? AnswerFields.Narrow(decision.Fields, null, options, declared) : null);
            decided.Set(access, null);
            var leftToHandler = noChild && findsChild && !decision.Permit && DependsOnChild(decision.Reason);
            if (!decision.Permit && !leftToHandler)
            {
                return Refusal(decision.Reason, notFound ?? ProblemTypes.ChildNotFound);
            }

            // A rule without a relationship permits any id: one that names no registered child finds nothing.
            if (!noChild && !access.Exists)
            {
                return Problems.Result(notFound ?? ProblemTypes.ChildNotFound);
            }

            // Relationship rows outlive erasure (they hold only the pseudonymous id); nothing behind them is served.
            if (access.Erased && granted != "erase" && !servesErased)
            {
                return Problems.Result(ProblemTypes.ChildErased, "This child's data has been erased.");
            }

            var mask = new FieldMask(decider.Policy.Categories[category].Fields, decision.Fields);
            decided.Set(access, mask);
            if (mask.HiddenFieldNamedBy(http.Request.Query, queryFields) is { } hidden)
            {
                // The same answer whatever the data holds: a hidden field cannot be used to probe values.
                return Problems.Result(ProblemTypes.FilterNotPermitted, $"'{hidden}' is not a field you may filter or sort by.");
            }

            var answer = await next(context).ConfigureAwait(false);
            // The handler may have decided again, on the child it found (ChildDecisions): that decision stands.
            var final = decided.Access;
            if (leftToHandler && !final.Decision.Permit && !decided.DecidedPerItem && (answer is INestedHttpResult nested ? nested.Result : answer) is not IStatusCodeHttpResult { StatusCode: >= 400 })
            {
                throw new InvalidOperationException("A handler that finds its child answered with success without a permit for it.");
            }
            if (granted == "read" && final.Decision.Permit)
            {
                // The event names what the answer carries, not everything the mask would have allowed.
                audit.Decided(final.Decision, final.BreakGlassGrant?.ToString(), AnswerFields.Narrow(final.Decision.Fields, AnswerFields.ValueOf(answer), options, declared));
            }

            return decided.Mask.Apply(answer, http);
        });
        return builder;
    }

    /// <summary>Whether a denial depends on the child asked about (no relationship to it, its dates, restriction, consent) rather than on the caller alone.</summary>
    public static bool DependsOnChild(DenyReason reason) => reason is not (DenyReason.None or DenyReason.NoRule or DenyReason.PurposeNotPermitted);

    /// <summary>
    /// 404 only where the caller has no relationship at all (a child it may not know exists, or none); the
    /// other reasons are about a child the caller legitimately knows, or say nothing about any child.
    /// </summary>
    internal static Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult Refusal(DenyReason reason, ProblemTypes.ProblemType notFound) => reason switch
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
