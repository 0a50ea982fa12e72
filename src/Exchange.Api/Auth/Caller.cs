using System.Security.Claims;
using Exchange.Api.Policy;

namespace Exchange.Api.Auth;

/// <summary>Who is calling, read from the validated token.</summary>
public sealed record Caller(string Subject, string Organisation, IReadOnlyList<string> Roles, string? ClientId)
{
    /// <summary>The caller's LA number when the caller is a council (<c>la:202</c> gives <c>202</c>).</summary>
    public string? CouncilLaNumber => Organisation.StartsWith("la:", StringComparison.Ordinal) ? Organisation[3..] : null;

    /// <summary>The caller as the policy engine sees it (Policy is a lower layer and does not know this type).</summary>
    public PolicyCaller ToPolicyCaller() => new(Subject, Organisation, Roles);

    /// <summary>Lets a decision be asked with the caller itself.</summary>
    public static implicit operator PolicyCaller(Caller caller) => caller?.ToPolicyCaller()!;

    public static Caller From(ClaimsPrincipal user)
    {
        ArgumentNullException.ThrowIfNull(user);
        return new Caller(
            user.FindFirstValue(ClaimNames.Subject) ?? "",
            user.FindFirstValue(ClaimNames.Organisation) ?? "",
            user.FindAll(ClaimNames.Roles).Select(c => c.Value).ToList(),
            user.FindFirstValue(ClaimNames.ClientId) ?? user.FindFirstValue(ClaimNames.AuthorizedParty));
    }
}
