using Exchange.Api.Policy;
using Exchange.Api.Storage;

namespace Exchange.Api.Events;

/// <summary>What an item says: which kind of event, about which child, when.</summary>
public readonly record struct EventFacts(string Type, string ChildId, DateTimeOffset OccurredAt);

/// <summary>
/// Who may be told of an outbox item (docs/EVENTS.md): the caller's role may read <c>notification</c> for the child
/// now (a relationship: the responsible council, the host council, the school) and also a category the event is about
/// (an exclusion needs <c>exclusions</c>...), and the item happened within the caller's periods. The pull feed and
/// webhook delivery both ask here, so a webhook never tells more than the feed would. Decided for a whole set of items
/// with set queries.
/// </summary>
public sealed class EventAudience(AccessDecider decider)
{
    /// <summary>Every event type a subscription may ask for, raised now or by the checks still to come.</summary>
    public static readonly IReadOnlyList<string> Types =
    [
        OutboxItem.PupilEnrolled, OutboxItem.PupilLeft, OutboxItem.ExclusionRecorded, OutboxItem.PlacementChanged, OutboxItem.AbsenceThresholdCrossed,
        OutboxItem.MissingEducation, OutboxItem.PepSubmitted, OutboxItem.PepReturned, OutboxItem.PepApproved, OutboxItem.PepOverdue,
    ];

    /// <summary>What each event type tells about, as the policy's categories: the reader must be allowed one of them.</summary>
    public static readonly IReadOnlyDictionary<string, string[]> CategoriesOf = new Dictionary<string, string[]>(StringComparer.Ordinal)
    {
        [OutboxItem.PupilEnrolled] = ["enrolment"],
        [OutboxItem.PupilLeft] = ["enrolment"],
        // The responsible council reads the placement; the council the child moves to, its placement notice.
        [OutboxItem.PlacementChanged] = ["placement", "placement-notice"],
        // What the cohort and the attendance summary show (the council's); not the school's to hear.
        [OutboxItem.MissingEducation] = ["enrolment", "attendance-summary"],
        [OutboxItem.PepOverdue] = ["pep"],
        [OutboxItem.AbsenceThresholdCrossed] = ["attendance-summary"],
        [OutboxItem.ExclusionRecorded] = ["exclusions"],
        [OutboxItem.PepSubmitted] = ["pep"],
        [OutboxItem.PepReturned] = ["pep"],
        [OutboxItem.PepApproved] = ["pep"],
    };

    /// <summary>
    /// The items the caller may be told of now, each with the permit that tells it (whose <c>ChildId</c> is the id the
    /// child is known by now: a merged child's items are told under its survivor's id).
    /// </summary>
    public async Task<IReadOnlyList<(T Item, AccessDecision Notice)>> TellAsync<T>(
        PolicyCaller caller, string purpose, IReadOnlyList<T> items, Func<T, EventFacts> facts, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(items);
        ArgumentNullException.ThrowIfNull(facts);
        var told = new List<(T, AccessDecision)>();
        if (items.Count == 0)
        {
            return told;
        }

        var children = items.Select(i => facts(i).ChildId).Distinct(StringComparer.Ordinal).ToList();
        var notices = await decider.DecideManyAsync(caller, "read", "notification", purpose, children, ct).ConfigureAwait(false);
        var about = new Dictionary<string, IReadOnlyDictionary<string, AccessDecision>>(StringComparer.Ordinal);
        foreach (var category in items.SelectMany(i => CategoriesOf.GetValueOrDefault(facts(i).Type, [])).Distinct(StringComparer.Ordinal))
        {
            about[category] = await decider.DecideManyAsync(caller, "read", category, purpose, children, ct).ConfigureAwait(false);
        }

        foreach (var item in items)
        {
            var (type, child, occurredAt) = facts(item);
            var day = DateOnly.FromDateTime(occurredAt.UtcDateTime);
            bool Within(AccessDecision d) => d.Decision.Permit && !d.Erased && (d.Windows is not { } w || w.Overlaps(day, day, occurredAt));
            var notice = notices[child];
            if (Within(notice) && CategoriesOf.GetValueOrDefault(type, []).Any(c => Within(about[c][child])))
            {
                told.Add((item, notice));
            }
        }

        return told;
    }
}
