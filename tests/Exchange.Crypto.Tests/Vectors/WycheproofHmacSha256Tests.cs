using System.Security.Cryptography;

namespace Exchange.Crypto.Tests.Vectors;

/// <summary>
/// Every Project Wycheproof HMAC-SHA256 vector, run through <see cref="HMACSHA256.HashData(byte[], byte[])"/>
/// (the primitive <see cref="BlindIndex"/> uses, and HKDF is built on).
/// </summary>
public class WycheproofHmacSha256Tests
{
    private const string File = "wycheproof/hmac_sha256_test.json";

    public static TheoryData<int, int> AllCases() => Wycheproof.Rows(File, _ => true);

    [SkippableTheory]
    [MemberData(nameof(AllCases))]
    public void HmacSha256MatchesValidAndRejectsInvalidWycheproofTags(int group, int tcId)
    {
        var c = Wycheproof.Case(File, group, tcId);
        var tagBytes = c.GroupInt("tagSize") / 8;
        var expected = c.Bytes("tag");

        var computed = HMACSHA256.HashData(c.Bytes("key"), c.Bytes("msg")).AsSpan(0, tagBytes);
        var matches = CryptographicOperations.FixedTimeEquals(computed, expected);

        switch (c.Result)
        {
            case "valid":
                Assert.True(matches, $"{c}: expected {Convert.ToHexStringLower(expected)}, computed {Convert.ToHexStringLower(computed)}.");
                break;
            case "invalid":
                Assert.False(matches, $"{c}: a modified tag was accepted.");
                break;
            default:
                break; // "acceptable": either outcome is allowed (none in this file today).
        }
    }

    [SkippableFact]
    public void WycheproofHmacSha256FileHoldsTheExpectedCases()
    {
        TestVectors.Require(File);
        var cases = Wycheproof.Cases(File, _ => true);

        // Pinned to C2SP/wycheproof dac1dd47 (numberOfTests 174).
        Assert.Equal(66, cases.Count(c => c.IsValid));
        Assert.Equal(108, cases.Count(c => c.IsInvalid));
        Assert.Equal(174, cases.Count);
    }
}
