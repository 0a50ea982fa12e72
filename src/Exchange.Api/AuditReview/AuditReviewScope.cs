using Exchange.Api.Auth;
using Exchange.Api.Storage;
using Microsoft.EntityFrameworkCore;

namespace Exchange.Api.AuditReview;

/// <summary>
/// Which audit events a DPO may read: the exchange operator's DPO all of them; an organisation's DPO the
/// events of its own staff and the events about children the organisation holds data on. For a council those
/// are the events about a child that happened during one of its care episodes: from when the episode had both
/// begun and been recorded (a backdated start reaches no further back than the registration) until the end of
/// its last day. So a council taking over a child does not see the former council's staff at work before it,
/// nor the former council the new one's. Another organisation's DPO sees the events about children it
/// registered or linked identifiers to. Other entries are withheld: a DPO gets their leaf hashes, so the whole
/// log still verifies, but not their content.
/// </summary>
public sealed class AuditReviewScope
{
    private readonly string? _organisation;

    // Per child, the periods (Unix ms, end exclusive; null = open) whose events the DPO sees.
    private readonly Dictionary<string, List<(long From, long? To)>> _children;

    private AuditReviewScope(string? organisation, Dictionary<string, List<(long From, long? To)>> children)
    {
        _organisation = organisation;
        _children = children;
    }

    public bool SeesAll => _organisation is null;

    public string? Organisation => _organisation;

    /// <summary>The children the DPO sees some events of (a coarse filter; <see cref="Sees"/> decides each event).</summary>
    public IReadOnlyCollection<string> Children => _children.Keys;

    public static async Task<AuditReviewScope> ForAsync(Caller caller, ExchangeDbContext db, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(caller);
        ArgumentNullException.ThrowIfNull(db);
        if (caller.Organisation == DatabaseInitializer.OperatorId)
        {
            return new AuditReviewScope(null, []);
        }

        var org = caller.Organisation;
        var children = new Dictionary<string, List<(long From, long? To)>>(StringComparer.Ordinal);
        void Add(string child, long from, long? to)
        {
            if (!children.TryGetValue(child, out var periods))
            {
                children[child] = periods = [];
            }

            periods.Add((from, to));
        }

        if (caller.CouncilLaNumber is { } la)
        {
            // A council registers children and links identifiers only with a care episode: its episodes are its scope.
            // An episode moved by a merge also covers the events recorded under the merged child's id.
            var merges = await db.ChildMerges.AsNoTracking().Select(m => new { m.MergedChildId, m.MovedCareEpisodeIds }).ToListAsync(ct).ConfigureAwait(false);
            foreach (var e in await db.CareEpisodes.AsNoTracking().Where(e => e.ResponsibleLaNumber == la)
                         .Select(e => new { e.Id, e.ChildId, e.StartDate, e.EndDate, e.RecordedAt }).ToListAsync(ct).ConfigureAwait(false))
            {
                var start = Math.Max(StartOfDay(e.StartDate), e.RecordedAt.ToUnixTimeMilliseconds());
                long? to = e.EndDate is { } end ? StartOfDay(end.AddDays(1)) : null;
                Add(e.ChildId, start, to);
                foreach (var merge in merges.Where(m => m.MovedCareEpisodeIds.Contains(e.Id)))
                {
                    Add(merge.MergedChildId, start, to);
                }
            }

            return new AuditReviewScope(org, children);
        }

        var held = await db.Children.AsNoTracking().Where(c => c.CreatedByOrganisation == org).Select(c => c.Id).ToListAsync(ct).ConfigureAwait(false);
        held.AddRange(await db.ChildIdentifiers.AsNoTracking().Where(i => i.LinkedByOrganisation == org).Select(i => i.ChildId).ToListAsync(ct).ConfigureAwait(false));
        foreach (var child in held.Distinct(StringComparer.Ordinal))
        {
            Add(child, long.MinValue, null);
        }

        return new AuditReviewScope(org, children);
    }

    private static long StartOfDay(DateOnly day) => new DateTimeOffset(day.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero).ToUnixTimeMilliseconds();

    /// <summary>Whether an event by <paramref name="actorOrganisation"/> about <paramref name="childId"/> at <paramref name="timeMs"/> is visible.</summary>
    public bool Sees(string? actorOrganisation, string? childId, long timeMs) =>
        SeesAll
        || string.Equals(actorOrganisation, _organisation, StringComparison.Ordinal)
        || (childId is not null && _children.TryGetValue(childId, out var periods) && periods.Any(p => p.From <= timeMs && (p.To is null || timeMs < p.To)));
}
