using System.Collections.Concurrent;
using System.Globalization;
using System.Threading.RateLimiting;
using Exchange.Api.Configuration;
using Exchange.Api.Auditing;
using Exchange.Api.Auth;
using Exchange.Api.Errors;
using Microsoft.AspNetCore.RateLimiting;

namespace Exchange.Api.Hosting;

/// <summary>
/// A fixed window of requests per minute for each calling client (the token's client_id, else its
/// subject, else the remote address), so that one misbehaving MIS cannot starve the others, and one
/// for all callers without a valid token together, so that strangers from many addresses cannot
/// either. Health probes are not limited. The limiter runs before the audit middleware: a refused
/// request does not reach the log, except that the first refusal of a caller in a window on an
/// audited route is recorded (429), so the log shows the flood without growing with it.
/// </summary>
public static class RateLimitSetup
{
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(1);

    public static WebApplicationBuilder AddExchangeRateLimits(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var limits = builder.Configuration.GetSection(ExchangeOptions.Section).Get<ExchangeOptions>()?.Limits ?? new LimitsOptions();
        builder.Services.AddSingleton<RefusalsRecorded>();
        builder.Services.AddRateLimiter(o =>
        {
            var perCaller = PartitionedRateLimiter.Create<HttpContext, string>(context =>
                context.Request.Path.StartsWithSegments("/health")
                    ? RateLimitPartition.GetNoLimiter("health")
                    : RateLimitPartition.GetFixedWindowLimiter(PartitionKey(context), _ => new FixedWindowRateLimiterOptions
                    {
                        PermitLimit = limits.RequestsPerMinute,
                        Window = Window,
                        QueueLimit = 0,
                    }));
            var strangers = PartitionedRateLimiter.Create<HttpContext, string>(context =>
                context.Request.Path.StartsWithSegments("/health") || IsAuthenticated(context)
                    ? RateLimitPartition.GetNoLimiter("known")
                    : RateLimitPartition.GetFixedWindowLimiter(Unauthenticated, _ => new FixedWindowRateLimiterOptions
                    {
                        PermitLimit = limits.UnauthenticatedRequestsPerMinute,
                        Window = Window,
                        QueueLimit = 0,
                    }));
            o.GlobalLimiter = PartitionedRateLimiter.CreateChained(perCaller, strangers);
            o.OnRejected = async (context, ct) =>
            {
                var http = context.HttpContext;
                if (!await RecordRefusalAsync(http, ct).ConfigureAwait(false))
                {
                    return; // the refusal could not be recorded: answered 503 audit-unavailable
                }

                var response = http.Response;
                response.StatusCode = StatusCodes.Status429TooManyRequests;
                if (context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter))
                {
                    response.Headers.RetryAfter = Math.Ceiling(retryAfter.TotalSeconds).ToString(CultureInfo.InvariantCulture);
                }

                var problems = http.RequestServices.GetRequiredService<IProblemDetailsService>();
                await problems.TryWriteAsync(new ProblemDetailsContext
                {
                    HttpContext = http,
                    ProblemDetails = Problems.Create(ProblemTypes.RateLimited, "Too many requests from this client; retry after the Retry-After interval."),
                }).ConfigureAwait(false);
            };
        });
        return builder;
    }

    /// <summary>
    /// On an audited route, the first 429 of a caller (a client, or all unauthenticated callers together) in each
    /// window is recorded; the rest are not, so a flood adds one event per window. False when the event could not
    /// be made durable: the answer is then 503, as for any outcome that cannot be recorded.
    /// </summary>
    private static async Task<bool> RecordRefusalAsync(HttpContext http, CancellationToken ct)
    {
        if (http.GetEndpoint()?.Metadata.GetMetadata<AuditedEndpoint>() is not { } endpoint)
        {
            return true;
        }

        var recorded = http.RequestServices.GetRequiredService<RefusalsRecorded>();
        if (!recorded.FirstInWindow(IsAuthenticated(http) ? PartitionKey(http) : Unauthenticated, Window))
        {
            return true;
        }

        var trail = http.RequestServices.GetRequiredService<AuditTrail>();
        trail.Begin(http, endpoint);
        try
        {
            await trail.RecordAsync(StatusCodes.Status429TooManyRequests, ct).ConfigureAwait(false);
            return true;
        }
        catch (AuditUnavailableException)
        {
            http.Response.StatusCode = ProblemTypes.AuditUnavailable.Status;
            await http.RequestServices.GetRequiredService<IProblemDetailsService>()
                .TryWriteAsync(new ProblemDetailsContext { HttpContext = http, ProblemDetails = Problems.Create(ProblemTypes.AuditUnavailable) }).ConfigureAwait(false);
            return false;
        }
    }

    private const string Unauthenticated = "unauthenticated";

    private static bool IsAuthenticated(HttpContext context) => context.User.Identity?.IsAuthenticated == true;

    private static string PartitionKey(HttpContext context)
    {
        var caller = IsAuthenticated(context) ? Caller.From(context.User) : null;
        return caller?.ClientId is { Length: > 0 } client ? "client:" + client
            : caller?.Subject is { Length: > 0 } subject ? "sub:" + subject
            : "ip:" + context.Connection.RemoteIpAddress;
    }
}

/// <summary>Which callers' refusals were recorded in which window (one entry per caller that was refused lately).</summary>
internal sealed class RefusalsRecorded(TimeProvider clock)
{
    private readonly ConcurrentDictionary<string, long> _windows = new(StringComparer.Ordinal);

    public bool FirstInWindow(string caller, TimeSpan window)
    {
        var current = clock.GetUtcNow().UtcTicks / window.Ticks;
        if (_windows.Count > 10_000)
        {
            // Forget callers from earlier windows; they could not be refused again without a new window anyway.
            foreach (var (key, seen) in _windows)
            {
                if (seen < current)
                {
                    _windows.TryRemove(key, out _);
                }
            }
        }

        var previous = _windows.GetOrAdd(caller, long.MinValue);
        return previous < current && _windows.TryUpdate(caller, current, previous);
    }
}
