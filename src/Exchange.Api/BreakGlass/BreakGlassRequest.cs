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

    // A word is a run of at least two letters (with their combining marks), in any script.
    [System.Text.RegularExpressions.GeneratedRegex(@"\p{L}[\p{M}]*(?:\p{L}[\p{M}]*)+", System.Text.RegularExpressions.RegexOptions.CultureInvariant)]
    private static partial System.Text.RegularExpressions.Regex Word();

    [System.Text.RegularExpressions.GeneratedRegex(@"\s+", System.Text.RegularExpressions.RegexOptions.CultureInvariant)]
    private static partial System.Text.RegularExpressions.Regex WhiteSpaceRun();

    /// <summary>
    /// Padding is no reason: control characters (Cc: NUL, bell...), invisible format characters (Cf: zero-width
    /// spaces, soft hyphens...) and the Hangul fillers (letters by category, blank on screen) do not count; runs of
    /// white space count as one space, none at either end; and it takes words of two letters or more, not dots.
    /// </summary>
    internal static bool IsWrittenReason(string? reason)
    {
        if (reason is null)
        {
            return false;
        }

        var visible = new string(reason.Where(c => !IsInvisible(c)).ToArray());
        visible = WhiteSpaceRun().Replace(visible, " ").Trim();
        return visible.Length is >= MinReasonLength and <= MaxReasonLength && reason.Trim().Length <= MaxReasonLength
            && Word().Count(visible) >= MinReasonWords;
    }

    private static bool IsInvisible(char c) =>
        c is '\u115F' or '\u1160' or '\u3164' or '\uFFA0'
        || char.GetUnicodeCategory(c) is System.Globalization.UnicodeCategory.Control or System.Globalization.UnicodeCategory.Format;
}

/// <summary>The grant as its holder sees it (the reason is theirs already and is not echoed).</summary>
public sealed record BreakGlassGrantView(Guid GrantId, string ChildId, DateTimeOffset StartsAt, DateTimeOffset ExpiresAt);

/// <summary>
/// An alert as a DPO reviews it. <c>kind</c> is <c>break-glass</c> (a grant, with its holder, reason (null once the
/// child's data has been erased) and times), <c>episode-opened</c> (a council opened a care episode for a child the
/// exchange knew) or <c>merge-relationship</c> (a merge gave an organisation a relationship to a child it did not
/// have) or <c>roll-check-oversize</c> (a school checked a roll far larger than a school's: no child). Every other
/// alert names the child's pseudonymous id; each names the organisation that raised it and the organisations
/// concerned; only a break-glass alert names a person (its holder), and none carries identifiers.
/// </summary>
public sealed record DpoAlertView(string Kind, Guid AlertId, string? ChildId, string Organisation, IReadOnlyList<string> Organisations, DateTimeOffset RaisedAt,
    Guid? GrantId = null, string? Subject = null, string? Reason = null, DateTimeOffset? StartsAt = null, DateTimeOffset? ExpiresAt = null, bool? Active = null)
{
    public const string BreakGlass = "break-glass";
}
