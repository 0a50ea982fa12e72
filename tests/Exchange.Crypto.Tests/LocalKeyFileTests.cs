using System.Runtime.Versioning;

namespace Exchange.Crypto.Tests;

public sealed class LocalKeyFileTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "exchange-crypto-tests-" + Guid.NewGuid().ToString("N"));

    public LocalKeyFileTests() => Directory.CreateDirectory(_directory);

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Theory]
    [InlineData(16)]
    [InlineData(32)]
    [InlineData(64)]
    public void FirstCallCreatesAKeyOfTheRequestedLengthAndLaterCallsReturnTheSameBytes(int length)
    {
        var path = Path.Combine(_directory, "blind-index.key");

        var created = LocalKeyFile.LoadOrCreate(path, length);
        var loaded = LocalKeyFile.LoadOrCreate(path, length);

        Assert.True(File.Exists(path));
        Assert.Equal(length, created.Length);
        Assert.Equal(created, loaded);
        Assert.Contains(created, b => b != 0);
    }

    [Fact]
    public void KeysCreatedAtDifferentPathsDiffer()
    {
        Assert.NotEqual(
            LocalKeyFile.LoadOrCreate(Path.Combine(_directory, "a.key"), 32),
            LocalKeyFile.LoadOrCreate(Path.Combine(_directory, "b.key"), 32));
    }

    [Fact]
    public void MissingDirectoriesAreCreated()
    {
        var path = Path.Combine(_directory, "data", "keys", "field.key");

        var key = LocalKeyFile.LoadOrCreate(path, 32);

        Assert.Equal(key, LocalKeyFile.LoadOrCreate(path, 32));
    }

    [SkippableFact]
    [UnsupportedOSPlatform("windows")]
    public void KeyFileIsReadableAndWritableByItsOwnerOnly()
    {
        Skip.If(OperatingSystem.IsWindows(), "Unix file modes do not apply on Windows.");
        var path = Path.Combine(_directory, "field.key");

        LocalKeyFile.LoadOrCreate(path, 32);

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
    }

    [Fact]
    public void FileHoldingAKeyOfAnotherLengthIsRejected()
    {
        var path = Path.Combine(_directory, "field.key");
        LocalKeyFile.LoadOrCreate(path, 32);

        Assert.Throws<InvalidDataException>(() => LocalKeyFile.LoadOrCreate(path, 48));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(16)]
    [InlineData(31)]
    [InlineData(33)]
    public void ExistingFileWithTheWrongLengthIsRejected(int storedLength)
    {
        var path = Path.Combine(_directory, "field.key");
        File.WriteAllText(path, Convert.ToBase64String(new byte[storedLength]));

        Assert.Throws<InvalidDataException>(() => LocalKeyFile.LoadOrCreate(path, 32));
    }

    [Fact]
    public void ExistingFileIsReadNotReplaced()
    {
        var path = Path.Combine(_directory, "field.key");
        var stored = Enumerable.Range(1, 32).Select(i => (byte)i).ToArray();
        File.WriteAllText(path, Convert.ToBase64String(stored) + "\n");

        Assert.Equal(stored, LocalKeyFile.LoadOrCreate(path, 32));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(15)]
    public void RequestedLengthBelow16BytesIsRejected(int length) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => LocalKeyFile.LoadOrCreate(Path.Combine(_directory, "x.key"), length));

    [Fact]
    public void LoadOrCreateWithReturnsTheCreatedMaterialNowAndOnLaterCalls()
    {
        var path = Path.Combine(_directory, "signing.key");
        var material = Enumerable.Range(0, 48).Select(i => (byte)(i * 7)).ToArray();

        var first = LocalKeyFile.LoadOrCreateWith(path, () => (byte[])material.Clone());
        var later = LocalKeyFile.LoadOrCreateWith(path, () => throw new InvalidOperationException("The file exists; nothing should be created."));

        Assert.Equal(material, first);
        Assert.Equal(material, later);
    }

    // File.Move(overwrite: false) alone does not make creation create-once on Linux: .NET 10
    // implements it as an existence check followed by rename(2) (seen with strace), so a later
    // racer could overwrite the key an earlier one had already returned. Creation now happens under
    // a lock; before that fix these tests failed in 11 of 12 runs on a 2-core machine.

    [Fact]
    public void ConcurrentFirstCallsAllGetTheSameKey()
    {
        const int rounds = 100;
        for (var round = 0; round < rounds; round++)
        {
            var path = Path.Combine(_directory, $"race-{round}.key");
            var keys = RunTogether(8, () => LocalKeyFile.LoadOrCreate(path, 32));

            Assert.All(keys, k => Assert.Equal(keys[0], k));
            Assert.Equal(keys[0], LocalKeyFile.LoadOrCreate(path, 32));
        }

        // One key per round, no temporary files left behind (the lock files stay, by design).
        Assert.Equal(rounds, Directory.GetFiles(_directory).Count(f => !f.EndsWith(".lock", StringComparison.Ordinal)));
        Assert.Empty(Directory.GetFiles(_directory, "*.tmp-*"));
    }

    [Fact]
    public void ConcurrentFirstCallsWithDifferentMaterialAllGetOneOfThemAndItStays()
    {
        for (var round = 0; round < 100; round++)
        {
            var path = Path.Combine(_directory, $"race-{round}.key");
            var candidates = Enumerable.Range(0, 8).Select(i => Enumerable.Repeat((byte)(i + 1), 32).ToArray()).ToArray();
            var next = -1;

            var keys = RunTogether(8, () => LocalKeyFile.LoadOrCreateWith(path, () => (byte[])candidates[Interlocked.Increment(ref next)].Clone()));

            Assert.All(keys, k => Assert.Equal(keys[0], k));
            Assert.Contains(candidates, c => c.AsSpan().SequenceEqual(keys[0]));
            Assert.Equal(keys[0], LocalKeyFile.LoadOrCreateWith(path, () => throw new InvalidOperationException("The file exists.")));
        }
    }

    private static byte[][] RunTogether(int threads, Func<byte[]> call)
    {
        using var start = new Barrier(threads);
        var results = new byte[threads][];
        var failures = new Exception?[threads];
        var workers = Enumerable.Range(0, threads).Select(i => new Thread(() =>
        {
            start.SignalAndWait();
            try
            {
                results[i] = call();
            }
            catch (Exception ex)
            {
                failures[i] = ex; // an unhandled exception on a raw thread would take down the test host
            }
        })).ToArray();

        foreach (var worker in workers)
        {
            worker.Start();
        }

        foreach (var worker in workers)
        {
            worker.Join();
        }

        Assert.All(failures, f => Assert.Null(f));
        return results;
    }
}
