using Exchange.Api.Errors;
using Exchange.Api.Storage;
using FluentValidation;

namespace Exchange.Api.Exclusions;

/// <summary>A suspension or permanent exclusion, as the school's MIS sends it.</summary>
/// <param name="Sessions">Suspensions only: the school sessions (half days) it lasts.</param>
/// <param name="ReasonCode">The DfE reason category (<see cref="ExclusionReasons"/>).</param>
/// <param name="ReasonText">Optional: the school's own words, sealed under the child's key.</param>
public sealed record ExclusionRequest(string? Type, string? StartDate, int? Sessions, string? ReasonCode, string? ReasonText);

/// <summary>An exclusion as a reader sees it. Fields the caller's policy mask hides are absent.</summary>
public sealed record ExclusionView(
    Guid Id, string ChildId, string Type, string StartDate, int? Sessions, string ReasonCode, string? ReasonText, string RecordedBy, DateTimeOffset RecordedAt);

public sealed record ExclusionsView(IReadOnlyList<ExclusionView> Items);

public sealed class ExclusionRequestValidator : AbstractValidator<ExclusionRequest>
{
    /// <summary>
    /// A pupil may be suspended for at most 45 school days in a school year (School Discipline (Pupil Exclusions and
    /// Reviews) (England) Regulations 2012, reg. 4): 90 sessions is the most one suspension can last.
    /// </summary>
    public const int MaxSessions = 90;

    /// <summary>Enough for a paragraph; the detail belongs in the school's own records.</summary>
    public const int MaxReasonText = 2000;

    public ExclusionRequestValidator(TimeProvider clock)
    {
        RuleFor(x => x.Type).Must(t => t is Exclusion.Suspension or Exclusion.Permanent)
            .WithErrorCode(ProblemTypes.ExclusionType.Code).WithMessage("type must be suspension or permanent-exclusion.");
        RuleFor(x => x.StartDate).Must(d => Relationships.RelationshipRules.IsDate(d, clock, out _))
            .WithErrorCode(ProblemTypes.ExclusionDate.Code).WithMessage("startDate must be a date (YYYY-MM-DD), not in the future and within the last 26 years.");
        When(x => x.Type == Exclusion.Suspension, () =>
            RuleFor(x => x.Sessions).Must(s => s is >= 1 and <= MaxSessions)
                .WithErrorCode(ProblemTypes.ExclusionSessions.Code).WithMessage($"A suspension gives sessions: a whole number of half days from 1 to {MaxSessions}."));
        When(x => x.Type == Exclusion.Permanent, () =>
            RuleFor(x => x.Sessions).Null()
                .WithErrorCode(ProblemTypes.ExclusionSessions.Code).WithMessage("A permanent exclusion has no number of sessions: leave sessions out."));
        RuleFor(x => x.ReasonCode).Must(c => c is null || !ExclusionReasons.Withdrawn.ContainsKey(c))
            .WithErrorCode(ProblemTypes.ExclusionReasonWithdrawn.Code).WithMessage(x => ExclusionReasons.Withdrawn.GetValueOrDefault(x.ReasonCode ?? "", ""))
            .DependentRules(() => RuleFor(x => x.ReasonCode).Must(c => c is not null && ExclusionReasons.InForce.ContainsKey(c))
                .WithErrorCode(ProblemTypes.ExclusionReasonUnknown.Code).WithMessage("reasonCode must be one of the DfE's reason codes (two capital letters, exact)."));
        When(x => x.ReasonText is not null, () =>
            RuleFor(x => x.ReasonText).Must(IsText)
                .WithErrorCode(ProblemTypes.ExclusionReasonText.Code)
                .WithMessage($"reasonText, when given, is 1 to {MaxReasonText} characters of text (line breaks allowed, no other control characters)."));
    }

    private static bool IsText(string? text) =>
        text is not null && text.Trim().Length > 0 && text.Length <= MaxReasonText
        && text.All(c => c is '\n' or '\r' or '\t' || !char.IsControl(c));
}
