using System.Collections.Concurrent;
using Exchange.Crypto.Keys;
using Exchange.Crypto.Sealing;
using Exchange.Crypto.Tests.Keys;

namespace Exchange.Crypto.Tests.Sealing;

/// <summary>Sealing through the owner's data key, over the real key stack.</summary>
public sealed class FieldSealerTests : IDisposable
{
    private readonly KeyRig _rig = new();

    public void Dispose() => _rig.Dispose();

    public static TheoryData<string> Values() => new() { "", "Zoë Łukasz-Ní Bhriain 学生 🙂", new string('x', 200) };

    [Theory]
    [MemberData(nameof(Values))]
    public async Task SealedValueOpensToTheSameText(string value)
    {
        var place = KeyRig.PlaceOf("ch_a");

        var sealedValue = await _rig.Sealer.SealAsync(place, value);

        Assert.Equal(new OpenedField.Opened(value), await _rig.Sealer.OpenAsync(place, sealedValue));
        Assert.Equal(new OpenedField.Opened(value), await new FieldSealer(_rig.NewService().Service).OpenAsync(place, sealedValue));
    }

    [Fact]
    public async Task FirstSealCreatesTheOwnersKeyAndNamesItInTheHeader()
    {
        var sealedValue = await _rig.Sealer.SealAsync(KeyRig.PlaceOf("ch_a"), "v");

        var stored = await _rig.Store.FindAsync("ch_a", CancellationToken.None);
        Assert.NotNull(stored);
        Assert.Equal(SealedField.FormatVersion, sealedValue[0]);
        Assert.Equal(stored.KeyId, sealedValue[1..9]);
        Assert.Equal(new byte[] { 0, 0, 0, 1 }, sealedValue[9..13]);
    }

    [Fact]
    public async Task ValueMovedToAnotherRowFailsNamingWhereItWasReadButNotTheValue() =>
        await AssertMovedValueFailsAsync(KeyRig.PlaceOf("ch_a", "row2"));

    [Fact]
    public async Task ValueMovedToAnotherFieldFails() =>
        await AssertMovedValueFailsAsync(KeyRig.PlaceOf("ch_a") with { Field = "display" });

    [Fact]
    public async Task ValueMovedToAnotherChildFails()
    {
        await _rig.Sealer.SealAsync(KeyRig.PlaceOf("ch_b"), "b's value");

        await AssertMovedValueFailsAsync(KeyRig.PlaceOf("ch_b"));
    }

    [Fact]
    public async Task TamperedValueFailsWithSealedValueException()
    {
        var sealedValue = await _rig.Sealer.SealAsync(KeyRig.PlaceOf("ch_a"), "9434765919");
        sealedValue[^1] ^= 0x80;

        var ex = await Assert.ThrowsAsync<SealedValueException>(() => _rig.Sealer.OpenAsync(KeyRig.PlaceOf("ch_a"), sealedValue));
        Assert.Equal(KeyRig.PlaceOf("ch_a"), ex.Place);
    }

    [Fact]
    public async Task ValuesOfManyOwnersOpenThroughACacheSmallerThanTheOwners()
    {
        // Keys are evicted (and zeroed) between sealing and opening; the sealer fetches them again.
        var (service, _) = _rig.NewService(maxEntries: 2);
        var sealer = new FieldSealer(service);
        var owners = Enumerable.Range(0, 10).Select(i => $"ch_{i}").ToList();
        var sealedValues = new Dictionary<string, byte[]>();
        foreach (var owner in owners)
        {
            sealedValues[owner] = await sealer.SealAsync(KeyRig.PlaceOf(owner), "value of " + owner);
        }

        foreach (var owner in owners)
        {
            Assert.Equal(new OpenedField.Opened("value of " + owner), await sealer.OpenAsync(KeyRig.PlaceOf(owner), sealedValues[owner]));
        }
    }

    [Fact]
    public async Task ConcurrentSealsAndOpensAcrossOwnersAllRoundTrip()
    {
        var failures = new ConcurrentBag<string>();

        await Parallel.ForEachAsync(Enumerable.Range(0, 2_000), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, ct) =>
        {
            var place = KeyRig.PlaceOf($"ch_{i % 25}", $"row{i}");
            try
            {
                var sealedValue = await _rig.Sealer.SealAsync(place, $"value {i}", ct);
                if (await _rig.Sealer.OpenAsync(place, sealedValue, ct) != new OpenedField.Opened($"value {i}"))
                {
                    failures.Add($"{i}: wrong outcome");
                }
            }
            catch (Exception ex)
            {
                failures.Add($"{i}: {ex.GetType().Name}");
            }
        });

