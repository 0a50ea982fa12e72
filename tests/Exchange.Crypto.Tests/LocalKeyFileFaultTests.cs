namespace Exchange.Crypto.Tests;

/// <summary>Key files a person broke by hand: each is refused by name, never taken as a key or replaced.</summary>
public sealed class LocalKeyFileFaultTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "exchange-keyfile-faults-" + Guid.NewGuid().ToString("N"));

    public LocalKeyFileFaultTests() => Directory.CreateDirectory(_directory);

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Theory]
    [InlineData("", "is empty")]
    [InlineData("  \n", "is empty")]
    [InlineData("not base64!", "is not base64")]
    public void ABrokenKeyFileIsRefusedSayingWhatIsWrongWithIt(string content, string wording)
    {
        var path = Path.Combine(_directory, "blind.key");
        File.WriteAllText(path, content);

        var ex = Assert.Throws<InvalidDataException>(() => LocalKeyFile.LoadOrCreateWith(path, () => new byte[32]));

        Assert.Contains($"'blind.key' {wording}", ex.Message, StringComparison.Ordinal);
        Assert.Equal(content, File.ReadAllText(path)); // not replaced
    }

    [Fact]
    public void AKeyOfTheWrongLengthIsRefusedNamingTheLengthExpected()
    {
        var path = Path.Combine(_directory, "field.key");
        File.WriteAllText(path, Convert.ToBase64String(new byte[16]));

        var ex = Assert.Throws<InvalidDataException>(() => LocalKeyFile.LoadOrCreate(path, 32));

        Assert.Contains("'field.key' does not hold a 32-byte key", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void APathAndAMakerAreRequired()
    {
        var strayLock = Path.GetFullPath(".lock"); // what an empty path would lock, in the working directory
        File.Delete(strayLock);

        Assert.Throws<ArgumentException>(() => LocalKeyFile.LoadOrCreateWith("", () => new byte[32]));
        Assert.Throws<ArgumentNullException>(() => LocalKeyFile.LoadOrCreateWith(null!, () => new byte[32]));
        Assert.Throws<ArgumentNullException>(() => LocalKeyFile.LoadOrCreateWith(Path.Combine(_directory, "x.key"), null!));
        Assert.False(File.Exists(Path.Combine(_directory, "x.key")));
        Assert.False(File.Exists(strayLock));
    }

    [Fact]
    public void CreatingAKeyLeavesOnlyTheKeyAndItsLockFile()
    {
        var path = Path.Combine(_directory, "made.key");

        LocalKeyFile.LoadOrCreate(path, 32);

        Assert.Equal(["made.key", "made.key.lock"], Directory.GetFiles(_directory).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }
}
