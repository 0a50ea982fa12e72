namespace Exchange.Api.Tests.Infrastructure;

/// <summary>Valid, fictional identifiers (NHS Modulus 11, UPN check letter), different on every call.</summary>
public static class TestIdentifiers
{
    // Identifier values unique to each test keep tests independent inside one database.
    private static int _next;

    public static string NewNhs()
    {
        while (true)
        {
            var candidate = 999_100_000 + Interlocked.Increment(ref _next) * 7 % 899_999;
            var digits = candidate.ToString(System.Globalization.CultureInfo.InvariantCulture);
            var sum = 0;
            for (var i = 0; i < 9; i++)
            {
                sum += (digits[i] - '0') * (10 - i);
            }

            var check = (11 - (sum % 11)) % 11;
            if (check != 10)
            {
                return digits + check;
            }
        }
    }

    public static string NewUpn(bool temporary = false)
    {
        const string alphabet = "ABCDEFGHJKLMNPQRTUVWXYZ";
        var body = "20912345" + (Interlocked.Increment(ref _next) % 10_000).ToString("D4", System.Globalization.CultureInfo.InvariantCulture);
        if (temporary)
        {
            body = body[..11] + alphabet[_next % 23];
        }

        var sum = 0;
        for (var i = 0; i < 12; i++)
        {
            var c = body[i];
            sum += (char.IsAsciiDigit(c) ? c - '0' : alphabet.IndexOf(c, StringComparison.Ordinal)) * (i + 2);
        }

        return alphabet[sum % 23] + body;
    }
}
