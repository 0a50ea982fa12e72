using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace Exchange.Audit.Bench;

/// <summary>
/// Part 8 (issue 11's roll check): a school checks a roll of 5,000 pupils (the most one call takes) through HTTP, with
/// sign-in, the policy and audit on. The council la:202 registers <c>inCare</c> children first (through the API, not
/// measured); the rolls carry their UPNs among others no child has. Kinds of roll, measured in rounds: none of the
/// roll in care, a tenth (or all registered, if fewer), and all registered where there are more; p50 and p99 of each. The school's daily limits are lifted
/// for the run (a school may make 10 checks a day).
/// </summary>
internal static class RollCheckBench
{
    private const int Roll = 5_000;
    private const int WarmUp = 5;

    public static async Task RunAsync(string storeName, string? postgresServer, int inCare, int reads)
    {
        Console.WriteLine($"## 8{(postgresServer is null ? "a" : "b")}. Roll check: {Roll:N0} pupils a call through HTTP, {storeName}");
        Console.WriteLine($"load:        {MachineInfo.LoadAverage()} (1, 5, 15 min)");
        var database = postgresServer is null ? null : await AttendanceBench.CreateDatabaseAsync(postgresServer);
        var limits = new Dictionary<string, string?>
        {
            ["Exchange:RollCheck:ChecksPer24Hours"] = "1000000",
            ["Exchange:RollCheck:PupilsPer24Hours"] = "1000000000",
            ["Exchange:RollCheck:AlertAbovePupils"] = Roll.ToString(CultureInfo.InvariantCulture),
        };
        await using var api = new BenchApiFactory(auditing: true, kestrel: true, database, extra: limits);
        using var client = api.CreateDefaultClient();

        var seed = Stopwatch.StartNew();
        var council = api.Token("la:202", "virtual-school");
        var registered = new List<string>();
        var upns = Upns().GetEnumerator();
        while (registered.Count < inCare && upns.MoveNext())
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/children")
            {
                Content = JsonContent.Create(new { identifiers = new { upn = upns.Current }, careEpisode = new { startDate = "2025-09-01" } }),
            };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", council);
            request.Headers.Add("X-Purpose-Of-Use", "attendance-monitoring");
            using var response = await client.SendAsync(request);
            if (!response.IsSuccessStatusCode)
            {
                throw new InvalidOperationException($"Registering a child was refused: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            }

            registered.Add(upns.Current);
        }

        // Pupils no child has: the rest of the roll.
        var strangers = new List<string>();
        while (strangers.Count < Roll && upns.MoveNext())
        {
            strangers.Add(upns.Current);
        }

        Console.WriteLine($"seeded:      {registered.Count:N0} children in care of la:202, in {seed.Elapsed.TotalSeconds:N1} s (not measured below)");

        var school = api.Token("school:100001", "school-mis");
        var tenth = Math.Min(Roll / 10, registered.Count);
        List<(string Name, int Matches, byte[] Body)> kinds =
        [
            ("none of the roll in care", 0, Body(strangers.Take(Roll))),
            ($"a tenth in care ({tenth:N0})", tenth, Body(registered.Take(tenth).Concat(strangers).Take(Roll))),
        ];
        if (registered.Count > tenth)
        {
            kinds.Add(($"{Math.Min(Roll, registered.Count):N0} in care", Math.Min(Roll, registered.Count), Body(registered.Concat(strangers).Take(Roll))));
        }

        async Task<double> CheckAsync(byte[] body, int matches)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/schools/roll-check") { Content = new ByteArrayContent(body) };
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", school);
            request.Headers.Add("X-Purpose-Of-Use", "attendance-monitoring");
            var watch = Stopwatch.StartNew();
            using var response = await client.SendAsync(request);
            var answer = await response.Content.ReadAsStringAsync();
            watch.Stop();
            if (!response.IsSuccessStatusCode)
            {
                throw new InvalidOperationException($"The roll check was refused: {(int)response.StatusCode} {answer[..Math.Min(400, answer.Length)]}");
            }

            var found = JsonDocument.Parse(answer).RootElement.GetProperty("matches").GetArrayLength();
            return found == matches ? watch.Elapsed.TotalMilliseconds : throw new InvalidOperationException($"The roll check found {found}, not {matches}.");
        }

        for (var i = 0; i < WarmUp; i++)
        {
            foreach (var (_, matches, body) in kinds)
            {
                await CheckAsync(body, matches);
            }
        }

        var measured = kinds.Select(_ => new List<double>()).ToArray();
        for (var i = 0; i < reads; i++)
        {
            for (var k = 0; k < kinds.Count; k++)
            {
                measured[k].Add(await CheckAsync(kinds[k].Body, kinds[k].Matches));
            }
        }

        Console.WriteLine();
        Console.WriteLine($"| {storeName}, {reads} checks of each, one at a time, in rounds | p50 | p99 | max |");
        Console.WriteLine("|---|---:|---:|---:|");
        for (var k = 0; k < kinds.Count; k++)
        {
            Console.WriteLine($"| {Roll:N0} pupils, {kinds[k].Name} | {Stats.Median(measured[k]):N0} ms | {Stats.Percentile(measured[k], 99):N0} ms | {Stats.Max(measured[k]):N0} ms |");
        }

        Console.WriteLine();
    }

    private static byte[] Body(IEnumerable<string> upns) =>
        JsonSerializer.SerializeToUtf8Bytes(new { pupils = upns.Select(upn => new { upn }).ToList() });

    /// <summary>Valid UPNs (DfE check letter), all different, in an order that mixes their numbers.</summary>
    private static IEnumerable<string> Upns()
    {
        const string alphabet = "ABCDEFGHJKLMNPQRTUVWXYZ";
        for (var n = 0; ; n++)
        {
            var body = "20912" + ((n * 7_919L) % 10_000_000).ToString("D7", CultureInfo.InvariantCulture);
            var sum = 0;
            for (var i = 0; i < 12; i++)
            {
                sum += (body[i] - '0') * (i + 2);
            }

            yield return alphabet[sum % 23] + body;
        }
    }
}
