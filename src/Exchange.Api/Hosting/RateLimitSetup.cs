using System.Globalization;
using System.Threading.RateLimiting;
using Exchange.Api.Auth;
using Exchange.Api.Errors;
using Microsoft.AspNetCore.RateLimiting;

namespace Exchange.Api.Hosting;

/// <summary>
/// A fixed window of requests per minute for each calling client (the token's client_id, else its
/// subject, else the remote address), so that one misbehaving MIS cannot starve the others.
/// Health probes are not limited.
/// </summary>
public static class RateLimitSetup
{
    public static WebApplicationBuilder AddExchangeRateLimits(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var limits = builder.Configuration.GetSection(ExchangeOptions.Section).Get<ExchangeOptions>()?.Limits ?? new LimitsOptions();
        builder.Services.AddRateLimiter(o =>
        {
            o.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(context =>
                context.Request.Path.StartsWithSegments("/health")
                    ? RateLimitPartition.GetNoLimiter("health")
                    : RateLimitPartition.GetFixedWindowLimiter(PartitionKey(context), _ => new FixedWindowRateLimiterOptions
                    {
                        PermitLimit = limits.RequestsPerMinute,
                        Window = TimeSpan.FromMinutes(1),
                        QueueLimit = 0,
                    }));
            o.OnRejected = async (context, ct) =>
            {
                var response = context.HttpContext.Response;
                response.StatusCode = StatusCodes.Status429TooManyRequests;
                if (context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter))
                {
                    response.Headers.RetryAfter = Math.Ceiling(retryAfter.TotalSeconds).ToString(CultureInfo.InvariantCulture);
                }

                var problems = context.HttpContext.RequestServices.GetRequiredService<IProblemDetailsService>();
                await problems.TryWriteAsync(new ProblemDetailsContext
                {
                    HttpContext = context.HttpContext,
                    ProblemDetails = Problems.Create(ProblemTypes.RateLimited, "Too many requests from this client; retry after the Retry-After interval."),
                }).ConfigureAwait(false);
            };
        });
        return builder;
    }

    private static string PartitionKey(HttpContext context)
    {
        var caller = context.User.Identity?.IsAuthenticated == true ? Caller.From(context.User) : null;
        return caller?.ClientId is { Length: > 0 } client ? "client:" + client
            : caller?.Subject is { Length: > 0 } subject ? "sub:" + subject
            : "ip:" + context.Connection.RemoteIpAddress;
    }
}
