using System.Text.RegularExpressions;

namespace Exchange.Api.Identity;

/// <summary>
/// Normalisation and check-digit rules for child identifiers (DATA.md; NHS Data Dictionary
/// "NHS Number"; DfE "Unique Pupil Numbers (UPNs): guidance for schools and local authorities").
/// See docs/IDENTIFIERS.md for the sources.
/// </summary>
public static partial class IdentifierRules
{
    /// <summary>The 23 letters of the UPN check-letter alphabet (no I, O or S).</summary>
    public const string UpnAlphabet = "ABCDEFGHJKLMNPQRTUVWXYZ";

    public enum NhsCheck { Valid, Format, CheckDigit }

    public enum UpnCheck { Valid, Placeholder, Format, CheckLetter }

    public static string NormaliseNhsNumber(string value) =>
        string.Concat((value ?? "").Where(c => c is not (' ' or '-')));

    public static string NormaliseUpn(string value) =>
        string.Concat((value ?? "").Where(c => !char.IsWhiteSpace(c))).ToUpperInvariant();

    public static string NormaliseLaChildId(string value) =>
        string.Concat((value ?? "").Where(c => !char.IsWhiteSpace(c))).ToUpperInvariant();

    /// <summary>Modulus 11: weights 10..2 over digits 1-9; check = 11 - (sum mod 11); 11 means 0, 10 is invalid.</summary>
    public static NhsCheck CheckNhsNumber(string normalised)
    {
        if (normalised is null || normalised.Length != 10 || !normalised.All(char.IsAsciiDigit))
        {
            return NhsCheck.Format;
        }

        var sum = 0;
        for (var i = 0; i < 9; i++)
        {
            sum += (normalised[i] - '0') * (10 - i);
        }

        var check = 11 - (sum % 11);
        if (check == 11)
        {
            check = 0;
        }

        return check != 10 && check == normalised[9] - '0' ? NhsCheck.Valid : NhsCheck.CheckDigit;
    }

    [GeneratedRegex(@"^UN[0-9]?\z", RegexOptions.CultureInvariant)]
    private static partial Regex Placeholder();

    /// <summary>
    /// Check letter, LA number (3 digits), establishment (4), year (2), serial (3, or 2 and a
    /// letter for a temporary UPN). Check letter = alphabet[(sum of chars 2-13 × weights 2-13) mod 23],
    /// a temporary UPN's final letter scoring its position in the same alphabet.
    /// </summary>
    public static UpnCheck CheckUpn(string normalised, out bool isTemporary)
    {
        isTemporary = false;
        if (normalised is null || Placeholder().IsMatch(normalised))
        {
            return normalised is null ? UpnCheck.Format : UpnCheck.Placeholder;
        }

        if (normalised.Length != 13 || UpnAlphabet.IndexOf(normalised[0], StringComparison.Ordinal) < 0)
        {
            return UpnCheck.Format;
        }

        for (var i = 1; i < 12; i++)
        {
            if (!char.IsAsciiDigit(normalised[i]))
            {
                return UpnCheck.Format;
            }
        }

        var last = normalised[12];
        isTemporary = !char.IsAsciiDigit(last);
        var lastScore = isTemporary ? UpnAlphabet.IndexOf(last, StringComparison.Ordinal) : last - '0';
        if (lastScore < 0)
        {
            isTemporary = false;
            return UpnCheck.Format;
        }

        var sum = lastScore * 13;
        for (var i = 1; i < 12; i++)
        {
            sum += (normalised[i] - '0') * (i + 1);
        }

        return UpnAlphabet[sum % 23] == normalised[0] ? UpnCheck.Valid : UpnCheck.CheckLetter;
    }

    [GeneratedRegex(@"^[A-Z0-9][A-Z0-9/_.-]{0,49}\z", RegexOptions.CultureInvariant)]
    private static partial Regex LaChildIdShape();

    public static bool IsLaChildId(string normalised) => normalised is not null && LaChildIdShape().IsMatch(normalised);

    [GeneratedRegex(@"^[0-9]{3}\z", RegexOptions.CultureInvariant)]
    private static partial Regex LaNumberShape();

    public static bool IsLaNumber(string? value) => value is not null && LaNumberShape().IsMatch(value);
}
