using System.Text.RegularExpressions;
using Serilog.Context;

namespace Exchange.Api.Logging;

/// <summary>
/// Gives every request a correlation id: the caller's <c>X-Correlation-Id</c> when it is a
/// safe token, else a new one. It is echoed in the response header, in every problem body
/// and in every log event of the request.
/// </summary>
internal sealed partial class CorrelationIdMiddleware(RequestDelegate next)
{
    public const string Header = "X-Correlation-Id";

    [GeneratedRegex(@"^[A-Za-z0-9._-]{8,64}\z", RegexOptions.CultureInvariant)]
    private static partial Regex SafeId();

    public async Task InvokeAsync(HttpContext context)
    {
        var offered = context.Request.Headers[Header].ToString();
        // A caller-chosen id must not smuggle an identifier into our logs.
        var id = SafeId().IsMatch(offered) && LogScrubber.Scrub(offered) == offered
            ? offered
            : Guid.NewGuid().ToString("N");
        context.TraceIdentifier = id;
        context.Response.OnStarting(() =>
        {
            context.Response.Headers[Header] = id;
            return Task.CompletedTask;
        });

        using (LogContext.PushProperty("CorrelationId", id))
        {
            await next(context).ConfigureAwait(false);
        }
    }
}
