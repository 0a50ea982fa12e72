using System.Diagnostics;
using Exchange.Crypto.Keys;
using Exchange.Crypto.Sealing;

namespace Exchange.Crypto.Bench;

/// <summary>
/// Part 2: how many KEK unwraps (key-vault <c>/unwrapkey</c> calls) 10,000 reads of 1,000 children
/// cost, starting from a cold cache. The local KEK stands in for Key Vault; a counting decorator
/// counts every unwrap on every KEK it resolves.
/// </summary>
internal static class UnwrapBench
{
    private const int Seed = 20261123;

    public static async Task RunAsync(int owners, int reads)
    {
        var dir = Directory.CreateTempSubdirectory("exchange-crypto-bench-");
        try
        {
            var keks = new CountingKeyEncryptionKeyProvider(new LocalKeyEncryptionKeyProvider(dir.FullName));
            var store = new InMemoryDataKeyStore();

            // Setup: every owner gets a data key and one sealed 200-byte field, through the same API the service uses.
            var places = new FieldPlace[owners];
            var sealedValues = new byte[owners][];
            var values = new string[owners];
            using (var setupCache = new DataKeyCache(new DataKeyCacheOptions { MaxEntries = owners }, TimeProvider.System))
            {
                var setup = new FieldSealer(new DataKeyService(store, keks, setupCache));
                for (var i = 0; i < owners; i++)
                {
                    places[i] = new FieldPlace("child_identifiers", "value", Guid.NewGuid().ToString("N"), Guid.NewGuid().ToString("N"));
                    values[i] = $"{i:D6}".PadRight(200, '.');
                    sealedValues[i] = await setup.SealAsync(places[i], values[i]);
                }
            }

            Console.WriteLine($"## 2. KEK unwraps for {reads:N0} reads spread uniformly at random over {owners:N0} children, cache on, cold start");
            Console.WriteLine($"setup: {owners:N0} data keys created ({keks.Wraps:N0} wraps, {keks.Unwraps:N0} unwraps); each scenario below starts with a new, empty cache");
            Console.WriteLine();

            var defaults = new DataKeyCacheOptions();
            var rng = new Random(Seed);
            var sequence = Enumerable.Range(0, reads).Select(_ => rng.Next(owners)).ToArray();
            var distinct = sequence.Distinct().Count();

            // A. Default cache.
            {
                var clock = new ManualClock(new DateTimeOffset(2026, 11, 23, 9, 0, 0, TimeSpan.Zero));
                using var cache = new DataKeyCache(new DataKeyCacheOptions(), clock);
                var sealer = new FieldSealer(new DataKeyService(store, keks, cache));
                var (unwraps, ms) = await PassAsync(sealer, keks, sequence, places, sealedValues, values);
                Console.WriteLine($"A. default cache (TTL {defaults.TimeToLive.TotalMinutes:F0} min, MaxEntries {defaults.MaxEntries:N0}):");
                Console.WriteLine($"   {unwraps,6:N0} unwraps for {reads:N0} reads of {distinct:N0} distinct children ({unwraps / (double)distinct:F2} per child; aim <= 1 per child per TTL)   [{ms:F0} ms]");

                // Same cache, the clock moved: within the TTL nothing is unwrapped again; past it, one more per child.
                clock.Advance(defaults.TimeToLive / 2);
                var (withinTtl, _) = await PassAsync(sealer, keks, sequence, places, sealedValues, values);
                clock.Advance(defaults.TimeToLive / 2 + TimeSpan.FromSeconds(1));
                var (afterTtl, _) = await PassAsync(sealer, keks, sequence, places, sealedValues, values);
                Console.WriteLine($"B. same cache, second pass of the same {reads:N0} reads {defaults.TimeToLive.TotalMinutes / 2:F1} min later (inside the TTL): {withinTtl,6:N0} unwraps");
                Console.WriteLine($"   third pass, {defaults.TimeToLive.TotalMinutes:F0} min + 1 s after the first (TTL expired):          {afterTtl,6:N0} unwraps ({afterTtl / (double)distinct:F2} per child)");
                Console.WriteLine($"   total over the three passes (30,000 reads, two TTL periods): {unwraps + withinTtl + afterTtl:N0} unwraps");
            }

            // C. Tiny cache: least-recently-used eviction under uniform access.
            {
                const int Tiny = 100;
                using var cache = new DataKeyCache(new DataKeyCacheOptions { MaxEntries = Tiny }, TimeProvider.System);
                var sealer = new FieldSealer(new DataKeyService(store, keks, cache));
                var (unwraps, ms) = await PassAsync(sealer, keks, sequence, places, sealedValues, values);
                var expected = reads * (1 - Tiny / (double)owners);
                Console.WriteLine($"C. tiny cache (MaxEntries {Tiny}, {Tiny * 100 / owners}% of the children): {unwraps,6:N0} unwraps for {reads:N0} reads "
                    + $"(hit rate {1 - unwraps / (double)reads:P1}; uniform LRU expects about {expected:N0})   [{ms:F0} ms]");
            }
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    private static async Task<(long Unwraps, double Milliseconds)> PassAsync(
        FieldSealer sealer, CountingKeyEncryptionKeyProvider keks, int[] sequence, FieldPlace[] places, byte[][] sealedValues, string[] values)
    {
        keks.Reset();
        var start = Stopwatch.GetTimestamp();
        foreach (var i in sequence)
        {
            if (await sealer.OpenAsync(places[i], sealedValues[i]) is not OpenedField.Opened { Value: var value } || value != values[i])
            {
                throw new InvalidOperationException($"Read {i} did not open to its value.");
            }
        }

        return (keks.Unwraps, Stopwatch.GetElapsedTime(start).TotalMilliseconds);
    }
}
