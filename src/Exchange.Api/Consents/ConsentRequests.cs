using Exchange.Api.Dates;
using Exchange.Api.Errors;
using Exchange.Api.Policy;
using Exchange.Api.Relationships;
using FluentValidation;

namespace Exchange.Api.Consents;

public sealed record ConsentRequest(string? GivenBy, IReadOnlyList<string>? Categories, IReadOnlyList<string>? Recipients, IReadOnlyList<string>? Purposes, string? From, string? Until);

public sealed record ConsentView(Guid Id, string ChildId, string GivenBy, IReadOnlyList<string> Categories, IReadOnlyList<string> Recipients,
    IReadOnlyList<string> Purposes, string From, string? Until, DateTimeOffset? WithdrawnAt, DateTimeOffset RecordedAt);

/// <summary>Every name in a consent must be one the policy knows: a consent to an unknown category would never apply.</summary>
public sealed class ConsentRequestValidator : AbstractValidator<ConsentRequest>
{
    public static readonly IReadOnlySet<string> Givers = new HashSet<string>(StringComparer.Ordinal) { "young-person", "parental-responsibility", "corporate-parent" };

    public ConsentRequestValidator(PolicySet policy, TimeProvider clock)
    {
        string Code() => ProblemTypes.ConsentInvalid.Code;
        RuleFor(x => x.GivenBy).Must(g => g is not null && Givers.Contains(g)).WithErrorCode(Code())
            .WithMessage("givenBy must be young-person, parental-responsibility or corporate-parent.");
        RuleFor(x => x.Categories).Must(c => c is { Count: > 0 and <= 20 } && c.All(category => category is not null && policy.Categories.ContainsKey(category))).WithErrorCode(Code())
            .WithMessage("categories must list 1 to 20 of the policy's data categories.");
        RuleFor(x => x.Purposes).Must(p => p is { Count: > 0 and <= 10 } && p.All(purpose => purpose is not null && policy.Purposes.Contains(purpose))).WithErrorCode(Code())
            .WithMessage("purposes must list 1 to 10 of the policy's purposes.");
        RuleFor(x => x.Recipients).Must(r => r is { Count: > 0 and <= 20 } && r.All(id => id is { Length: <= 64 } && id.Contains(':', StringComparison.Ordinal))).WithErrorCode(Code())
            .WithMessage("recipients must list 1 to 20 organisation ids (la:..., school:..., health:...).");
        RuleFor(x => x.From).Must(f => RelationshipRules.IsDate(f, clock, out _)).WithErrorCode(Code())
            .WithMessage("from must be a date (YYYY-MM-DD), not in the future.");
        When(x => x.Until is not null, () => RuleFor(x => x).Must(x =>
                DateOnly.TryParseExact(x.Until, IsoDates.Format, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.None, out var until)
                && (!RelationshipRules.IsDate(x.From, clock, out var from) || until >= from))
            .WithErrorCode(Code()).WithMessage("until must be a date (YYYY-MM-DD) not before from.").OverridePropertyName("until"));
    }
}
