using Exchange.Api.Storage;
using Microsoft.AspNetCore.Authorization;

namespace Exchange.Api.Auth;

/// <summary>The token's <c>org</c> must be a registered, active organisation.</summary>
public sealed class ActiveOrganisationRequirement : IAuthorizationRequirement;

internal sealed class ActiveOrganisationHandler(ActiveOrganisationKinds kinds, Policy.PolicySet policy) : AuthorizationHandler<ActiveOrganisationRequirement>
{
    protected override async Task HandleRequirementAsync(AuthorizationHandlerContext context, ActiveOrganisationRequirement requirement)
    {
        if (context.User.Identity?.IsAuthenticated != true)
        {
            return;
        }

        var org = context.User.FindFirst(ClaimNames.Organisation)?.Value;
        if (string.IsNullOrWhiteSpace(context.User.FindFirst(ClaimNames.Subject)?.Value))
        {
            // Every access is attributed to someone; a token without a subject is refused.
            context.Fail(new AuthorizationFailureReason(this, TokenClaimsReason));
            return;
        }

        var kind = await kinds.OfAsync(org, CancellationToken.None).ConfigureAwait(false);
        if (kind is null)
        {
            context.Fail(new AuthorizationFailureReason(this, OrganisationNotActiveReason));
            return;
        }

        // A role means something only in its kind of organisation: a school's token cannot act as a
        // virtual school, and the operator's cannot act as a school.
        if (context.User.FindAll(ClaimNames.Roles).Any(r => !RoleFitsOrganisation(policy, r.Value, kind.Value)))
        {
            context.Fail(new AuthorizationFailureReason(this, RoleMismatchReason));
            return;
        }

        context.Succeed(requirement);
    }

    /// <summary>
    /// The policy's roles say which kinds of organisation hold them (policies/vocabulary.yaml); a role the policy
    /// does not declare fits none (an unknown role is not silently ignored).
    /// </summary>
    public static bool RoleFitsOrganisation(Policy.PolicySet policy, string role, OrganisationKind kind) =>
        policy is not null && role is not null && policy.Roles.TryGetValue(role, out var declared)
        && declared.Organisations.Contains(kind.ToString().ToLowerInvariant(), StringComparer.Ordinal);

    public const string OrganisationNotActiveReason = "organisation-not-active";
    public const string RoleMismatchReason = "role-not-for-organisation";
    public const string TokenClaimsReason = "token-claims-invalid";
}
