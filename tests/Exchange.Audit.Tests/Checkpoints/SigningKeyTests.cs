using Exchange.Audit.Checkpoints;

namespace Exchange.Audit.Tests.Checkpoints;

/// <summary>Creating, exporting and loading the checkpoint signing key.</summary>
public sealed class SigningKeyTests : IDisposable
{
    private const string Name = "exchange.example/audit";

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "exchange-audit-keys-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    [Fact]
    public void SignerRecreatedFromItsSeedHasTheSameVerifierKey()
    {
        using var signer = NoteSigner.Generate(Name);
        var seed = signer.ExportSeed();

        using var restored = NoteSigner.FromSeed(Name, seed);

        Assert.Equal(32, seed.Length);
        Assert.Equal(signer.VerifierKey, restored.VerifierKey);
        Assert.True(signer.CreateVerifier().Verify(restored.Sign("text\n")).IsValid);
    }

    [Fact]
    public void SignerRecreatedFromItsSignerKeyStringHasTheSameVerifierKey()
    {
        using var signer = NoteSigner.Generate(Name);

        var signerKey = signer.ExportSignerKey();
        using var restored = NoteSigner.FromSignerKey(signerKey + "\n");

        Assert.StartsWith($"PRIVATE+KEY+{Name}+{signer.VerifierKey.Split('+')[1]}+", signerKey, StringComparison.Ordinal);
        Assert.Equal(signer.VerifierKey, restored.VerifierKey);
    }

    [Fact]
    public void SeedOfTheWrongLengthIsRejected()
    {
        Assert.Throws<ArgumentException>(() => NoteSigner.FromSeed(Name, new byte[31]));
        Assert.Throws<ArgumentException>(() => NoteSigner.FromSeed(Name, new byte[64]));
    }

    [Fact]
    public void SignerKeyWhoseKeyIdDoesNotMatchIsRejectedWithoutEchoingTheKey()
    {
        using var signer = NoteSigner.Generate(Name);
        var parts = signer.ExportSignerKey().Split('+', 5);
        parts[3] = parts[3] == "00000000" ? "00000001" : "00000000";
        var mismatched = string.Join('+', parts);

        var error = Assert.Throws<FormatException>(() => NoteSigner.FromSignerKey(mismatched));

        Assert.Contains("key ID", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(parts[4], error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void KeyFileIsCreatedOnceAndThenLoaded()
    {
        var path = Path.Combine(_directory, "data", "audit-signing.key");

        using var created = NoteSigningKeyFile.LoadOrCreate(path, Name);
        using var loaded = NoteSigningKeyFile.LoadOrCreate(path, Name);

        Assert.Equal(created.VerifierKey, loaded.VerifierKey);
        Assert.StartsWith($"PRIVATE+KEY+{Name}+", File.ReadAllText(path), StringComparison.Ordinal);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        }
    }

    [Fact]
    public void KeyFileForAnotherNameIsRefused()
    {
        var path = Path.Combine(_directory, "audit-signing.key");
        NoteSigningKeyFile.LoadOrCreate(path, "other.example/log").Dispose();

        Assert.Throws<InvalidOperationException>(() => NoteSigningKeyFile.LoadOrCreate(path, Name));
    }

    [Fact]
    public void SavingNeverOverwritesAnExistingKeyFile()
    {
        var path = Path.Combine(_directory, "audit-signing.key");
        using var first = NoteSigningKeyFile.LoadOrCreate(path, Name);
        using var second = NoteSigner.Generate(Name);

        Assert.Throws<IOException>(() => NoteSigningKeyFile.Save(path, second));
        using var loaded = NoteSigningKeyFile.Load(path);
        Assert.Equal(first.VerifierKey, loaded.VerifierKey);
    }

    [Fact]
    public void DisposedSignerCannotSign()
    {
        var signer = NoteSigner.Generate(Name);
        signer.Dispose();

        Assert.Throws<ObjectDisposedException>(() => signer.Sign("text\n"));
        Assert.Throws<ObjectDisposedException>(() => signer.ExportSeed());
    }
}
