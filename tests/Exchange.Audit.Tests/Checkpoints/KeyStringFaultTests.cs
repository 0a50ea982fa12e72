using Exchange.Audit.Checkpoints;

namespace Exchange.Audit.Tests.Checkpoints;

/// <summary>
/// The signer and verifier key strings an operator copies between machines: each way of getting one
/// wrong is refused with a message that says which part is wrong (and never shows key material).
/// </summary>
public sealed class KeyStringFaultTests
{
    // A fixed seed, not a generated key: the theory data must be the same each time the cases are enumerated,
    // or a runner that discovers them in one process and runs them in another (Stryker's) cannot match them.
    private static readonly NoteSigner Signer = NoteSigner.FromSeed(
        "exchange.example/audit", Enumerable.Range(1, 32).Select(i => (byte)(i * 7)).ToArray());

    public static TheoryData<string, string> BrokenSignerKeys()
    {
        var parts = Signer.ExportSignerKey().Split('+', 5); // the key is base64 and may hold '+': PRIVATE, KEY, name, key ID, key
        var (name, id, key) = (parts[2], parts[3], parts[4]);
        return new()
        {
            { $"PUBLIC+KEY+{name}+{id}+{key}", "starts with PRIVATE+KEY+" },
            { $"PRIVATE+KEY+{name}+{id}", "has the form PRIVATE+KEY+<name>+<key ID>+<key>" },
            { $"PRIVATE+KEY+ +{id}+{key}", "name is empty or contains white space" },
            { $"PRIVATE+KEY+{name}+{id[..7]}+{key}", "key ID is not eight hex digits" },
            { $"PRIVATE+KEY+{name}+{id[..7]}g+{key}", "key ID is not eight hex digits" },
            { $"PRIVATE+KEY+{name}+{id}+{key[..^1]}*", "key is not canonical padded base64" },
            { $"PRIVATE+KEY+{name}+{id}+{Convert.ToBase64String(new byte[33])}", "not an Ed25519 key" },
        };
    }

    [Theory]
    [MemberData(nameof(BrokenSignerKeys))]
    public void ABrokenSignerKeyIsRefusedSayingWhichPartIsWrong(string signerKey, string wording)
    {
        var ex = Assert.Throws<FormatException>(() => NoteSigner.FromSignerKey(signerKey));

        Assert.Contains(wording, ex.Message, StringComparison.Ordinal);
    }

    public static TheoryData<string, string> BrokenVerifierKeys()
    {
        var parts = Signer.CreateVerifier().VerifierKey.Split('+', 3); // the key may hold '+': name, key ID, key
        var (name, id, key) = (parts[0], parts[1], parts[2]);
        return new()
        {
            { $"{name}+{id}", "has the form <name>+<key ID>+<key>" },
            { $" +{id}+{key}", "key name is empty or contains white space" },
            { $"{name}+{id[..7]}+{key}", "key ID is not eight hex digits" },
            { $"{name}+{id}+{key[..^1]}*", "key is not canonical padded base64" },
            { $"{name}+{id}+", "key is not canonical padded base64" },
            { $"{name}+00000000+{key}", "key ID does not match the name and key" },
        };
    }

    [Theory]
    [MemberData(nameof(BrokenVerifierKeys))]
    public void ABrokenVerifierKeyIsRefusedSayingWhichPartIsWrong(string verifierKey, string wording)
    {
        Assert.False(NoteVerifier.TryParse(verifierKey, out _, out var error));

        Assert.Contains(wording, error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("exchange example")]
    [InlineData("exchange+example")]
    [InlineData("exchange\u0007example")]
    public void ASignerMadeFromASeedNeedsAKeyNameANoteCanCarry(string name)
    {
        var ex = Assert.Throws<ArgumentException>(() => NoteSigner.FromSeed(name, new byte[32]));

        Assert.Equal("name", ex.ParamName);
    }

    [Fact]
    public void NullArgumentsAreRejected()
    {
        Assert.Throws<ArgumentNullException>(() => NoteSigner.FromSignerKey(null!));
        Assert.Throws<ArgumentNullException>(() => Signer.CreateSignatureLine(null!));
        Assert.Throws<ArgumentNullException>(() => NoteVerifier.TryParse(null!, out _, out _));
        Assert.Throws<ArgumentNullException>(() => Signer.CreateVerifier().Verify((string)null!));
        Assert.Throws<ArgumentNullException>(() => new Checkpoint(null!, 0, new byte[32]));
        Assert.Throws<ArgumentNullException>(() => Checkpoint.TryParse(null!, out _, out _));
        Assert.Throws<ArgumentNullException>(() => new CheckpointSigner(Signer).Sign(null!));
        Assert.Throws<ArgumentNullException>(() => new CheckpointVerifier(null!));
        Assert.Throws<ArgumentNullException>(() => SignedNote.ComputeEd25519KeyId(null!, new byte[32]));
        Assert.Throws<ArgumentOutOfRangeException>(() => SignedNote.ComputeEd25519KeyId("n", new byte[31]));
        Assert.ThrowsAny<ArgumentException>(() => NoteSigningKeyFile.Load(""));
        Assert.ThrowsAny<ArgumentException>(() => NoteSigningKeyFile.LoadOrCreate("", "n"));
        Assert.ThrowsAny<ArgumentException>(() => NoteSigningKeyFile.Save("", Signer));
        Assert.Throws<ArgumentNullException>(() => NoteSigningKeyFile.Save(Path.Combine(Path.GetTempPath(), "never-" + Guid.NewGuid().ToString("N")), null!));
    }

    [Fact]
    public void ANoteWhoseTextIsOnlyItsBlankLineIsReadAsUnsignedNotMalformed()
    {
        // The blank line at the very start still separates an (empty) text from the signatures.
        var other = NoteSigner.Generate("other.example/audit");
        var line = other.CreateSignatureLine("\n");

        var result = Signer.CreateVerifier().Verify("\n\n" + line);

        Assert.Equal(NoteVerificationFailure.NoSignatureByKey, result.Failure);
    }

    [Fact]
    public void ACheckpointWithABadExtensionLineNamesTheLine()
    {
        var ex = Assert.Throws<ArgumentException>(() => new Checkpoint("exchange.example/audit", 1, new byte[32], ["fine", ""]));

        Assert.Contains("Extension line 2 is not valid: it is empty", ex.Message, StringComparison.Ordinal);
    }
}
