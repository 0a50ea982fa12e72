using System.Security.Cryptography;
using System.Text;
using Exchange.Audit.Checkpoints;

namespace Exchange.Audit.Tests.Checkpoints;

/// <summary>
/// Known-answer interop with the Go reference implementation of signed notes: the keys, text and
/// signatures below are copied exactly from golang.org/x/mod/sumdb/note/note_test.go (TestNewVerifier,
/// TestNewSigner, TestSign, TestOpen), and the assertions mirror that file's expectations.
/// </summary>
public class GoReferenceNoteVectorTests
{
    private const string PeterVerifierKey = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
    private const string PeterSignerKey = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
    private const string EnochVerifierKey = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop";

    private const string Text =
        "If you think cryptography is the answer to your problem,\n" +
        "then you don't know what your problem is.\n";

    // "\u2014 " is the em dash and space that start every signature line.
    private const string PeterSig =
        "\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";

    private const string EnochSig =
        "\u2014 EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n";

    private static readonly NoteVerifier Peter = NoteVerifier.Parse(PeterVerifierKey);
    private static readonly NoteVerifier Enoch = NoteVerifier.Parse(EnochVerifierKey);

    [Fact]
    public void GoReferenceNoteVerifiesWithItsPublishedKey()
    {
        var result = Peter.Verify(Text + "\n" + PeterSig);

        Assert.True(result.IsValid, result.ToString());
        Assert.Equal(Text, result.Text);
    }

    [Fact]
    public void KeyIdComputationReproducesGoReferenceKeyIds()
    {
        var peterKey = Convert.FromBase64String(PeterVerifierKey.Split('+', 3)[2])[1..];
        var enochKey = Convert.FromBase64String(EnochVerifierKey.Split('+', 3)[2])[1..];

        Assert.Equal(0xc74f20a3u, SignedNote.ComputeEd25519KeyId("PeterNeumann", peterKey));
        Assert.Equal(0xaf0cfe78u, SignedNote.ComputeEd25519KeyId("EnochRoot", enochKey));
        Assert.Equal(0xc74f20a3u, Peter.KeyId);
        Assert.Equal(PeterVerifierKey, Peter.VerifierKey);
        Assert.Equal(PeterVerifierKey, NoteVerifier.FromPublicKey("PeterNeumann", peterKey).VerifierKey);
    }

    [Fact]
    public void SigningWithGoReferenceSignerKeyReproducesItsNoteByteForByte()
    {
        // Ed25519 is deterministic (RFC 8032), so the same seed and text give Go's exact bytes.
        using var signer = NoteSigner.FromSignerKey(PeterSignerKey);

        Assert.Equal(PeterVerifierKey, signer.VerifierKey);
        Assert.Equal(0xc74f20a3u, signer.KeyId);
        Assert.Equal(Text + "\n" + PeterSig, signer.Sign(Text));
        Assert.Equal(PeterSignerKey, signer.ExportSignerKey());
    }

    [Fact]
    public void EachKeyVerifiesItsOwnSignatureAndIgnoresTheOther()
    {
        var note = Text + "\n" + PeterSig + EnochSig;

        Assert.True(Peter.Verify(note).IsValid);
        Assert.True(Enoch.Verify(note).IsValid);
    }

    [Fact]
    public void NoteWithoutSignatureByTheTrustedKeyIsRejected()
    {
        using var stranger = NoteSigner.Generate("PeterNeumann");

        var result = stranger.CreateVerifier().Verify(Text + "\n" + PeterSig + EnochSig);

        Assert.Equal(NoteVerificationFailure.NoSignatureByKey, result.Failure);
        Assert.Null(result.Text);
    }

    [Fact]
    public void GoReferenceNoteWithOneAlteredTextByteIsRejected()
    {
        var result = Peter.Verify(Text.Replace("cryptography", "cryptographY", StringComparison.Ordinal) + "\n" + PeterSig);

        Assert.Equal(NoteVerificationFailure.InvalidSignature, result.Failure);
    }

    [Fact]
    public void SignatureLengthenedInsideItsBase64IsInvalid()
    {
        // Go: peterSig[:60]+"ABCD"+peterSig[60:] (byte offsets) gives "invalid signature for key".
        var result = Peter.Verify(Encoding.UTF8.GetBytes(Text + "\n").Concat(InsertAtByte(PeterSig, 60, "ABCD")).ToArray());

        Assert.Equal(NoteVerificationFailure.InvalidSignature, result.Failure);
    }

    [Fact]
    public void RepeatedAndUnknownSignaturesAreIgnored()
    {
        var enochAbcd = InsertAtByte(EnochSig, 60, "ABCD");
        var note = Encoding.UTF8.GetBytes(Text + "\n" + PeterSig + PeterSig + EnochSig + EnochSig).Concat(enochAbcd).ToArray();

        Assert.True(Peter.Verify(note).IsValid);
    }

    [Fact]
    public void MoreThanOneHundredSignaturesIsMalformed()
    {
        var note = Text + "\n" + string.Concat(Enumerable.Repeat(PeterSig, 101));

        Assert.Equal(NoteVerificationFailure.MalformedNote, Peter.Verify(note).Failure);
        Assert.Equal(NoteVerificationFailure.MalformedNote, Enoch.Verify(note).Failure);
        Assert.True(Peter.Verify(Text + "\n" + string.Concat(Enumerable.Repeat(PeterSig, 100))).IsValid);
    }

