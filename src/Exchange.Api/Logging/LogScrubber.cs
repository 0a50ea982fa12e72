using System.Text.RegularExpressions;

namespace Exchange.Api.Logging;

/// <summary>
/// Removes values shaped like NHS numbers, UPNs and bearer tokens from log text. It is the
/// last line of defence: code should not log identifiers at all, but an exception message,
/// a path or a third-party library might carry one.
/// </summary>
public static partial class LogScrubber
{
    // Any 10 digits with at most one space, hyphen or dot between any two: every NHS number as typed, valid or not.
    [GeneratedRegex(@"(?<!\d)\d(?:[ .-]?\d){9}(?!\d)", RegexOptions.CultureInvariant)]
    private static partial Regex NhsShape();

    // A letter, eleven digits and a digit or letter, spaces allowed between: every UPN shape, permanent or temporary.
    [GeneratedRegex(@"(?<![A-Za-z0-9])[A-Za-z](?:\s?\d){11}\s?[A-Za-z0-9](?![A-Za-z0-9])", RegexOptions.CultureInvariant)]
    private static partial Regex UpnShape();

    // Path segments that can be logged as they are: words, our own random ids, organisation ids.
    [GeneratedRegex(@"\A(?:[a-z][a-z0-9-]{0,40}|(?:ch|rv)_[0-9a-z]{26}|(?:la|school|health|operator):[A-Za-z0-9]{1,12})\z", RegexOptions.CultureInvariant)]
    private static partial Regex SafePathSegment();

    /// <summary>
    /// A request path with every segment that is not a route word or one of our pseudonymous ids
    /// replaced: a caller may put an NHS number, UPN or council child ID in any part of a URL.
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

        return string.Join('/', segments);
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
