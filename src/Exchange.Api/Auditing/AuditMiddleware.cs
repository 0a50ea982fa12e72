using Exchange.Api.Errors;
using Microsoft.AspNetCore.Http.Features;

namespace Exchange.Api.Auditing;

/// <summary>
/// Runs around authorization and the endpoint of every audited request, so refusals (401, 403, a missing
/// purpose, invalid input) are recorded as well as grants. The answer is held back until the request's
/// event is durable; if it cannot be made durable the caller gets 503 <c>audit-unavailable</c> instead,
/// and a write never commits (its event is appended before the commit: <see cref="Work.UnitOfWork.CommitAsync"/>).
/// </summary>
internal sealed partial class AuditMiddleware(RequestDelegate next, ILogger<AuditMiddleware> logger)
{
    public async Task InvokeAsync(HttpContext context, AuditTrail trail, IProblemDetailsService problems)
    {
        if ((context.GetEndpoint()?.Metadata.GetMetadata<AuditedEndpoint>() ?? RefusedByContentType(context)) is not { } endpoint)
        {
            await next(context).ConfigureAwait(false);
            return;
        }

        var realBody = context.Features.Get<IHttpResponseBodyFeature>()!;
        await using var hold = new HoldBackStream(realBody.Stream);
        // An export streams once its event is in; other answers wait for the end of the request.
        trail.Begin(context, endpoint, endpoint.Streamed ? () => hold.ReleaseAsync(context.RequestAborted) : null);
        if (!trail.IsActive)
        {
            await next(context).ConfigureAwait(false); // a benchmark's unaudited run
            return;
        }

        context.Features.Set<IHttpResponseBodyFeature>(new StreamResponseBodyFeature(hold, realBody));

        try
        {
            await next(context).ConfigureAwait(false);
        }
        catch (AuditUnavailableException)
        {
            context.Features.Set(realBody);
            hold.Discard();
            throw; // the exception handler answers 503; nothing was committed
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            context.Features.Set(realBody);
            hold.Discard();
            await RecordAbandonedAsync(trail).ConfigureAwait(false);
            throw;
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !context.RequestAborted.IsCancellationRequested)
        {
            context.Features.Set(realBody);
            hold.Discard();
            // The failure is an access outcome too, with the status the exception handler will answer
            // (a malformed body is a 400, not an error); if even that cannot be recorded the answer is 503.
            var status = ExceptionToProblemHandler.TypeFor(ex, context)?.Status ?? StatusCodes.Status500InternalServerError;
            if (trail.RecordedStatus != status)
            {
                await trail.RecordAsync(status, context.RequestAborted).ConfigureAwait(false);
            }

            throw;
        }
        finally
        {
            context.Features.Set(realBody);
        }

        if (trail.IsActive && trail.RecordedStatus != context.Response.StatusCode)
        {
            try
            {
                // No event yet (a read, a refusal), or the answer differs from the one recorded before the commit.
                await trail.RecordAsync(context.Response.StatusCode, context.RequestAborted).ConfigureAwait(false);
            }
            catch (AuditUnavailableException) when (context.RequestAborted.IsCancellationRequested)
            {
                // The client went away while the events were being made durable: nothing is sent, and what was recorded
                // ahead is recorded again as not completed.
                hold.Discard();
                await RecordAbandonedAsync(trail).ConfigureAwait(false);
                return;
            }
            catch (AuditUnavailableException)
            {
                if (hold.IsReleased)
                {
                    LogStreamedUnrecorded(logger, context.Response.StatusCode);
                    context.Abort();
                    return;
                }

                hold.Discard();
                context.Response.Clear();
                context.Response.StatusCode = ProblemTypes.AuditUnavailable.Status;
                await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = context, ProblemDetails = Problems.Create(ProblemTypes.AuditUnavailable) }).ConfigureAwait(false);
                return;
            }
        }

        await hold.ReleaseAsync(context.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>
    /// A request whose client went away after some of its children were recorded as told about (a cohort, chunk by
    /// chunk): they and the request are recorded again as not completed (499), with a wait of the writer's own rather
    /// than the aborted request's, so the log does not end on "200" for an answer that never left.
    /// </summary>
    private static async Task RecordAbandonedAsync(AuditTrail trail)
    {
        if (!trail.RecordedAhead)
        {
            return;
        }

        try
        {
            await trail.RecordAsync(AuditTrail.ClientClosedRequest, CancellationToken.None).ConfigureAwait(false);
        }
        catch (AuditUnavailableException)
        {
            // Logged by the writer; the events already in stand.
        }
    }

    /// <summary>
    /// Routing answers a body of the wrong content type with its own 415 endpoint, which carries none of the
    /// route's metadata: the audited route the request was for is found by method and path, so that refusal is
    /// recorded too.
    /// </summary>
    private static AuditedEndpoint? RefusedByContentType(HttpContext context)
    {
        if (context.GetEndpoint() is not { DisplayName: UnsupportedMediaTypeEndpoint } || context.GetEndpoint() is RouteEndpoint)
        {
            return null;
        }

        var path = context.Request.Path;
        foreach (var route in context.RequestServices.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>())
        {
            if (route.Metadata.GetMetadata<AuditedEndpoint>() is { } audited
                && route.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods.Contains(context.Request.Method, StringComparer.OrdinalIgnoreCase) == true
                && new Microsoft.AspNetCore.Routing.Template.TemplateMatcher(
                    Microsoft.AspNetCore.Routing.Template.TemplateParser.Parse(route.RoutePattern.RawText ?? ""), new RouteValueDictionary())
                    .TryMatch(path, new RouteValueDictionary()))
            {
                return audited;
            }
        }

        return null;
    }

    // The display name ASP.NET Core routing gives the endpoint it selects when no route accepts the content type.
    private const string UnsupportedMediaTypeEndpoint = "415 HTTP Unsupported Media Type";

    [LoggerMessage(Level = LogLevel.Error, EventId = 9105, EventName = "AuditStreamUnrecorded", Message = "AUDIT: a streamed answer ended with {Status} and that outcome could not be recorded; the connection was aborted")]
    private static partial void LogStreamedUnrecorded(ILogger logger, int status);
}
