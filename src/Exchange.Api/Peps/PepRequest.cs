using System.Text.RegularExpressions;
using Exchange.Api.Errors;
using FluentValidation;

namespace Exchange.Api.Peps;

/// <summary>A SMART target of the plan.</summary>
/// <param name="Id">The school's short label for it (<c>T1</c>), which Pupil Premium Plus spend refers to.</param>
/// <param name="Measure">How success will be measured.</param>
/// <param name="DueBy">When it should be achieved.</param>
/// <param name="Status"><c>not-started</c>, <c>in-progress</c>, <c>achieved</c> or <c>not-achieved</c>.</param>
public sealed record PepTarget(string? Id, string? Description, string? Measure, string? DueBy, string? Status);

/// <summary>Pupil Premium Plus spent towards one target.</summary>
/// <param name="Amount">Pounds, at most two decimal places.</param>
public sealed record PepPremiumSpend(string? TargetId, decimal? Amount, string? Description);

/// <summary>
/// A PEP as the designated teacher or the virtual school saves it (<c>PUT /v1/children/{childId}/pep</c>). Every field
/// but the dates is sealed under the child's key; <see cref="HealthSection"/> is sealed on its own and written by the
/// virtual school only.
/// </summary>
/// <param name="SenStatus"><c>none</c>, <c>sen-support</c> or <c>ehcp</c> (the DfE's N, K and E).</param>
public sealed record PepRequest(
    string? MeetingDate, string? NextReviewDate, string? DesignatedTeacher, IReadOnlyList<string>? Attendees, IReadOnlyList<PepTarget>? Targets,
    IReadOnlyList<PepPremiumSpend>? PupilPremiumPlus, string? SenStatus, string? Attainment, string? PupilVoice, string? CarerViews, string? HealthSection);

/// <summary>The virtual school returns a submitted plan, saying what it needs.</summary>
public sealed record PepReturnRequest(string? Reason);

/// <summary>The virtual school approves a submitted plan with its quality rating.</summary>
public sealed record PepApproveRequest(string? Quality);

public sealed partial class PepRequestValidator : AbstractValidator<PepRequest>
{
    public const int MaxText = 4000;
    public const int MaxName = 200;
    public const int MaxItems = 20;
    public const int MaxAttendees = 30;
    public const decimal MaxAmount = 10_000m;

    public static readonly string[] TargetStatuses = ["not-started", "in-progress", "achieved", "not-achieved"];
    public static readonly string[] SenStatuses = ["none", "sen-support", "ehcp"];

    public PepRequestValidator(TimeProvider clock)
    {
        RuleFor(x => x.MeetingDate).Must(d => Relationships.RelationshipRules.IsDate(d, clock, out _))
            .WithErrorCode(ProblemTypes.PepMeetingDate.Code).WithMessage("meetingDate must be a date (YYYY-MM-DD), not in the future and within the last 26 years.");
        When(x => x.NextReviewDate is not null, () =>
            RuleFor(x => x).Must(NextReviewFollowsMeeting).OverridePropertyName("nextReviewDate")
                .WithErrorCode(ProblemTypes.PepNextReviewDate.Code).WithMessage("nextReviewDate must be a date after meetingDate and within a year of it."));
        When(x => x.DesignatedTeacher is not null, () =>
            RuleFor(x => x.DesignatedTeacher).Must(t => IsText(t, MaxName)).WithErrorCode(ProblemTypes.PepText.Code)
                .WithMessage($"designatedTeacher, when given, is 1 to {MaxName} characters of text."));
        RuleFor(x => x.Attendees).Must(a => a is null || (a.Count <= MaxAttendees && a.All(n => IsText(n, MaxName) && !n.Contains('\n', StringComparison.Ordinal) && !n.Contains('\r', StringComparison.Ordinal))))
            .WithErrorCode(ProblemTypes.PepAttendees.Code).WithMessage($"attendees: at most {MaxAttendees}, each 1 to {MaxName} characters on one line.");
        RuleFor(x => x.Targets).Must(AreTargets)
            .WithErrorCode(ProblemTypes.PepTargets.Code).WithMessage(ProblemTypes.PepTargets.Title);
        RuleFor(x => x).Must(SpendNamesTargets).OverridePropertyName("pupilPremiumPlus")
            .WithErrorCode(ProblemTypes.PepPremium.Code).WithMessage(ProblemTypes.PepPremium.Title);
        RuleFor(x => x.SenStatus).Must(s => s is null || SenStatuses.Contains(s, StringComparer.Ordinal))
            .WithErrorCode(ProblemTypes.PepSenStatus.Code).WithMessage("senStatus must be none, sen-support or ehcp.");
        foreach (var (name, text) in new (string, Func<PepRequest, string?>)[]
                 { ("attainment", x => x.Attainment), ("pupilVoice", x => x.PupilVoice), ("carerViews", x => x.CarerViews), ("healthSection", x => x.HealthSection) })
        {
            When(x => text(x) is not null, () =>
                RuleFor(x => text(x)).Must(t => IsText(t, MaxText)).OverridePropertyName(name).WithErrorCode(ProblemTypes.PepText.Code)
                    .WithMessage($"{name}, when given, is 1 to {MaxText} characters of text (line breaks allowed, no other control characters)."));
        }
    }

