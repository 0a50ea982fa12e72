using Exchange.Api.Auditing;
using Exchange.Api.Auth;
using Exchange.Api.Decisions;
using Exchange.Api.Errors;
using Exchange.Api.Purpose;

namespace Exchange.Api.Events;

/// <summary>
/// <c>GET /v1/events?after=&amp;limit=</c>: the pull feed of what happened to the children the caller may be told
/// about (docs/EVENTS.md), for an organisation that cannot receive webhooks.
/// </summary>
public static class EventsApi
{
    public static IEndpointRouteBuilder MapEventsApi(this IEndpointRouteBuilder app)
    {
        app.MapGroup("/v1/events").WithTags("Events").RequirePurposeOfUse()
            .MapGet("/", ListAsync).Audited("events.list", "notification", "items")
            // Decided per item inside the handler, for the whole page at once; a role with no rule is refused here.
            .Decides("read", noChild: true, findsChild: true);
        return app;
    }

    private static async Task<IResult> ListAsync(HttpContext http, EventFeed feed, string? after, string? limit, CancellationToken ct)
    {
        if (!EventFeed.TryCursor(after, out var cursor))
        {
            return Problems.Result(ProblemTypes.EventsCursor);
        }

        var size = EventFeed.DefaultLimit;
        if (limit is not null && (!int.TryParse(limit, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out size)
                || size is < 1 or > EventFeed.MaxLimit))
        {
            return Problems.Result(ProblemTypes.EventsLimit);
        }

        return TypedResults.Ok(await feed.PageAsync(Caller.From(http.User), PurposeOfUse.Of(http)!, cursor, size, ct).ConfigureAwait(false));
    }
}
