using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Exchange.Crypto.Keys;
using Exchange.Crypto.Sealing;

namespace Exchange.Crypto.Bench;

/// <summary>
/// Part 1: seal+open of one 200-byte field per operation, single thread, warm data-key cache,
/// beside raw AES-GCM in the same process. Variants (a)-(c) are the headline; (d)-(g) break the
/// gap down. Every round gives each variant the same time in short interleaved slices, so drift
/// and load from neighbours hit all of them alike; medians over rounds are compared.
/// </summary>
internal static class ThroughputBench
{
    private const int FieldBytes = 200;
    private const int Batch = 32;

    private sealed record Variant(string Id, string Name, Func<int, int> Run, bool Headline = true);

    public static async Task RunAsync(int rounds, int roundMilliseconds)
    {
        var dir = Directory.CreateTempSubdirectory("exchange-crypto-bench-");
        try
        {
            var keks = new LocalKeyEncryptionKeyProvider(dir.FullName);
            using var cache = new DataKeyCache(new DataKeyCacheOptions(), TimeProvider.System);
            var service = new DataKeyService(new InMemoryDataKeyStore(), keks, cache);
            var sealer = new FieldSealer(service);

            // 200 ASCII characters = 200 UTF-8 bytes; a realistic place (child id and row id are GUIDs, as in the service).
            var text = new string('x', FieldBytes - 20) + "0123456789abcdefghij";
            var data = Encoding.UTF8.GetBytes(text);
            var place = new FieldPlace("child_identifiers", "value", Guid.NewGuid().ToString("N"), Guid.NewGuid().ToString("N"));

            // Warm the cache: the first seal creates, wraps and caches the owner's key.
            var first = await sealer.SealAsync(place, text);
            if (await sealer.OpenAsync(place, first) is not OpenedField.Opened { Value: var back } || back != text)
            {
                throw new InvalidOperationException("Round trip through FieldSealer failed.");
            }

            var heldKey = await service.GetAsync(place.OwnerId) ?? throw new InvalidOperationException("No data key.");

            // Raw baseline: a reused AesGcm, a fresh random nonce per encrypt, preallocated buffers, no associated data.
            using var raw = new AesGcm(RandomNumberGenerator.GetBytes(32), SealedField.TagSize);
            var nonce = new byte[SealedField.NonceSize];
            var ciphertext = new byte[FieldBytes];
            var tag = new byte[SealedField.TagSize];
            var plaintext = new byte[FieldBytes];

            // Same associated data our seal authenticates (13-byte header + UTF-8 of the place), built once.
            var placeBytes = place.ToAssociatedData();
            var ad = new byte[SealedField.HeaderSize + placeBytes.Length];
            placeBytes.CopyTo(ad.AsSpan(SealedField.HeaderSize));

            var variants = new List<Variant>
            {
                new("a", "FieldSealer.SealAsync+OpenAsync (cache lookup, string in/out)", n =>
                {
                    var sink = 0;
                    for (var i = 0; i < n; i++)
                    {
                        var sealedValue = sealer.SealAsync(place, text).GetAwaiter().GetResult();
                        var opened = (OpenedField.Opened)sealer.OpenAsync(place, sealedValue).GetAwaiter().GetResult();
                        sink += opened.Value.Length;
                    }

                    return sink;
                }),
                new("b", "SealedField.Seal+Open, held DataKey (bytes in/out)", n =>
                {
                    var sink = 0;
                    for (var i = 0; i < n; i++)
                    {
                        var sealedValue = SealedField.Seal(heldKey, place, data);
                        sink += SealedField.Open(heldKey, place, sealedValue).Length;
                    }

                    return sink;
                }),
                new("c", "raw AesGcm encrypt+decrypt (reused, random nonce, no AD)", n =>
                {
                    var sink = 0;
                    for (var i = 0; i < n; i++)
                    {
                        RandomNumberGenerator.Fill(nonce);
                        raw.Encrypt(nonce, data, ciphertext, tag);
                        raw.Decrypt(nonce, ciphertext, tag, plaintext);
                        sink += plaintext[i % FieldBytes];
                    }

                    return sink;
                }),
                new("d", $"breakdown: raw AesGcm + the same {ad.Length}-byte AD, no allocation", n =>
                {
                    var sink = 0;
                    for (var i = 0; i < n; i++)
                    {
                        RandomNumberGenerator.Fill(nonce);
                        raw.Encrypt(nonce, data, ciphertext, tag, ad);
                        raw.Decrypt(nonce, ciphertext, tag, plaintext, ad);
                        sink += plaintext[i % FieldBytes];
                    }

                    return sink;
                }, Headline: false),
                new("e", "breakdown: 2 cache lookups (DataKeyService.GetAsync), no crypto", n =>
                {
                    var sink = 0;
                    for (var i = 0; i < n; i++)
                    {
                        sink += service.GetAsync(place.OwnerId).GetAwaiter().GetResult()!.Version;
                        sink += service.GetAsync(place.OwnerId).GetAwaiter().GetResult()!.Version;
                    }

                    return sink;
                }, Headline: false),
                new("f", "breakdown: RandomNumberGenerator.Fill of one 12-byte nonce", n =>
                {
                    var sink = 0;
                    for (var i = 0; i < n; i++)
                    {
                        RandomNumberGenerator.Fill(nonce);
                        sink += nonce[0];
                    }

                    return sink;
                }, Headline: false),
                new("g", "breakdown: 2 x building the AD as SealedField does (ToAssociatedData + new array)", n =>
                {
                    var sink = 0;
                    for (var i = 0; i < n; i++)
                    {
                        for (var twice = 0; twice < 2; twice++)
                        {
                            var bytes = place.ToAssociatedData();
                            var built = new byte[SealedField.HeaderSize + bytes.Length];
                            bytes.CopyTo(built.AsSpan(SealedField.HeaderSize));
                            sink += built.Length;
                        }
                    }

                    return sink;
                }, Headline: false),
            };

            Console.WriteLine($"## 1. Seal+open of one {FieldBytes}-byte field, one core, warm data-key cache");
            Console.WriteLine($"sealed size: {first.Length} bytes ({SealedField.Overhead} overhead); associated data per seal: {ad.Length} bytes");

            // Warm-up: several passes per variant so tiered JIT reaches its optimised, PGO'd code.
            var sink = 0;
            for (var pass = 0; pass < 2; pass++)
            {
                foreach (var v in variants)
                {
                    sink += Measure(v, 300).Sink;
                }
            }

            Console.WriteLine();
            Console.WriteLine("allocated per op, measured on this thread:");
            foreach (var v in variants)
            {
                const int N = 20_000;
                var before = GC.GetAllocatedBytesForCurrentThread();
                sink += v.Run(N);
                var after = GC.GetAllocatedBytesForCurrentThread();
                Console.WriteLine($"  ({v.Id}) {(after - before) / (double)N,8:F0} B/op   {v.Name}");
            }

            // Each round gives every variant ~roundMilliseconds, cut into 10 ms slices taken in turn
            // (a b c ... g, b c ... g a, ...), so a burst of load from a neighbour lands on all variants alike.
            const int SliceMilliseconds = 10;
            var slices = Math.Max(1, roundMilliseconds / SliceMilliseconds);
            var wall = variants.ToDictionary(v => v.Id, _ => new List<double>());
            var cpu = variants.ToDictionary(v => v.Id, _ => new List<double>());
            Console.WriteLine();
            Console.WriteLine($"{rounds} rounds; per round each variant runs {slices} x {SliceMilliseconds} ms slices, interleaved (ops per wall-clock second):");
            Console.WriteLine("  round " + string.Join("", variants.Select(v => $"{"(" + v.Id + ")",12}")));
            for (var r = 0; r < rounds; r++)
            {
                var ops = new long[variants.Count];
                var ticks = new long[variants.Count];
                var cpuNs = new long[variants.Count];
                for (var s = 0; s < slices; s++)
                {
                    for (var j = 0; j < variants.Count; j++)
                    {
                        var k = (s + j) % variants.Count;
                        var m = Measure(variants[k], SliceMilliseconds);
                        sink += m.Sink;
                        ops[k] += m.Ops;
                        ticks[k] += m.Ticks;
                        cpuNs[k] += m.CpuNanoseconds;
                    }
                }

                for (var k = 0; k < variants.Count; k++)
                {
                    wall[variants[k].Id].Add(ops[k] * (double)Stopwatch.Frequency / ticks[k]);
                    cpu[variants[k].Id].Add(cpuNs[k] > 0 ? ops[k] * 1e9 / cpuNs[k] : double.NaN);
                }

                Console.WriteLine($"  {r + 1,5} " + string.Join("", variants.Select(v => $"{wall[v.Id][r],12:N0}")));
            }

            Report("wall-clock", wall, variants);
            if (ThreadCpuTime.IsAvailable)
            {
                Report("CPU time of the measuring thread (excludes time the scheduler gave to other processes)", cpu, variants);
            }

            Console.WriteLine(sink == int.MinValue ? "." : string.Empty);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    private static void Report(string clock, Dictionary<string, List<double>> results, List<Variant> variants)
    {
        Console.WriteLine();
        Console.WriteLine($"medians over rounds, ops/s by {clock}:");
        foreach (var v in variants)
        {
            var s = results[v.Id];
            Console.WriteLine($"  ({v.Id}) median {Median(s),10:N0} ops/s = {1e9 / Median(s),6:F0} ns/op   (min {s.Min(),10:N0}, max {s.Max(),10:N0})   {v.Name}");
        }

        var c = Median(results["c"]);
        Console.WriteLine("  ratios of medians against raw AES-GCM (c) (aim: above 0.80):");
        foreach (var v in variants.Where(v => v.Headline && v.Id != "c"))
        {
            var perRound = results[v.Id].Zip(results["c"], (x, y) => x / y).ToList();
            Console.WriteLine($"    ({v.Id})/(c) = {Median(results[v.Id]) / c:F3}   (per-round ratios: median {Median(perRound):F3}, range {perRound.Min():F3}-{perRound.Max():F3})");
        }

        Console.WriteLine($"    (d)/(c) = {Median(results["d"]) / c:F3}   (what authenticating the associated data costs the primitive)");
        Console.WriteLine($"    (b)/(d) = {Median(results["b"]) / Median(results["d"]):F3}   (our code's overhead beyond the primitive with the same AD)");
        Console.WriteLine($"    (a)/(b) = {Median(results["a"]) / Median(results["b"]):F3}   (what the cache lookup, async and string conversions cost)");
    }

    private static (long Ops, long Ticks, long CpuNanoseconds, int Sink) Measure(Variant v, int milliseconds)
    {
        var target = milliseconds * Stopwatch.Frequency / 1000;
        var sink = 0;
        long ops = 0;
        var cpuStart = ThreadCpuTime.Nanoseconds();
        var start = Stopwatch.GetTimestamp();
        long elapsed;
        do
        {
            sink += v.Run(Batch);
            ops += Batch;
            elapsed = Stopwatch.GetTimestamp() - start;
        }
        while (elapsed < target);

        return (ops, elapsed, ThreadCpuTime.Nanoseconds() - cpuStart, sink);
    }

    internal static double Median(IReadOnlyCollection<double> values)
    {
        var sorted = values.Order().ToArray();
        var mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }
}
