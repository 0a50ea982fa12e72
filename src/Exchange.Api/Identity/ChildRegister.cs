using Exchange.Api.Policy;
using Exchange.Api.Storage;
using Microsoft.EntityFrameworkCore;

namespace Exchange.Api.Identity;

/// <summary>The child register as the decision point asks it: does the id name a child, which survivor, erased.</summary>
internal sealed class ChildRegister(ExchangeDbContext db, IdentityService identity) : IChildRegister
{
    public async Task<RegisteredChild?> FindAsync(string childId, CancellationToken ct)
    {
        if (!Ids.LooksLikeChildId(childId))
        {
            return null;
        }

        // One query answers both whether the id was merged and whether it was erased; merges are rare and followed only then.
        var child = await db.Children.AsNoTracking().Where(c => c.Id == childId)
            .Select(c => new { c.MergedIntoChildId, Erased = c.ErasedAt != null }).FirstOrDefaultAsync(ct).ConfigureAwait(false);
        if (child?.MergedIntoChildId is null)
        {
            return child is null ? null : new RegisteredChild(childId, child.Erased);
        }

        // A merge target always exists.
        var survivor = await identity.SurvivorOfAsync(child.MergedIntoChildId, ct).ConfigureAwait(false);
        var erased = await db.Children.AsNoTracking().AnyAsync(c => c.Id == survivor && c.ErasedAt != null, ct).ConfigureAwait(false);
        return new RegisteredChild(survivor, erased);
    }
}
