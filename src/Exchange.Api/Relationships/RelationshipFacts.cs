using Exchange.Api.Policy;
using Exchange.Api.Storage;
using Microsoft.EntityFrameworkCore;

namespace Exchange.Api.Relationships;

/// <summary>
/// The relationships an organisation holds to a child, as the dated facts the policy engine decides by:
/// a council's care episodes (responsible council) and placements in its area (host council), a school's
/// enrolments and roll-check matches, a health body's health responsibility.
/// </summary>
public sealed class RelationshipFacts(ExchangeDbContext db) : IRelationshipFacts
{
    public async Task<IReadOnlyList<RelationshipFact>> ForAsync(string organisationId, string childId, CancellationToken ct) =>
        (await ForManyAsync(organisationId, [childId], ct).ConfigureAwait(false)).GetValueOrDefault(childId) ?? [];

    public async Task<IReadOnlyDictionary<string, IReadOnlyList<RelationshipFact>>> ForManyAsync(string organisationId, IReadOnlyCollection<string> childIds, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(organisationId);
        var ids = childIds.Distinct(StringComparer.Ordinal).ToList();
        var facts = new List<(string ChildId, RelationshipFact Fact)>();
        if (organisationId.StartsWith("la:", StringComparison.Ordinal))
        {
            var la = organisationId[3..];
            facts.AddRange((await db.CareEpisodes.AsNoTracking().Where(e => EF.Parameter(ids).Contains(e.ChildId) && e.ResponsibleLaNumber == la)
                    .Select(e => new { e.ChildId, e.StartDate, e.EndDate }).ToListAsync(ct).ConfigureAwait(false))
                .Select(e => (e.ChildId, new RelationshipFact(ChildRelationship.ResponsibleCouncil, e.StartDate, e.EndDate))));
        }

        if (organisationId.StartsWith("school:", StringComparison.Ordinal))
        {
            // The school's roll check found the child: for 30 days it may declare the child's enrolment.
            facts.AddRange((await db.RollCheckMatches.AsNoTracking().Where(m => EF.Parameter(ids).Contains(m.ChildId) && m.SchoolId == organisationId)
                    .Select(m => new { m.ChildId, m.CheckedOn }).Distinct().ToListAsync(ct).ConfigureAwait(false))
                .Select(m => (m.ChildId, new RelationshipFact(ChildRelationship.RollCheckMatch, m.CheckedOn, m.CheckedOn.AddDays(RollCheckMatch.DaysValid - 1)))));
        }

        facts.AddRange((await db.ChildRelationships.AsNoTracking().Where(r => EF.Parameter(ids).Contains(r.ChildId) && r.OrganisationId == organisationId)
                .Select(r => new { r.ChildId, r.Kind, r.StartDate, r.EndDate }).ToListAsync(ct).ConfigureAwait(false))
            .Select(r => (r.ChildId, new RelationshipFact(r.Kind, r.StartDate, r.EndDate))));
        return facts.GroupBy(f => f.ChildId, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => (IReadOnlyList<RelationshipFact>)g.Select(f => f.Fact).ToList(), StringComparer.Ordinal);
    }

    /// <summary>
    /// The care episodes of the councils that handed each category of each child's history over to the council
    /// <paramref name="organisationId"/> (unrevoked handovers), as responsible-council periods: two set queries.
    /// </summary>
    public async Task<IReadOnlyDictionary<(string ChildId, string Category), IReadOnlyList<RelationshipFact>>> HandedOverManyAsync(
        string organisationId, IReadOnlyCollection<string> childIds, IReadOnlyCollection<string> categories, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(organisationId);
        ArgumentNullException.ThrowIfNull(childIds);
        ArgumentNullException.ThrowIfNull(categories);
        var result = new Dictionary<(string ChildId, string Category), IReadOnlyList<RelationshipFact>>();
        if (!organisationId.StartsWith("la:", StringComparison.Ordinal) || childIds.Count == 0)
        {
            return result;
        }

        var la = organisationId[3..];
        var ids = childIds.Distinct(StringComparer.Ordinal).ToList();
        var handovers = await db.CareHandovers.AsNoTracking().Where(h => EF.Parameter(ids).Contains(h.ChildId) && h.ToLaNumber == la && h.RevokedAt == null)
            .Select(h => new { h.ChildId, h.FromLaNumber, h.Categories }).ToListAsync(ct).ConfigureAwait(false);
        if (handovers.Count == 0)
        {
            return result;
        }

        var handing = handovers.Select(h => h.ChildId).Distinct(StringComparer.Ordinal).ToList();
        var episodes = (await db.CareEpisodes.AsNoTracking().Where(e => EF.Parameter(handing).Contains(e.ChildId))
                .Select(e => new { e.ChildId, e.ResponsibleLaNumber, e.StartDate, e.EndDate }).ToListAsync(ct).ConfigureAwait(false))
            .ToLookup(e => (e.ChildId, e.ResponsibleLaNumber));
        foreach (var category in categories)
        {
            foreach (var child in handovers.Where(h => h.Categories.Contains(category)).GroupBy(h => h.ChildId, StringComparer.Ordinal))
            {
                var periods = child.Select(h => h.FromLaNumber).Distinct(StringComparer.Ordinal)
                    .SelectMany(from => episodes[(child.Key, from)])
                    .Select(e => new RelationshipFact(ChildRelationship.ResponsibleCouncil, e.StartDate, e.EndDate)).ToList();
                if (periods.Count > 0)
                {
                    result[(child.Key, category)] = periods;
                }
            }
        }

        return result;
    }
}
