using Exchange.Api.Policy;
using Exchange.Api.Storage;
using Microsoft.EntityFrameworkCore;

namespace Exchange.Api.Identity;

/// <summary>The child register as the decision point asks it: does the id name a child, which survivor, erased.</summary>
internal sealed class ChildRegister(ExchangeDbContext db, IdentityService identity) : IChildRegister
{
    public async Task<RegisteredChild?> FindAsync(string childId, CancellationToken ct) =>
        (await FindManyAsync([childId], ct).ConfigureAwait(false)).GetValueOrDefault(childId);

    public async Task<IReadOnlyDictionary<string, RegisteredChild>> FindManyAsync(IReadOnlyCollection<string> childIds, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(childIds);
        var ids = childIds.Where(Ids.LooksLikeChildId).Distinct(StringComparer.Ordinal).ToList();
        var found = new Dictionary<string, RegisteredChild>(StringComparer.Ordinal);
        if (ids.Count == 0)
        {
            return found;
        }

        // One query answers both whether each id was merged and whether it was erased; merges are rare and followed only then.
        var children = await db.Children.AsNoTracking().Where(c => EF.Parameter(ids).Contains(c.Id))
            .Select(c => new { c.Id, c.MergedIntoChildId, Erased = c.ErasedAt != null }).ToListAsync(ct).ConfigureAwait(false);
        foreach (var child in children)
        {
            if (child.MergedIntoChildId is null)
            {
                found[child.Id] = new RegisteredChild(child.Id, child.Erased);
                continue;
            }

            // A merge target always exists.
            var survivor = await identity.SurvivorOfAsync(child.MergedIntoChildId, ct).ConfigureAwait(false);
            var erased = await db.Children.AsNoTracking().AnyAsync(c => c.Id == survivor && c.ErasedAt != null, ct).ConfigureAwait(false);
            found[child.Id] = new RegisteredChild(survivor, erased);
        }

        return found;
    }
}
