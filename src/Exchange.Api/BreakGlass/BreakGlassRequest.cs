using Exchange.Api.Errors;
using FluentValidation;

namespace Exchange.Api.BreakGlass;

/// <summary>A break-glass request: why (in writing) and for how long.</summary>
public sealed record BreakGlassRequest(string? Reason, int? DurationMinutes);

public sealed partial class BreakGlassRequestValidator : AbstractValidator<BreakGlassRequest>
{
    public const int MinReasonLength = 20;
    public const int MaxReasonLength = 1000;
    public const int MinReasonWords = 4;
    public const int MaxMinutes = 60;

    public BreakGlassRequestValidator()
    {
        var code = ProblemTypes.BreakGlassInvalid.Code;
        RuleFor(x => x.Reason).Must(IsWrittenReason).WithErrorCode(code)
            .WithMessage($"reason must say in writing why: at least {MinReasonWords} words and {MinReasonLength} characters (not counting control or invisible formatting characters), at most {MaxReasonLength}.");
        RuleFor(x => x.DurationMinutes).Must(d => d is >= 1 and <= MaxMinutes).WithErrorCode(code)
            .WithMessage($"durationMinutes must be 1 to {MaxMinutes}.");
    }

    // A word is a run of letters (with their combining marks), in any script.
    [System.Text.RegularExpressions.GeneratedRegex(@"\p{L}[\p{L}\p{M}]*", System.Text.RegularExpressions.RegexOptions.CultureInvariant)]
    private static partial System.Text.RegularExpressions.Regex Word();

    /// <summary>
    /// Padding is no reason: control characters (Cc: NUL, bell...) and invisible format characters (Cf: zero-width
    /// spaces, soft hyphens...) do not count, nor does white space at either end, and it takes words, not dots.
    /// </summary>
    internal static bool IsWrittenReason(string? reason)
    {
        if (reason is null)
        {
            return false;
        }

        var visible = new string(reason.Where(c => char.GetUnicodeCategory(c) is not (System.Globalization.UnicodeCategory.Control
            or System.Globalization.UnicodeCategory.Format)).ToArray()).Trim();
        return visible.Length is >= MinReasonLength and <= MaxReasonLength && reason.Trim().Length <= MaxReasonLength
            && Word().Count(visible) >= MinReasonWords;
    }
}

/// <summary>The grant as its holder sees it (the reason is theirs already and is not echoed).</summary>
public sealed record BreakGlassGrantView(Guid GrantId, string ChildId, DateTimeOffset StartsAt, DateTimeOffset ExpiresAt);

/// <summary>A break-glass grant as a DPO reviews it, with its reason (null once the child's data has been erased).</summary>
public sealed record BreakGlassAlertView(Guid GrantId, string ChildId, string Organisation, string Subject, string? Reason,
    DateTimeOffset StartsAt, DateTimeOffset ExpiresAt, bool Active);