    private static bool NextReviewFollowsMeeting(PepRequest x) =>
        Dates.IsoDates.TryParseIso(x.NextReviewDate, out var next)
        && (!Dates.IsoDates.TryParseIso(x.MeetingDate, out var meeting) || meeting.Year >= 9999 || (next > meeting && next <= meeting.AddYears(1)));

    private static bool AreTargets(IReadOnlyList<PepTarget>? targets) =>
        targets is null
        || (targets.Count <= MaxItems
            && targets.All(t => t is not null && t.Id is not null && TargetId().IsMatch(t.Id) && IsText(t.Description, MaxText) && IsText(t.Measure, MaxText)
                && Dates.IsoDates.TryParseIso(t.DueBy, out var due) && due.Year is >= 2000 and <= 2100 && TargetStatuses.Contains(t.Status, StringComparer.Ordinal))
            && targets.Select(t => t.Id).Distinct(StringComparer.Ordinal).Count() == targets.Count);

    private static bool SpendNamesTargets(PepRequest x) =>
        x.PupilPremiumPlus is null
        || (x.PupilPremiumPlus.Count <= MaxItems
            && x.PupilPremiumPlus.All(s => s is not null && s.Amount is > 0 and <= MaxAmount && decimal.Round(s.Amount.Value, 2) == s.Amount.Value
                && IsText(s.Description, MaxText) && x.Targets is not null && x.Targets.Any(t => t?.Id is not null && t.Id == s.TargetId)));

    /// <summary>Text a person wrote: not blank, within the limit, line breaks and tabs allowed, no other control characters.</summary>
    public static bool IsText(string? text, int max) =>
        text is not null && text.Trim().Length > 0 && text.Length <= max && text.All(c => c is '\n' or '\r' or '\t' || !char.IsControl(c));

    [GeneratedRegex(@"\A[A-Za-z0-9-]{1,20}\z")]
    private static partial Regex TargetId();
}

public sealed class PepReturnRequestValidator : AbstractValidator<PepReturnRequest>
{
    public PepReturnRequestValidator() =>
        RuleFor(x => x.Reason).Must(r => PepRequestValidator.IsText(r, PepRequestValidator.MaxText))
            .WithErrorCode(ProblemTypes.PepReturnReason.Code).WithMessage($"reason is 1 to {PepRequestValidator.MaxText} characters saying what the plan needs.");
}

public sealed class PepApproveRequestValidator : AbstractValidator<PepApproveRequest>
{
    public static readonly string[] Ratings = ["red", "amber", "green"];

    public PepApproveRequestValidator() =>
        RuleFor(x => x.Quality).Must(q => Ratings.Contains(q, StringComparer.Ordinal))
            .WithErrorCode(ProblemTypes.PepQuality.Code).WithMessage("quality is red, amber or green.");
}
