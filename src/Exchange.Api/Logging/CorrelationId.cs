using System.Text.RegularExpressions;
using Serilog.Context;

namespace Exchange.Api.Logging;

/// <summary>
/// Gives every request a correlation id: the caller's <c>X-Correlation-Id</c> when it is a
/// safe token, else a new one. It is echoed in the response header, in every problem body
/// and in every log event of the request. Every request also gets a server-generated id
/// (<see cref="ServerRequestId"/>, logged as <c>ServerRequestId</c>): the audit log records that
/// one, so no caller-chosen text is ever written into the immutable log.
/// </summary>
internal sealed partial class CorrelationIdMiddleware(RequestDelegate next)
{
    public const string Header = "X-Correlation-Id";

    private static readonly object ServerIdKey = new();

    /// <summary>The server-generated id of the request (never caller-chosen); null outside a request.</summary>
    public static string? ServerRequestId(HttpContext context) =>
        context is not null && context.Items.TryGetValue(ServerIdKey, out var id) ? id as string : null;

    /// <summary>
    /// A new server request id: 32 lower-case hex characters, drawn again while it holds anything the log
    /// scrubber would take for an identifier (about one in twelve holds a run of ten digits), so it reaches
    /// the logs intact and joins them to the audit event that records it. Caller-supplied values are scrubbed as ever.
    /// </summary>
    internal static string NewServerId()
    {
        while (true)
        {
            var id = Guid.NewGuid().ToString("N");
            if (string.Equals(LogScrubber.Scrub(id), id, StringComparison.Ordinal))
            {
                return id;
            }
        }
    }

    [GeneratedRegex(@"^[A-Za-z0-9._-]{8,64}\z", RegexOptions.CultureInvariant)]
    private static partial Regex SafeId();

    public async Task InvokeAsync(HttpContext context)
    {
        var offered = context.Request.Headers[Header].ToString();
        var serverId = NewServerId();
        // A caller-chosen id must not smuggle an identifier into our logs.
        var id = SafeId().IsMatch(offered) && LogScrubber.Scrub(offered) == offered
            ? offered
            : serverId;
        context.TraceIdentifier = id;
        context.Items[ServerIdKey] = serverId;
        context.Response.OnStarting(() =>
        {
            context.Response.Headers[Header] = id;
            return Task.CompletedTask;
        });

        using (LogContext.PushProperty("CorrelationId", id))
        using (LogContext.PushProperty("ServerRequestId", serverId))
        {
            await next(context).ConfigureAwait(false);
        }
    }
}
