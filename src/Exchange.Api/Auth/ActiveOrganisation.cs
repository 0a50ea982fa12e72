using Exchange.Api.Storage;
using Microsoft.AspNetCore.Authorization;
using Microsoft.EntityFrameworkCore;

namespace Exchange.Api.Auth;

/// <summary>The token's <c>org</c> must be a registered, active organisation.</summary>
public sealed class ActiveOrganisationRequirement : IAuthorizationRequirement;

internal sealed class ActiveOrganisationHandler(ExchangeDbContext db) : AuthorizationHandler<ActiveOrganisationRequirement>
{
    protected override async Task HandleRequirementAsync(AuthorizationHandlerContext context, ActiveOrganisationRequirement requirement)
    {
        if (context.User.Identity?.IsAuthenticated != true)
        {
            return;
        }

        var org = context.User.FindFirst(ClaimNames.Organisation)?.Value;
        var active = !string.IsNullOrEmpty(org)
            && await db.Organisations.AsNoTracking().AnyAsync(o => o.Id == org && o.Active).ConfigureAwait(false);
        if (active)
        {
            context.Succeed(requirement);
        }
        else
        {
            context.Fail(new AuthorizationFailureReason(this, OrganisationNotActiveReason));
        }
    }

    public const string OrganisationNotActiveReason = "organisation-not-active";
}
