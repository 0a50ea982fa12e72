using Exchange.Api.Errors;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;

namespace Exchange.Api.Auth;

/// <summary>Gives 401 and 403 answers a problem body with a stable type saying which check failed.</summary>
internal sealed partial class ProblemAuthorizationResultHandler(IProblemDetailsService problems, ILogger<ProblemAuthorizationResultHandler> logger)
    : IAuthorizationMiddlewareResultHandler
{
    private readonly AuthorizationMiddlewareResultHandler _default = new();

    public async Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult authorizeResult)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(authorizeResult);
        if (context.GetEndpoint() is null)
        {
            // No endpoint matched: let the request fall through to a plain 404 problem.
            await next(context).ConfigureAwait(false);
            return;
        }

        await _default.HandleAsync(next, context, policy, authorizeResult).ConfigureAwait(false);
        if (authorizeResult.Succeeded || context.Response.HasStarted)
        {
            return;
        }

        var reasons = authorizeResult.AuthorizationFailure?.FailureReasons.Select(r => r.Message).ToHashSet() ?? [];
        var type = authorizeResult.Challenged ? ProblemTypes.Unauthenticated
            : reasons.Contains(ActiveOrganisationHandler.TokenClaimsReason) ? ProblemTypes.TokenClaimsInvalid
            : reasons.Contains(ActiveOrganisationHandler.OrganisationNotActiveReason) ? ProblemTypes.OrganisationNotActive
            : reasons.Contains(ActiveOrganisationHandler.RoleMismatchReason) ? ProblemTypes.RoleNotForOrganisation
            : ProblemTypes.Forbidden;
        LogRefused(logger, type.Code, context.Request.Method, context.GetEndpoint()?.DisplayName ?? "");
        await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = context, ProblemDetails = Problems.Create(type) }).ConfigureAwait(false);
    }

    [LoggerMessage(EventId = 9005, EventName = "AccessRefused", Level = LogLevel.Information, Message = "Access refused ({Reason}) for {Method} {Endpoint}")]
    private static partial void LogRefused(ILogger logger, string reason, string method, string endpoint);
}
