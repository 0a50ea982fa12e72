using System.Security.Cryptography;

namespace Exchange.Crypto.Tests.Vectors;

/// <summary>
/// Project Wycheproof AES-GCM vectors for the parameters <see cref="Exchange.Crypto.Sealing.SealedField"/> uses
/// (256-bit key, 96-bit nonce, 128-bit tag), run through <see cref="AesGcm"/> directly.
/// </summary>
public class WycheproofAesGcmTests
{
    private const string File = "wycheproof/aes_gcm_test.json";

    public static TheoryData<int, int> Aes256Gcm96BitNonceCases() => Wycheproof.Rows(File, IsSealedFieldShape);

    public static TheoryData<int, int> ValidAes256Gcm96BitNonceCases() =>
        Wycheproof.Rows(File, c => IsSealedFieldShape(c) && c.IsValid);

    [SkippableTheory]
    [MemberData(nameof(Aes256Gcm96BitNonceCases))]
    public void AesGcmDecryptsValidAndRejectsInvalidWycheproofVectors(int group, int tcId)
    {
        var c = Wycheproof.Case(File, group, tcId);
        var (key, iv, aad, msg, ct, tag) = (c.Bytes("key"), c.Bytes("iv"), c.Bytes("aad"), c.Bytes("msg"), c.Bytes("ct"), c.Bytes("tag"));
        using var aes = new AesGcm(key, tag.Length);
        var plaintext = new byte[ct.Length];

        switch (c.Result)
        {
            case "valid":
                aes.Decrypt(iv, ct, tag, plaintext, aad);
                Assert.Equal(Convert.ToHexStringLower(msg), Convert.ToHexStringLower(plaintext));
                break;
            case "invalid":
                var ex = Record.Exception(() => aes.Decrypt(iv, ct, tag, plaintext, aad));
                Assert.True(ex is CryptographicException, $"{c}: decryption must fail, got {ex?.GetType().Name ?? "success"}.");
                // AesGcm clears the output on failure: nothing unauthenticated is released.
                Assert.True(plaintext.All(b => b == 0), $"{c}: plaintext buffer was not cleared after a failed decryption.");
                break;
            default:
                // "acceptable": either outcome is allowed, but a success must yield the message.
                if (Record.Exception(() => aes.Decrypt(iv, ct, tag, plaintext, aad)) is null)
                {
                    Assert.Equal(Convert.ToHexStringLower(msg), Convert.ToHexStringLower(plaintext));
                }

                break;
        }
    }

    [SkippableTheory]
    [MemberData(nameof(ValidAes256Gcm96BitNonceCases))]
    public void AesGcmEncryptionReproducesValidWycheproofCiphertextAndTag(int group, int tcId)
    {
        var c = Wycheproof.Case(File, group, tcId);
        var (key, iv, aad, msg, ct, tag) = (c.Bytes("key"), c.Bytes("iv"), c.Bytes("aad"), c.Bytes("msg"), c.Bytes("ct"), c.Bytes("tag"));
        using var aes = new AesGcm(key, tag.Length);
        var ciphertext = new byte[msg.Length];
        var computedTag = new byte[tag.Length];

        aes.Encrypt(iv, msg, ciphertext, computedTag, aad);

        Assert.Equal(Convert.ToHexStringLower([.. ct, .. tag]), Convert.ToHexStringLower([.. ciphertext, .. computedTag]));
    }

    [SkippableFact]
    public void WycheproofAesGcmFileHoldsTheExpected256BitKey96BitNonceCases()
    {
        TestVectors.Require(File);
        var cases = Wycheproof.Cases(File, IsSealedFieldShape);

        // Pinned to C2SP/wycheproof dac1dd47: a filter that silently matches nothing (or a
        // changed file) must not pass as "all vectors ran".
        Assert.Equal(39, cases.Count(c => c.IsValid));
        Assert.Equal(27, cases.Count(c => c.IsInvalid));
        Assert.All(cases, c => Assert.Equal(16, c.Bytes("tag").Length));
    }

    private static bool IsSealedFieldShape(WycheproofCase c) =>
        c.GroupInt("ivSize") == 96 && c.GroupInt("keySize") == 256 && c.GroupInt("tagSize") == 128;
}
