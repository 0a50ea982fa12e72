using System.Text.RegularExpressions;

namespace Exchange.Api.Logging;

/// <summary>
/// Removes values shaped like NHS numbers, UPNs and bearer tokens from log text. It is the
/// last line of defence: code should not log identifiers at all, but an exception message,
/// a path or a third-party library might carry one.
/// </summary>
public static partial class LogScrubber
{
    // No word boundary anywhere: an identifier glued to letters (x9991000232, reqj202000125008z), to our id
    // prefixes (ch_9991000291...) or to punctuation is still one. Between two characters of it, up to three
    // separators of any kind that is not a letter or digit (space, no-break space, any dash, dot, slash, colon,
    // underscore, percent-encoded space, " / "...).
    private const string Separator = @"[^\p{L}\p{N}]{0,3}";

    // Any 10 digits (of any script) with separators between: every NHS number as typed, valid or not, also
    // the first ten of a longer run.
    [GeneratedRegex(@"\d(?:" + Separator + @"\d){9}", RegexOptions.CultureInvariant)]
    private static partial Regex NhsShape();

    // A letter, eleven digits and a digit or letter, separators allowed between: every UPN shape (13 characters),
    // permanent (letter and 12 digits) or temporary (ending in a letter).
    [GeneratedRegex(@"[A-Za-z](?:" + Separator + @"\d){11}" + Separator + @"[A-Za-z0-9]", RegexOptions.CultureInvariant)]
    private static partial Regex UpnShape();

    // Path segments that can be logged as they are: words, our own random ids, organisation ids.
    [GeneratedRegex(@"\A(?:[a-z][a-z0-9-]{0,40}|(?:ch|rv)_[0-9a-z]{26}|(?:la|school|health|operator):[A-Za-z0-9]{1,12})\z", RegexOptions.CultureInvariant)]
    private static partial Regex SafePathSegment();

    /// <summary>
    /// A request path with every segment that is not a route word or one of our pseudonymous ids
    /// replaced: a caller may put an NHS number, UPN or council child ID in any part of a URL. A segment
    /// that passes (x9991000232, school:9991000259) is still scrubbed with <see cref="Scrub"/> afterwards.
    /// </summary>
    public static string ScrubPath(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var segments = path.Split('/');
        for (var i = 0; i < segments.Length; i++)
        {
            if (segments[i].Length > 0 && !SafePathSegment().IsMatch(segments[i]))
            {
                segments[i] = "[segment]";
            }
        }

        return Scrub(string.Join('/', segments));
    }

    [GeneratedRegex(@"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*", RegexOptions.CultureInvariant)]
    private static partial Regex JwtShape();

    [GeneratedRegex(@"(?i)\bbearer\s+[A-Za-z0-9._~+/=-]+", RegexOptions.CultureInvariant)]
    private static partial Regex BearerShape();

    public static string Scrub(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length < 10)
        {
            return text;
        }

        text = JwtShape().Replace(text, "[token]");
        text = BearerShape().Replace(text, "Bearer [token]");
        text = UpnShape().Replace(text, "[upn]");
        return NhsShape().Replace(text, "[nhs-number]");
    }
}