    public static TheoryData<string, byte[]> GoMalformedMessages()
    {
        static byte[] U(string s) => Encoding.UTF8.GetBytes(s);
        return new TheoryData<string, byte[]>
        {
            { "text only", U(Text) },
            { "text and blank line, no signatures", U(Text + "\n") },
            { "signature line without its newline", U(Text + "\n" + PeterSig[..^1]) },
            { "control character", U("\x01" + Text + "\n" + PeterSig) },
            { "invalid UTF-8", [0xff, .. U(Text + "\n" + PeterSig)] },
            { "key name with a space, no final newline", U(Text + "\n\u2014 Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=") },
            { "unexpected line after the signatures", U(Text + "\n" + PeterSig + "Unexpected line.\n") },
        };
    }

    [Theory]
    [MemberData(nameof(GoMalformedMessages))]
    public void GoReferenceMalformedMessageIsRejectedAsMalformed(string why, byte[] message)
    {
        var result = Peter.Verify(message);

        Assert.True(result.Failure == NoteVerificationFailure.MalformedNote, $"{why}: {result}");
    }

    [Fact]
    public void SignatureUnderAnotherNameOrKeyIdIsIgnored()
    {
        var misnamed = PeterSig.Replace("PeterNeumann", "CarmenSandiego", StringComparison.Ordinal);
        var wrongKeyId = PeterSig.Replace("x08g", "xxxx", StringComparison.Ordinal);

        Assert.Equal(NoteVerificationFailure.NoSignatureByKey, Peter.Verify(Text + "\n" + misnamed).Failure);
        Assert.Equal(NoteVerificationFailure.NoSignatureByKey, Peter.Verify(Text + "\n" + wrongKeyId).Failure);
    }

    [Fact]
    public void EveryTruncationOrOneByteChangeOfTheVerifierKeyIsRejected()
    {
        // Go TestNewVerifier: every proper substring, and every byte incremented.
        for (var i = 0; i <= PeterVerifierKey.Length; i++)
        {
            for (var j = i + 1; j <= PeterVerifierKey.Length; j++)
            {
                if (i != 0 || j != PeterVerifierKey.Length)
                {
                    var mangled = PeterVerifierKey[i..j];
                    Assert.False(NoteVerifier.TryParse(mangled, out _, out _), $"accepted {mangled}");
                }
            }
        }

        for (var i = 0; i < PeterVerifierKey.Length; i++)
        {
            var chars = PeterVerifierKey.ToCharArray();
            chars[i]++;
            var mangled = new string(chars);
            Assert.False(NoteVerifier.TryParse(mangled, out _, out _), $"accepted {mangled}");
        }
    }

    [Fact]
    public void VerifierKeyWithWrongKeyLengthOrUnknownTypeIsRejectedEvenWithAMatchingKeyId()
    {
        // Go's two extra bad keys carry key IDs recomputed for the mangled key. The first one's base64
        // ("...BADKEY==") also has non-zero trailing bits, which Go tolerates and this verifier does not.
        Assert.False(NoteVerifier.TryParse(
            "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==", out _, out _));

        Assert.False(NoteVerifier.TryParse(
            "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", out _, out var typeError));
        Assert.Contains("not Ed25519", typeError, StringComparison.Ordinal);

        // The same mangling in canonical base64, key ID recomputed, so that only the length is wrong.
        byte[] longKey = [.. Convert.FromBase64String(PeterVerifierKey.Split('+', 3)[2]), 0x00];
        var keyId = Convert.ToHexStringLower(SHA256.HashData([.. "PeterNeumann\n"u8, .. longKey])[..4]);
        Assert.False(NoteVerifier.TryParse(
            $"PeterNeumann+{keyId}+{Convert.ToBase64String(longKey)}", out _, out var lengthError));
        Assert.Contains("32-byte", lengthError, StringComparison.Ordinal);
    }

    [Fact]
    public void EveryTruncationOrOneByteChangeOfTheSignerKeyIsRejected()
    {
        // Go TestNewSigner.
        for (var i = 0; i <= PeterSignerKey.Length; i++)
        {
            for (var j = i + 1; j <= PeterSignerKey.Length; j++)
            {
                if (i != 0 || j != PeterSignerKey.Length)
                {
                    var mangled = PeterSignerKey[i..j];
                    Assert.Throws<FormatException>(() => NoteSigner.FromSignerKey(mangled).Dispose());
                }
            }
        }

        for (var i = 0; i < PeterSignerKey.Length; i++)
        {
            var chars = PeterSignerKey.ToCharArray();
            chars[i]++;
            var mangled = new string(chars);
            Assert.Throws<FormatException>(() => NoteSigner.FromSignerKey(mangled).Dispose());
        }
    }

    // Go slices signature lines by byte offset; the em dash is three bytes in UTF-8.
    private static byte[] InsertAtByte(string line, int offset, string insert)
    {
        var bytes = Encoding.UTF8.GetBytes(line);
        return [.. bytes[..offset], .. Encoding.UTF8.GetBytes(insert), .. bytes[offset..]];
    }
}
