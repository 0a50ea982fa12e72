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

/// <summary>A break-glass grant as a DPO reviews it, with its reason (null once the child's data has been erased).</summary>
public sealed record BreakGlassAlertView(Guid GrantId, string ChildId, string Organisation, string Subject, string? Reason,
    DateTimeOffset StartsAt, DateTimeOffset ExpiresAt, bool Active);