        Assert.True(failures.IsEmpty, string.Join(", ", failures.Take(5)));
        Assert.Equal(25, (await _rig.AllStoredKeysAsync()).Count);
    }

    // A stress test: it catches the bug below in most runs (two out of three on 2 cores), not all.
    [Fact]
    public async Task OpensKeepWorkingWhileMoreOwnersAreActiveThanTheCacheHolds()
    {
        const int owners = 50;
        var sealedValues = new byte[owners][];
        for (var o = 0; o < owners; o++)
        {
            sealedValues[o] = await _rig.Sealer.SealAsync(KeyRig.PlaceOf($"ch_{o}"), $"value {o}");
        }

        var sealer = new FieldSealer(_rig.NewService(maxEntries: 4).Service);
        var failures = new ConcurrentBag<string>();

        await Parallel.ForEachAsync(Enumerable.Range(0, 100_000), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, ct) =>
        {
            var o = i * 7919 % owners;
            try
            {
                await sealer.OpenAsync(KeyRig.PlaceOf($"ch_{o}"), sealedValues[o], ct);
            }
            catch (Exception ex)
            {
                failures.Add($"{o}: {ex.GetType().Name}");
            }
        });

        Assert.True(failures.IsEmpty, $"{failures.Count} opens failed, e.g. {string.Join(", ", failures.Take(5))}");
    }

    [Fact]
    public async Task OpeningWhileTheKeyProviderIsUnreachableFailsAsUnavailableNotAsErased()
    {
        var sealedValue = await _rig.Sealer.SealAsync(KeyRig.PlaceOf("ch_a"), "v");
        var cold = new FieldSealer(_rig.NewService().Service);
        _rig.Keks.Unreachable = true;

        await Assert.ThrowsAsync<KeyProviderUnavailableException>(() => cold.OpenAsync(KeyRig.PlaceOf("ch_a"), sealedValue));
        Assert.Equal(new OpenedField.Opened("v"), await _rig.Sealer.OpenAsync(KeyRig.PlaceOf("ch_a"), sealedValue));
    }

    [Fact]
    public async Task NullArgumentsAreRejected()
    {
        await Assert.ThrowsAsync<ArgumentNullException>(() => _rig.Sealer.SealAsync(KeyRig.PlaceOf("ch_a"), null!));
        await Assert.ThrowsAsync<ArgumentNullException>(() => _rig.Sealer.OpenAsync(KeyRig.PlaceOf("ch_a"), null!));
        Assert.Throws<ArgumentNullException>(() => new FieldSealer(null!));
    }

    private async Task AssertMovedValueFailsAsync(FieldPlace readFrom)
    {
        const string value = "9434765919";
        var sealedValue = await _rig.Sealer.SealAsync(KeyRig.PlaceOf("ch_a"), value);

        var ex = await Assert.ThrowsAsync<SealedValueException>(() => _rig.Sealer.OpenAsync(readFrom, sealedValue));

        Assert.Equal(readFrom, ex.Place);
        Assert.DoesNotContain(value, ex.ToString(), StringComparison.Ordinal);
        Assert.Equal(new OpenedField.Opened(value), await _rig.Sealer.OpenAsync(KeyRig.PlaceOf("ch_a"), sealedValue));
    }

    [Fact]
    public async Task SealingAndOpeningWithACachedKeyCostNoUnwrap()
    {
        var sealedValue = await _rig.Sealer.SealAsync(KeyRig.PlaceOf("ch_a"), "first");
        await _rig.Sealer.SealAsync(KeyRig.PlaceOf("ch_a"), "second");
        await _rig.Sealer.OpenAsync(KeyRig.PlaceOf("ch_a"), sealedValue);

        Assert.Equal(0, _rig.Keks.Unwraps);
    }

    [Fact]
    public async Task AValueWhoseOwnerHasNoKeyAtAllFailsAsTampered()
    {
        // Sealed under a key this store never held: not erased (that leaves a tombstone), so tampering.
        using var other = new KeyRig();
        var sealedValue = await other.Sealer.SealAsync(KeyRig.PlaceOf("ch_a"), "v");

        var ex = await Assert.ThrowsAsync<SealedValueException>(() => _rig.Sealer.OpenAsync(KeyRig.PlaceOf("ch_a"), sealedValue));

        Assert.Contains("No data key exists", ex.Message, StringComparison.Ordinal);
        Assert.Equal(KeyRig.PlaceOf("ch_a"), ex.Place);
    }
}
