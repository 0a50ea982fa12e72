using System.Globalization;
using Exchange.Api.Auditing;
using Exchange.Api.Auth;
using Exchange.Api.Decisions;
using Exchange.Api.Policy;
using Exchange.Api.Storage;
using Microsoft.EntityFrameworkCore;

namespace Exchange.Api.Events;

/// <summary>An item of the feed: what happened to which child, when. The detail is fetched through the API.</summary>
public sealed record EventView(Guid EventId, string Type, string ChildId, DateTimeOffset OccurredAt);

/// <summary>A page of the feed and where the next starts (<c>after=</c>); <c>More</c> when more items may already be waiting.</summary>
public sealed record EventPage(IReadOnlyList<EventView> Items, string Next, bool More);

/// <summary>
/// The pull feed of the outbox (docs/EVENTS.md): the items about children the caller may be told about now, in the
/// order they were written. An item is the caller's when the policy lets its role read <c>notification</c> for the
/// child (a relationship: the responsible council, the host council, the school) and also read a category the event
/// is about (an exclusion needs <c>exclusions</c>...), within the caller's periods. Decided per page with set queries.
/// Items are read by their number as soon as they commit: they commit in the order of their numbers (SQLite's single
/// writer; on PostgreSQL the outbox lock, <see cref="PostgresExchangeDbContext.OutboxLock"/>), so a cursor never
/// passes an item that is still to land.
/// </summary>
public sealed class EventFeed(ExchangeDbContext db, EventAudience audience, ChildDecisions childDecisions, AuditTrail audit)
{
    public const int DefaultLimit = 100;
    public const int MaxLimit = 500;

    /// <summary>The most items one request reads through looking for the caller's (a page may then hold fewer).</summary>
    private const int ScanBudget = 5_000;

    /// <summary>Parses <c>after</c>: empty for the start of the feed, else the <c>next</c> of an earlier page.</summary>
    public static bool TryCursor(string? after, out long sequence)
    {
        sequence = 0;
        return after is null || (after.Length is > 0 and <= 19 && after.All(char.IsAsciiDigit)
            && long.TryParse(after, NumberStyles.None, CultureInfo.InvariantCulture, out sequence));
    }

    public async Task<EventPage> PageAsync(Caller caller, string purpose, long after, int limit, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(caller);
        var items = new List<EventView>();
        var last = after;
        var scanned = 0;
        AccessDecision? anyPermit = null;
        var exhausted = false;
        while (items.Count < limit && scanned < ScanBudget)
        {
            var from = last;
            var chunk = await db.OutboxItems.AsNoTracking().Where(o => o.Sequence > from)
                .OrderBy(o => o.Sequence).Take(Math.Min(500, ScanBudget - scanned)).ToListAsync(ct).ConfigureAwait(false);
            if (chunk.Count == 0)
            {
                exhausted = true;
                break;
            }

            var told = await audience.TellAsync(caller, purpose, chunk, o => new EventFacts(o.Type, o.ChildId, o.OccurredAt), ct).ConfigureAwait(false);
            var toldById = told.ToDictionary(t => t.Item.Sequence, t => t.Notice);
            foreach (var item in chunk)
            {
                scanned++;
                last = item.Sequence;
                if (!toldById.TryGetValue(item.Sequence, out var notice))
                {
                    continue;
                }

                anyPermit ??= notice;
                items.Add(new EventView(item.Id, item.Type, notice.ChildId ?? item.ChildId, item.OccurredAt));
                if (items.Count == limit)
                {
                    break;
                }
            }
        }

        // The request names every child it told about, each in its own event (as a batch does).
        childDecisions.AdoptBatch(anyPermit);
        audit.AlsoAbout(items.Select(i => i.ChildId));
        var more = !exhausted;
        return new EventPage(items, last.ToString(CultureInfo.InvariantCulture), more);
    }
}
