using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Exchange.Crypto.Keys;
using Exchange.Crypto.Sealing;

namespace Exchange.Crypto.Tests.Keys;

public sealed class DataKeyTests
{
    private static readonly FieldPlace Place = new("child_identifiers", "value", "ch_a", "row1");

    [Fact]
    public void DisposingTheKeyZeroesItsMaterial()
    {
        var material = RandomNumberGenerator.GetBytes(32);
        var key = new DataKey("ch_a", RandomNumberGenerator.GetBytes(8), 1, material);

        key.Dispose();

        Assert.True(key.IsDisposed);
        Assert.All(material, b => Assert.Equal(0, b));
    }

    [Fact]
    public void DisposedKeyRefusesToSealOrOpen()
    {
        var key = KeyRig.NewDataKey();
        var sealedValue = SealedField.Seal(key, Place, "9434765919");

        key.Dispose();

        Assert.Throws<ObjectDisposedException>(() => SealedField.Seal(key, Place, "9434765919"));
        Assert.Throws<ObjectDisposedException>(() => SealedField.Open(key, Place, sealedValue));
    }

    [Fact]
    public void DisposingTwiceIsHarmless()
    {
        var key = KeyRig.NewDataKey();

        key.Dispose();
        key.Dispose();

        Assert.True(key.IsDisposed);
    }

    [Fact]
    public void KeyKeepsItsOwnCopyOfTheKeyId()
    {
        var keyId = RandomNumberGenerator.GetBytes(8);
        var expected = (byte[])keyId.Clone();
        using var key = new DataKey("ch_a", keyId, 3, RandomNumberGenerator.GetBytes(32));

        keyId[0] ^= 0xFF;

        Assert.Equal(expected, key.KeyId.ToArray());
        Assert.Equal("ch_a", key.OwnerId);
        Assert.Equal(3, key.Version);
        Assert.False(key.IsDisposed);
    }

    [Theory]
    [InlineData(8, 0)]
    [InlineData(8, 16)]
    [InlineData(8, 31)]
    [InlineData(8, 33)]
    [InlineData(0, 32)]
    [InlineData(7, 32)]
    [InlineData(9, 32)]
    public void KeyThatIsNot32BytesWithAnEightByteIdIsRejected(int keyIdLength, int materialLength) =>
        Assert.Throws<ArgumentException>(() => new DataKey("ch_a", new byte[keyIdLength], 1, new byte[materialLength]));

    [Fact]
    public void NullKeyIdOrMaterialIsRejected()
    {
        Assert.Throws<ArgumentNullException>(() => new DataKey("ch_a", null!, 1, new byte[32]));
        Assert.Throws<ArgumentNullException>(() => new DataKey("ch_a", new byte[8], 1, null!));
    }

    // One AesGcm must not be used by two threads at once (on Linux it is one OpenSSL context):
    // the key serialises its use. Without that this failed on every run on 2 cores.
    [Fact]
    public void ConcurrentSealsAndOpensFromEightThreadsOnOneKeyAllRoundTrip()
    {
        const int threads = 8, perThread = 4_000;
        using var key = KeyRig.NewDataKey();
        var failures = new ConcurrentBag<string>();
        using var start = new Barrier(threads);

        var workers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
        {
            start.SignalAndWait();
            for (var i = 0; i < perThread; i++)
            {
                var value = new string((char)('a' + t), 1 + (i % 4096));
                var place = Place with { RecordId = $"{t}/{i}" };
                try
                {
                    if (Encoding.UTF8.GetString(SealedField.Open(key, place, SealedField.Seal(key, place, value))) != value)
                    {
                        failures.Add($"{t}/{i}: opened to another value");
                    }
                }
                catch (Exception ex)
                {
                    // Caught whatever it is: an unhandled exception on a raw thread would end the test host.
                    failures.Add($"{t}/{i}: {ex.GetType().Name}");
                }
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

        Assert.True(failures.IsEmpty,
            $"{failures.Count} of {threads * perThread} concurrent round trips failed, e.g. {string.Join(", ", failures.Take(5))}");
    }
}
