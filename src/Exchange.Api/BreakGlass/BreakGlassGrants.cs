using Exchange.Api.Policy;
using Exchange.Api.Storage;
using Microsoft.EntityFrameworkCore;

namespace Exchange.Api.BreakGlass;

/// <summary>The break-glass grants the decision point asks about: a grant is personal (subject and organisation).</summary>
internal sealed class BreakGlassGrants(ExchangeDbContext db) : IBreakGlassGrants
{
    public async Task<Guid?> ActiveGrantAsync(PolicyCaller caller, string childId, DateTimeOffset now, CancellationToken ct) =>
        (await ActiveGrantsAsync(caller, [childId], now, ct).ConfigureAwait(false)).TryGetValue(childId, out var grant) ? grant : null;

    public async Task<IReadOnlyDictionary<string, Guid>> ActiveGrantsAsync(PolicyCaller caller, IReadOnlyCollection<string> childIds, DateTimeOffset now, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(caller);
        var ids = childIds.Distinct(StringComparer.Ordinal).ToList();
        var grants = await db.BreakGlassGrants.AsNoTracking()
            .Where(g => EF.Parameter(ids).Contains(g.ChildId) && g.OrganisationId == caller.Organisation && g.Subject == caller.Subject && g.StartsAt <= now && g.ExpiresAt > now)
            .Select(g => new { g.ChildId, g.Id, g.ExpiresAt }).ToListAsync(ct).ConfigureAwait(false);
        // The latest to expire, per child.
        return grants.GroupBy(g => g.ChildId, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.MaxBy(x => x.ExpiresAt)!.Id, StringComparer.Ordinal);
    }
}
