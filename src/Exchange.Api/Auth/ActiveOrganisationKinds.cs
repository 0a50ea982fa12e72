using Exchange.Api.Policy;
using Exchange.Api.Storage;
using Microsoft.EntityFrameworkCore;

namespace Exchange.Api.Auth;

/// <summary>
/// The kind of the caller's organisation, or null when it is not registered and active, looked up once per
/// request: the sign-in check and the access decision both need it (docs/BENCHMARKS.md, part 4).
/// </summary>
public sealed class ActiveOrganisationKinds(ExchangeDbContext db) : IOrganisationKinds
{
    private string? _organisation;
    private OrganisationKind? _kind;

    public async ValueTask<OrganisationKind?> OfAsync(string? organisation, CancellationToken ct)
    {
        if (organisation is null)
        {
            return null;
        }

        if (_organisation != organisation)
        {
            _kind = await db.Organisations.AsNoTracking().Where(o => o.Id == organisation && o.Active)
                .Select(o => (OrganisationKind?)o.Kind).FirstOrDefaultAsync(ct).ConfigureAwait(false);
            _organisation = organisation;
        }

        return _kind;
    }

    /// <summary>The kind as the policy names it: the enum's name in lower case.</summary>
    public async ValueTask<string?> KindOfAsync(string organisation, CancellationToken ct) =>
        (await OfAsync(organisation, ct).ConfigureAwait(false))?.ToString().ToLowerInvariant();
}
