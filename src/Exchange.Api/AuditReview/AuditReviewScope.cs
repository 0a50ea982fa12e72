using Exchange.Api.Auth;
using Exchange.Api.Storage;
using Microsoft.EntityFrameworkCore;

namespace Exchange.Api.AuditReview;

/// <summary>
/// Which audit events a DPO may read: the exchange operator's DPO all of them; an organisation's DPO the
/// events of its own staff and the events about children the organisation holds data on (children it
/// registered, identifiers it linked, care episodes of its council). Other entries are withheld: a DPO
/// gets their leaf hashes, so the whole log still verifies, but not their content.
/// </summary>
public sealed class AuditReviewScope
{
    private readonly string? _organisation;
    private readonly HashSet<string> _children;

    private AuditReviewScope(string? organisation, HashSet<string> children)
    {
        _organisation = organisation;
        _children = children;
    }

    public bool SeesAll => _organisation is null;

    public string? Organisation => _organisation;

    public IReadOnlyCollection<string> Children => _children;

    public static async Task<AuditReviewScope> ForAsync(Caller caller, ExchangeDbContext db, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(caller);
        ArgumentNullException.ThrowIfNull(db);
        if (caller.Organisation == DatabaseInitializer.OperatorId)
        {
            return new AuditReviewScope(null, []);
        }

        var org = caller.Organisation;
        var children = new HashSet<string>(StringComparer.Ordinal);
        children.UnionWith(await db.Children.AsNoTracking().Where(c => c.CreatedByOrganisation == org).Select(c => c.Id).ToListAsync(ct).ConfigureAwait(false));
        children.UnionWith(await db.ChildIdentifiers.AsNoTracking().Where(i => i.LinkedByOrganisation == org).Select(i => i.ChildId).ToListAsync(ct).ConfigureAwait(false));
        if (caller.CouncilLaNumber is { } la)
        {
            children.UnionWith(await db.CareEpisodes.AsNoTracking().Where(e => e.ResponsibleLaNumber == la).Select(e => e.ChildId).ToListAsync(ct).ConfigureAwait(false));
        }

        return new AuditReviewScope(org, children);
    }

    /// <summary>Whether an event by <paramref name="actorOrganisation"/> about <paramref name="childId"/> is visible.</summary>
    public bool Sees(string? actorOrganisation, string? childId) =>
        SeesAll
        || string.Equals(actorOrganisation, _organisation, StringComparison.Ordinal)
        || (childId is not null && _children.Contains(childId));
}
