using System.Text.RegularExpressions;

namespace Exchange.Api.Logging;

/// <summary>
/// Removes values shaped like NHS numbers, UPNs and bearer tokens from log text. It is the
/// last line of defence: code should not log identifiers at all, but an exception message,
/// a path or a third-party library might carry one.
/// </summary>
public static partial class LogScrubber
{
    // Any 10 digits, optionally grouped 3-3-4 with spaces or hyphens: every NHS number, valid or not.
    [GeneratedRegex(@"(?<!\d)\d{3}[ -]?\d{3}[ -]?\d{4}(?!\d)", RegexOptions.CultureInvariant)]
    private static partial Regex NhsShape();

    // A letter, eleven digits and a digit or letter: every UPN shape, permanent or temporary.
    [GeneratedRegex(@"(?<![A-Za-z0-9])[A-Za-z]\d{11}[A-Za-z0-9](?![A-Za-z0-9])", RegexOptions.CultureInvariant)]
    private static partial Regex UpnShape();

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
