using Exchange.Api.Dates;
using System.Globalization;
using System.Text.RegularExpressions;
using Exchange.Api.Errors;
using Exchange.Api.Identity;
using FluentValidation;

namespace Exchange.Api.Relationships;

public sealed record PlacementRequest(string? La, string? StartDate, string? EndDate);

public sealed record EnrolmentRequest(string? ChildId, string? Urn, string? StartDate);

public sealed record HealthResponsibilityRequest(string? Ods, string? StartDate);

public sealed record EndRequest(string? EndDate);

public sealed record RelationshipView(Guid Id, string Kind, string ChildId, string Organisation, string StartDate, string? EndDate);

internal static partial class RelationshipRules
{
    [GeneratedRegex(@"\A[0-9]{6}\z", RegexOptions.CultureInvariant)]
    public static partial Regex Urn();

    [GeneratedRegex(@"\A[A-Z0-9]{3,6}\z", RegexOptions.CultureInvariant)]
    public static partial Regex Ods();

    /// <summary>A date as YYYY-MM-DD, not in the future and within the last 26 years (the span of a child's care and schooling).</summary>
    public static bool IsDate(string? text, TimeProvider clock, out DateOnly date)
    {
        date = default;
        if (text is null || !DateOnly.TryParseExact(text, IsoDates.Format, CultureInfo.InvariantCulture, DateTimeStyles.None, out date))
        {
            return false;
        }

        var today = DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime);
        return date <= today && date >= today.AddYears(-26);
    }

    public static IRuleBuilderOptions<T, string?> ValidDate<T>(this IRuleBuilder<T, string?> rule, TimeProvider clock, string name) =>
        rule.Must(v => IsDate(v, clock, out _)).WithErrorCode(ProblemTypes.RelationshipDate.Code)
            .WithMessage($"{name} must be a date (YYYY-MM-DD), not in the future and within the last 26 years.");
}

public sealed class PlacementRequestValidator : AbstractValidator<PlacementRequest>
{
    public PlacementRequestValidator(TimeProvider clock)
    {
        RuleFor(x => x.La).Must(IdentifierRules.IsLaNumber).WithErrorCode(ProblemTypes.LaNumberFormat.Code).WithMessage("la must be a three-digit LA number.");
        RuleFor(x => x.StartDate).ValidDate(clock, "startDate");
        When(x => x.EndDate is not null, () =>
        {
            RuleFor(x => x.EndDate).ValidDate(clock, "endDate");
            RuleFor(x => x).Must(x => !RelationshipRules.IsDate(x.StartDate, clock, out var s) || !RelationshipRules.IsDate(x.EndDate, clock, out var e) || e >= s)
                .WithErrorCode(ProblemTypes.RelationshipDate.Code).WithMessage("endDate must not be before startDate.").OverridePropertyName("endDate");
        });
    }
}

public sealed class EnrolmentRequestValidator : AbstractValidator<EnrolmentRequest>
{
    public EnrolmentRequestValidator(TimeProvider clock)
    {
        RuleFor(x => x.ChildId).Must(Ids.LooksLikeChildId).WithErrorCode(ProblemTypes.ValidationFailed.Code).WithMessage("childId must be a pseudonymous child id (ch_...).");
        RuleFor(x => x.Urn).Must(u => u is not null && RelationshipRules.Urn().IsMatch(u)).WithErrorCode(ProblemTypes.UrnFormat.Code).WithMessage("urn must be six digits.");
        RuleFor(x => x.StartDate).ValidDate(clock, "startDate");
    }
}

public sealed class HealthResponsibilityRequestValidator : AbstractValidator<HealthResponsibilityRequest>
{
    public HealthResponsibilityRequestValidator(TimeProvider clock)
    {
        RuleFor(x => x.Ods).Must(o => o is not null && RelationshipRules.Ods().IsMatch(o)).WithErrorCode(ProblemTypes.OdsFormat.Code).WithMessage("ods must be 3 to 6 capital letters and digits.");
        RuleFor(x => x.StartDate).ValidDate(clock, "startDate");
    }
}

public sealed class EndRequestValidator : AbstractValidator<EndRequest>
{
    public EndRequestValidator(TimeProvider clock) => RuleFor(x => x.EndDate).ValidDate(clock, "endDate");
}
