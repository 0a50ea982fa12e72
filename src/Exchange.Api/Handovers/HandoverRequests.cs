using Exchange.Api.Errors;
using Exchange.Api.Identity;
using Exchange.Api.Policy;
using FluentValidation;

namespace Exchange.Api.Handovers;

/// <summary>
/// A handover: <c>to</c> the receiving council (<c>la:NNN</c>), the <c>categories</c> handed over, and, for the
/// operator's DPO only, <c>from</c>: the council whose episodes' history is handed over (a council hands over its own).
/// </summary>
public sealed record HandoverRequest(string? To, IReadOnlyList<string>? Categories, string? From);

public sealed record HandoverView(Guid Id, string ChildId, string From, string To, IReadOnlyList<string> Categories,
    string RecordedBy, DateTimeOffset RecordedAt, DateTimeOffset? RevokedAt);

public sealed class HandoverRequestValidator : AbstractValidator<HandoverRequest>
{
    /// <summary>
    /// The categories a handover may name: those a responsible council reads under some rule of the policy (what the
    /// receiving council would read for its own episodes), except the handover category itself.
    /// </summary>
    public static IReadOnlySet<string> Handable(PolicySet policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        return policy.Rules.Where(r => r.Relationship == Storage.ChildRelationship.ResponsibleCouncil && r.Actions.Contains("read"))
            .SelectMany(r => r.Categories).Where(c => c != HandoversApi.Category).ToHashSet(StringComparer.Ordinal);
    }

    public HandoverRequestValidator(PolicySet policy)
    {
        var handable = Handable(policy);
        var code = ProblemTypes.HandoverInvalid.Code;
        RuleFor(x => x.To).Must(IsCouncil).WithErrorCode(code).WithMessage("to must be the receiving council's id (la: and its three-digit LA number).");
        RuleFor(x => x.Categories).Must(c => c is { Count: > 0 and <= 20 } && c.All(handable.Contains)).WithErrorCode(code)
            .WithMessage("categories must list 1 to 20 of the policy's categories a responsible council reads: " + string.Join(", ", handable.Order(StringComparer.Ordinal)) + ".");
        When(x => x.From is not null, () => RuleFor(x => x.From).Must(IsCouncil).WithErrorCode(code)
            .WithMessage("from must be a council id (la: and its three-digit LA number)."));
    }

    internal static bool IsCouncil(string? id) => id is { Length: 6 } && id.StartsWith("la:", StringComparison.Ordinal) && IdentifierRules.IsLaNumber(id[3..]);
}
