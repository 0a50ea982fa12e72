using Exchange.Api.Policy;
using Exchange.Api.Storage;
using Microsoft.EntityFrameworkCore;

namespace Exchange.Api.BreakGlass;

/// <summary>The break-glass grants the decision point asks about: a grant is personal (subject and organisation).</summary>
internal sealed class BreakGlassGrants(ExchangeDbContext db) : IBreakGlassGrants
{
    public Task<Guid?> ActiveGrantAsync(PolicyCaller caller, string childId, DateTimeOffset now, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(caller);
        return db.BreakGlassGrants.AsNoTracking()
            .Where(g => g.ChildId == childId && g.OrganisationId == caller.Organisation && g.Subject == caller.Subject && g.StartsAt <= now && g.ExpiresAt > now)
            .OrderByDescending(g => g.ExpiresAt).Select(g => (Guid?)g.Id).FirstOrDefaultAsync(ct);
    }
}
