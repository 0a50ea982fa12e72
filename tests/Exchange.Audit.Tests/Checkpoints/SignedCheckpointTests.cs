using System.Buffers.Binary;
using System.Text;
using System.Text.RegularExpressions;
using Exchange.Audit.Checkpoints;
using Exchange.Audit.Merkle;

namespace Exchange.Audit.Tests.Checkpoints;

/// <summary>Signing checkpoints and verifying them with the published verifier key.</summary>
public sealed class SignedCheckpointTests : IDisposable
{
    private const string Name = "exchange.example/audit";

    private readonly NoteSigner _signer = NoteSigner.Generate(Name);
    private readonly NoteSigner _other = NoteSigner.Generate(Name);
    private readonly byte[] _root = MerkleTree.RootHash(
        Enumerable.Range(0, 7).Select(i => MerkleHash.LeafHash(Encoding.UTF8.GetBytes($"event {i}"))).ToList());

    public void Dispose()
    {
        _signer.Dispose();
        _other.Dispose();
    }

    [Fact]
    public void SignedCheckpointVerifiesWithThePublishedKey()
    {
        var note = new CheckpointSigner(_signer).Sign(7, _root);

        var result = CheckpointVerifier.Parse(_signer.VerifierKey).Verify(note);

        Assert.True(result.IsValid, result.ToString());
        Assert.Equal(Name, result.Checkpoint.Origin);
        Assert.Equal(7, result.Checkpoint.TreeSize);
        Assert.Equal(_root, result.Checkpoint.RootHash.ToArray());
    }

    [Fact]
    public void SignedCheckpointIsTheCheckpointTextABlankLineAndOneEmDashSignatureLine()
    {
        var note = new CheckpointSigner(_signer).Sign(7, _root);

        var expectedText = $"{Name}\n7\n{Convert.ToBase64String(_root)}\n";
        Assert.StartsWith(expectedText + "\n\u2014 " + Name + " ", note, StringComparison.Ordinal);
        Assert.EndsWith("\n", note, StringComparison.Ordinal);
        var signature = Convert.FromBase64String(note[(expectedText.Length + 3 + Name.Length + 1)..^1]);
        Assert.Equal(68, signature.Length);
        Assert.Equal(_signer.KeyId, BinaryPrimitives.ReadUInt32BigEndian(signature));
    }

    [Fact]
    public void PublishedVerifierKeyIsNamePlusHexKeyIdPlusBase64TypedPublicKey()
    {
        var match = Regex.Match(_signer.VerifierKey, "^(?<name>[^+]+)\\+(?<id>[0-9a-f]{8})\\+(?<key>[A-Za-z0-9+/]{44})$");

        Assert.True(match.Success, _signer.VerifierKey);
        Assert.Equal(Name, match.Groups["name"].Value);
        Assert.Equal(_signer.KeyId.ToString("x8", System.Globalization.CultureInfo.InvariantCulture), match.Groups["id"].Value);
        Assert.Equal([0x01, .. _signer.PublicKey.ToArray()], Convert.FromBase64String(match.Groups["key"].Value));
        Assert.Equal(SignedNote.ComputeEd25519KeyId(Name, _signer.PublicKey.Span), _signer.KeyId);
    }

    [Theory]
    [InlineData("tree size", "\n7\n", "\n8\n")]
    [InlineData("origin", "exchange.example/audit\n7", "exchange.example/audiT\n7")]
    public void CheckpointWithAlteredLineFailsVerification(string what, string from, string to)
    {
        var note = new CheckpointSigner(_signer).Sign(7, _root);

        var result = Verifier().Verify(ReplaceFirst(note, from, to));

        Assert.True(result.Failure == CheckpointVerificationFailure.InvalidSignature, $"{what}: {result}");
        Assert.Null(result.Checkpoint);
    }

    [Fact]
    public void CheckpointWithAlteredRootFailsVerification()
    {
        var note = new CheckpointSigner(_signer).Sign(7, _root);
        var otherRoot = MerkleHash.LeafHash("other"u8);

        var result = Verifier().Verify(note.Replace(Convert.ToBase64String(_root), Convert.ToBase64String(otherRoot), StringComparison.Ordinal));

        Assert.Equal(CheckpointVerificationFailure.InvalidSignature, result.Failure);
    }

