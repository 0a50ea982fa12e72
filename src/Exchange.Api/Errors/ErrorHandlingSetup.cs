using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http.Features;
using Exchange.Crypto;
using Exchange.Crypto.Keys;

namespace Exchange.Api.Errors;

public static class ErrorHandlingSetup
{
    public static WebApplicationBuilder AddExchangeErrors(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddProblemDetails(o => o.CustomizeProblemDetails = ctx =>
        {
            var problem = ctx.ProblemDetails;
            // Bare status codes (status-code pages, framework results) get the table's stable type.
            if (problem.Type is null || !problem.Type.StartsWith(ProblemTypes.BaseUri, StringComparison.Ordinal))
            {
                var type = ProblemTypes.ForStatus(problem.Status ?? ctx.HttpContext.Response.StatusCode);
                problem.Type = type.Uri;
                problem.Title = type.Title;
                problem.Detail ??= type.Title;
            }

            problem.Instance = null;
            problem.Extensions.Remove("traceId");
            problem.Extensions["correlationId"] = ctx.HttpContext.TraceIdentifier;
        });
        builder.Services.AddExceptionHandler<ExceptionToProblemHandler>();
        // Malformed bodies reach the exception handler instead of an empty 400.
        builder.Services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        return builder;
    }
}

/// <summary>The one place where exceptions become responses. Never a stack trace, never a value.</summary>
internal sealed partial class ExceptionToProblemHandler(IProblemDetailsService problems, ILogger<ExceptionToProblemHandler> logger) : IExceptionHandler
{
    /// <summary>The problem an exception becomes; null when the client went away.</summary>
    internal static ProblemTypes.ProblemType? TypeFor(Exception exception, HttpContext httpContext) => exception switch
        {
            BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge } => ProblemTypes.PayloadTooLarge,
            BadHttpRequestException { StatusCode: StatusCodes.Status415UnsupportedMediaType } => ProblemTypes.UnsupportedMediaType,
            BadHttpRequestException { InnerException: JsonException } => ProblemTypes.MalformedJson,
            BadHttpRequestException => ProblemTypes.MalformedRequest,
            Auditing.AuditUnavailableException => ProblemTypes.AuditUnavailable,
            WrappedKeyIntegrityException => ProblemTypes.SealedValueIntegrity,
            KeyProviderException => ProblemTypes.KeyProviderUnavailable,
            SealedValueException => ProblemTypes.SealedValueIntegrity,
            OwnerErasedException => ProblemTypes.ChildErased,
            OperationCanceledException when httpContext.RequestAborted.IsCancellationRequested => null,
            _ => ProblemTypes.InternalError,
        };

    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        var type = TypeFor(exception, httpContext);
        if (type is null)
        {
            return true; // the client went away; there is no one to answer
        }

        if (type == ProblemTypes.InternalError)
        {
            LogUnhandled(logger, exception);
        }
        else if (exception is SealedValueException sealedFailure)
        {
            // For the DPO: where, never what. (The audit log takes this over when it lands.)
            var place = sealedFailure.Place;
            LogIntegrityFailure(logger, place?.Entity ?? "?", place?.Field ?? "?", place?.OwnerId ?? "?", place?.RecordId ?? "?", sealedFailure.Message);
        }
        else if (exception is WrappedKeyIntegrityException damagedKey)
        {
            LogIntegrityFailure(logger, "data_keys", "wrapped_key", damagedKey.OwnerId ?? "?", damagedKey.OwnerId ?? "?", damagedKey.Message);
        }
        else if (exception is KeyProviderException)
        {
            LogKeyProviderFailure(logger, exception.GetType().Name, exception.Message);
        }

        httpContext.Response.StatusCode = type.Status;
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            ProblemDetails = Problems.Create(type),
            Exception = exception,
        }).ConfigureAwait(false);
    }

    [LoggerMessage(Level = LogLevel.Error, EventId = 9001, EventName = "SealedValueIntegrityFailure",
        Message = "INTEGRITY: a sealed value failed to open ({Entity}.{Field} of {OwnerId}, record {RecordId}): {Reason}")]
    private static partial void LogIntegrityFailure(ILogger logger, string entity, string field, string ownerId, string recordId, string reason);

    [LoggerMessage(EventId = 9003, EventName = "KeyProviderFailure", Level = LogLevel.Error, Message = "Key provider failure ({Kind}): {Reason}")]
    private static partial void LogKeyProviderFailure(ILogger logger, string kind, string reason);

    [LoggerMessage(EventId = 9004, EventName = "UnhandledException", Level = LogLevel.Error, Message = "Unhandled exception")]
    private static partial void LogUnhandled(ILogger logger, Exception exception);
}

/// <summary>Marks a batch route, whose body may be as large as <c>Exchange:Limits:MaxBatchRequestBodyBytes</c>.</summary>
public sealed record AcceptsLargeBody;

/// <summary>
/// Refuses bodies over the configured limit before anything reads them, on every server: <c>maxBytes</c>, or
/// <c>maxBatchBytes</c> on a route marked <see cref="AcceptsLargeBody"/> (a batch of 10,000 marks is over a megabyte).
/// </summary>
internal sealed class RequestSizeLimitMiddleware(RequestDelegate next, long maxRequestBytes, long maxBatchBytes)
{
    public Task InvokeAsync(HttpContext context)
    {
        var maxBytes = context.GetEndpoint()?.Metadata.GetMetadata<AcceptsLargeBody>() is null ? maxRequestBytes : maxBatchBytes;
        var feature = context.Features.Get<IHttpMaxRequestBodySizeFeature>();
        if (feature is { IsReadOnly: false })
        {
            feature.MaxRequestBodySize = maxBytes;
        }

        if (context.Request.ContentLength > maxBytes)
        {
            throw new BadHttpRequestException("Request body too large.", StatusCodes.Status413PayloadTooLarge);
        }

        return next(context);
    }
}
