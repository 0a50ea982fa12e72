using Exchange.Api.Errors;
using FluentValidation;

namespace Exchange.Api.RollCheck;

/// <summary>A school's roll, or part of it: each pupil by the identifiers the school holds.</summary>
public sealed record RollCheckRequest(IReadOnlyList<RollPupil?>? Pupils);

/// <summary>
/// One pupil as the school's MIS holds them. <c>dateOfBirth</c> is accepted because MIS exports carry it, checked
/// for its form, and then dropped: the exchange holds no dates of birth, so it cannot match on one, and it keeps
/// nothing it does not need.
/// </summary>
public sealed record RollPupil(string? Upn, string? NhsNumber, string? DateOfBirth);

/// <summary>What the school learns: only pupils who are children in care now, by their position in the roll.</summary>
/// <param name="Checked">Pupils whose identifiers were valid and were looked up.</param>
/// <param name="Matches">One entry per pupil and child in care (two if the pupil's UPN and NHS number name two children).</param>
/// <param name="Rejected">Pupils not looked up, each with the problem of the field at fault.</param>
public sealed record RollCheckAnswer(int Checked, IReadOnlyList<RollCheckMatchView> Matches, IReadOnlyList<RejectedItem> Rejected);

/// <param name="Index">The pupil's position in the request's <c>pupils</c> (from 0).</param>
/// <param name="MatchedOn">Which of the pupil's identifiers named the child (<c>upn</c>, <c>nhsNumber</c>).</param>
public sealed record RollCheckMatchView(int Index, string ChildId, string ResponsibleCouncil, bool EnrolledHere, IReadOnlyList<string> MatchedOn);

/// <summary>One item of a batch that was not taken, with its problem type's code and what is wrong (never its value).</summary>
public sealed record RejectedItem(int Index, string Field, string Type, string Detail);

/// <summary>The request as a whole: the per-pupil checks are made by <see cref="RollPupils"/>, so one bad pupil rejects only itself.</summary>
public sealed class RollCheckRequestValidator : AbstractValidator<RollCheckRequest>
{
    public RollCheckRequestValidator()
    {
        RuleFor(x => x.Pupils).NotNull().WithErrorCode(ProblemTypes.ValidationFailed.Code).WithMessage("pupils is required: the pupils to check.")
            .Must(p => p is null || p.Count > 0).WithErrorCode(ProblemTypes.ValidationFailed.Code).WithMessage("pupils must hold at least one pupil.");
    }
}
