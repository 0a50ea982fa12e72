using Exchange.Api.Errors;
using FluentValidation;

namespace Exchange.Api.BreakGlass;

/// <summary>A break-glass request: why (in writing) and for how long.</summary>
public sealed record BreakGlassRequest(string? Reason, int? DurationMinutes);

public sealed class BreakGlassRequestValidator : AbstractValidator<BreakGlassRequest>
{
    public const int MinReasonLength = 20;
    public const int MaxReasonLength = 1000;
    public const int MaxMinutes = 60;

    public BreakGlassRequestValidator()
    {
        var code = ProblemTypes.BreakGlassInvalid.Code;
        // A reason of padding is no reason: the length counts what is left after trimming.
        RuleFor(x => x.Reason).Must(r => r?.Trim() is { Length: >= MinReasonLength and <= MaxReasonLength }).WithErrorCode(code)
            .WithMessage($"reason must say in writing why, in {MinReasonLength} to {MaxReasonLength} characters.");
        RuleFor(x => x.DurationMinutes).Must(d => d is >= 1 and <= MaxMinutes).WithErrorCode(code)
            .WithMessage($"durationMinutes must be 1 to {MaxMinutes}.");
    }
}

/// <summary>The grant as its holder sees it (the reason is theirs already and is not echoed).</summary>
public sealed record BreakGlassGrantView(Guid GrantId, string ChildId, DateTimeOffset StartsAt, DateTimeOffset ExpiresAt);

/// <summary>
/// An alert as a DPO reviews it. <c>kind</c> is <c>break-glass</c> (a grant, with its holder, reason (null once the
/// child's data has been erased) and times), <c>episode-opened</c> (a council opened a care episode for a child the
/// exchange knew) or <c>merge-relationship</c> (a merge gave an organisation a relationship to a child it did not
/// have). Every alert names the child's pseudonymous id, the organisation that raised it and the organisations
/// concerned; only a break-glass alert names a person (its holder), and none carries identifiers.
/// </summary>
public sealed record DpoAlertView(string Kind, Guid AlertId, string ChildId, string Organisation, IReadOnlyList<string> Organisations, DateTimeOffset RaisedAt,
    Guid? GrantId = null, string? Subject = null, string? Reason = null, DateTimeOffset? StartsAt = null, DateTimeOffset? ExpiresAt = null, bool? Active = null)
{
    public const string BreakGlass = "break-glass";
}