    [Fact]
    public void EveryOneByteChangeToTheSignedTextFailsVerification()
    {
        var note = Encoding.UTF8.GetBytes(new CheckpointSigner(_signer).Sign(7, _root));
        var textLength = Encoding.UTF8.GetByteCount(new Checkpoint(Name, 7, _root).ToNoteText());

        for (var i = 0; i < textLength; i++)
        {
            var altered = (byte[])note.Clone();
            altered[i] ^= 0x01;
            Assert.False(Verifier().Verify(altered).IsValid, $"byte {i} altered but the checkpoint verified");
        }
    }

    [Fact]
    public void CheckpointSignedByAnotherKeyOfTheSameNameFails()
    {
        var note = new CheckpointSigner(_other).Sign(7, _root);

        var result = Verifier().Verify(note);

        Assert.Equal(CheckpointVerificationFailure.NoSignatureByKey, result.Failure);
        Assert.Contains(_signer.VerifierKey.Split('+')[1], result.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void ForgedSignatureCarryingTheTrustedKeyIdFails()
    {
        var text = new Checkpoint(Name, 7, _root).ToNoteText();
        var forged = Convert.FromBase64String(_other.CreateSignatureLine(text)[(2 + Name.Length + 1)..^1]);
        BinaryPrimitives.WriteUInt32BigEndian(forged, _signer.KeyId);

        var result = Verifier().Verify($"{text}\n\u2014 {Name} {Convert.ToBase64String(forged)}\n");

        Assert.Equal(CheckpointVerificationFailure.InvalidSignature, result.Failure);
    }

    [Fact]
    public void UnknownSignaturesBeforeAndAfterTheTrustedOneAreIgnored()
    {
        var text = new Checkpoint(Name, 7, _root).ToNoteText();
        using var witness = NoteSigner.Generate("witness.example/w1");
        var garbage = "\u2014 other.example/log " + Convert.ToBase64String(new byte[100]) + "\n";

        var note = text + "\n" + witness.CreateSignatureLine(text) + _other.CreateSignatureLine(text)
            + _signer.CreateSignatureLine(text) + garbage;

        var result = Verifier().Verify(note);
        Assert.True(result.IsValid, result.ToString());
        Assert.True(CheckpointVerifier.Parse(witness.VerifierKey, Name).Verify(note).IsValid);
    }

    [Fact]
    public void CheckpointForAnotherOriginIsRejectedUnlessThatOriginIsExpected()
    {
        var note = new CheckpointSigner(_signer).Sign(new Checkpoint("other.example/log", 7, _root));

        Assert.Equal(CheckpointVerificationFailure.OriginMismatch, Verifier().Verify(note).Failure);
        Assert.True(CheckpointVerifier.Parse(_signer.VerifierKey, "other.example/log").Verify(note).IsValid);
    }

    [Fact]
    public void SignedTextThatIsNotACheckpointIsRejected()
    {
        var note = _signer.Sign($"{Name}\n07\n{Convert.ToBase64String(_root)}\n");

        var result = Verifier().Verify(note);

        Assert.Equal(CheckpointVerificationFailure.MalformedCheckpoint, result.Failure);
        Assert.Contains("leading zero", result.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void ExtensionLinesSurviveSigningAndVerification()
    {
        var checkpoint = new Checkpoint(Name, 7, _root, ["time 2026-01-01T00:00:00.000Z"]);

        var result = Verifier().Verify(new CheckpointSigner(_signer).Sign(checkpoint));

        Assert.True(result.IsValid, result.ToString());
        Assert.Equal(["time 2026-01-01T00:00:00.000Z"], result.Checkpoint.Extensions);
    }

    [Fact]
    public void MalformedSignedNoteIsReportedAsMalformed()
    {
        var note = new CheckpointSigner(_signer).Sign(7, _root);

        var result = Verifier().Verify(note.Replace("\n\n", "\n", StringComparison.Ordinal));

        Assert.Equal(CheckpointVerificationFailure.MalformedNote, result.Failure);
    }

    private CheckpointVerifier Verifier() => CheckpointVerifier.Parse(_signer.VerifierKey);

    private static string ReplaceFirst(string s, string from, string to)
    {
        var i = s.IndexOf(from, StringComparison.Ordinal);
        Assert.True(i >= 0, $"'{from}' not found");
        return s[..i] + to + s[(i + from.Length)..];
    }
}
