using System.Security.Cryptography;

namespace Exchange.Api.Identity;

/// <summary>Random 128-bit identifiers in Crockford base32: they carry no information and never change.</summary>
public static class Ids
{
    private const string Crockford = "0123456789abcdefghjkmnpqrstvwxyz";

    public static string NewChildId() => "ch_" + Random128();

    public static string NewReviewId() => "rv_" + Random128();

    /// <summary>A webhook subscription's id, which also owns the data key its secret is sealed under.</summary>
    public static string NewSubscriptionId() => "wh_" + Random128();

    public static bool LooksLikeChildId(string? value) =>
        value is { Length: 29 } && value.StartsWith("ch_", StringComparison.Ordinal) && value[3..].All(c => Crockford.Contains(c, StringComparison.Ordinal));

    private static string Random128()
    {
        Span<byte> bytes = stackalloc byte[16];
        RandomNumberGenerator.Fill(bytes);
        // 128 bits in 26 five-bit groups (the last group holds the final 3 bits).
        var chars = new char[26];
        var bitBuffer = 0;
        var bitCount = 0;
        var index = 0;
        foreach (var b in bytes)
        {
            bitBuffer = (bitBuffer << 8) | b;
            bitCount += 8;
            while (bitCount >= 5)
            {
                chars[index++] = Crockford[(bitBuffer >> (bitCount - 5)) & 31];
                bitCount -= 5;
            }
        }

        chars[index] = Crockford[(bitBuffer << (5 - bitCount)) & 31];
        return new string(chars);
    }
}
