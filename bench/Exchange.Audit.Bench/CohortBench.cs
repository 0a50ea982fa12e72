using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Runtime;
using System.Text.Json;
using Exchange.Api.Attendance;
using Exchange.Api.Identity;
using Exchange.Api.Peps;
using Exchange.Api.Storage;
using Exchange.Api.Work;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Exchange.Audit.Bench;

/// <summary>
/// Part 6 (issue 12 part 2): the virtual school's cohort through HTTP (Kestrel, sign-in, policy, audit on). One council
/// (la:202) looks after <c>children</c> children, each in care since before the academic year, placed in one of two
/// councils and enrolled at one of 16 schools in 202 or 209, with a year of marks (380 sessions, 190 school days up to the
/// day before the service's clock, 2027-07-16): a tenth absent often enough to be persistently absent, and one in
/// twenty having changed school at new year (marks from two schools, counted one by one). Seeded through the model,
/// not measured. Then, one request at a time: the whole cohort as JSON (limit 5,000: one page), the default page
/// (500 rows), and the whole cohort as CSV; p50 and p99 of each.
/// </summary>
internal static class CohortBench
{
    private const int Schools = 16;

    /// <summary>Unmeasured pulls of each kind before the measured rounds, at least.</summary>
    private const int WarmUp = 10;

    /// <summary>Warm-up goes on until a round of pulls compiles no more methods than this (or <see cref="MaxWarmUp"/> has passed).</summary>
    private const int QuietRound = 5;

    private static readonly TimeSpan MaxWarmUp = TimeSpan.FromSeconds(90);

    /// <summary>The service's day: late in the summer term, so the academic year holds a year of marks.</summary>
    private static readonly DateTimeOffset Now = new(2027, 7, 16, 12, 0, 0, TimeSpan.Zero);

    private sealed class FixedClock : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => Now;
    }

    public static async Task RunAsync(string storeName, string? postgresServer, int children, int reads)
    {
        Console.WriteLine($"## 6{(postgresServer is null ? "a" : "b")}. Cohort: {children:N0} children with a year of marks each, through HTTP, {storeName}");
        Console.WriteLine($"load:        {MachineInfo.LoadAverage()} (1, 5, 15 min)");
        var database = postgresServer is null ? null : await CreateDatabaseAsync(postgresServer);
        try
        {
            await MeasureAsync(storeName, database, children, reads);
        }
        finally
        {
            // A run leaves no database behind: dozens of them, each with a year of marks, kept the server's autovacuum
            // busy during later runs.
            if (postgresServer is not null && database is not null)
            {
                await DropDatabaseAsync(postgresServer, new NpgsqlConnectionStringBuilder(database).Database!);
            }
        }
    }

    private static async Task MeasureAsync(string storeName, string? database, int children, int reads)
    {
        await using var api = new BenchApiFactory(auditing: true, kestrel: true, database, new FixedClock());
        using var client = api.CreateDefaultClient();

        var seed = Stopwatch.StartNew();
        var marks = await SeedAsync(api, children);
        Console.WriteLine($"seeded:      {children:N0} children, {marks:N0} marks, in {seed.Elapsed.TotalSeconds:N1} s (not measured below)");

        var token = api.Token("la:202", "virtual-school");
        (string Name, string Url, string Accept)[] kinds =
        [
            ("whole cohort, JSON (limit=5000)", "/v1/cohort?limit=5000", "application/json"),
            ("one page of 500, JSON", "/v1/cohort", "application/json"),
            ("whole cohort, CSV (limit=5000)", "/v1/cohort?limit=5000", "text/csv"),
            ("flag=persistent-absence, JSON", "/v1/cohort?limit=5000&flag=persistent-absence", "application/json"),
        ];

        // A measured pull reads the answer to its end as a client saving it would, without keeping it: the client shares
        // this process (and its garbage collector) with the service, where a real one would not.
        async Task<(double Ms, string? Body)> PullAsync(string url, string accept, bool keep)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            request.Headers.Add("X-Purpose-Of-Use", "attendance-monitoring");
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(accept));
            var watch = Stopwatch.StartNew();
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            string? body = null;
            if (keep || !response.IsSuccessStatusCode)
            {
                body = await response.Content.ReadAsStringAsync();
            }
            else
            {
                await using var stream = await response.Content.ReadAsStreamAsync();
                await stream.CopyToAsync(Stream.Null);
            }

            watch.Stop();
            return response.IsSuccessStatusCode ? (watch.Elapsed.TotalMilliseconds, body)
                : throw new InvalidOperationException($"The cohort was refused: {(int)response.StatusCode} {(body ?? "")[..Math.Min(400, body?.Length ?? 0)]}");
        }

        // A running service is warm: every kind is pulled at least WarmUp times before any is measured, and on until a
        // whole round of them compiles (almost) nothing, so the JIT's tiering (a method is recompiled with profile data,
        // then optimised, on a background thread) does not compete with the measured requests for the 2 cores. Profiled,
        // that thread took a fifth of the process's CPU for the first half-minute of pulls.
        var shapes = new string[kinds.Length];
        var compiledBefore = JitInfo.GetCompiledMethodCount();
        var warm = Stopwatch.StartNew();
        for (var i = 0; i < WarmUp || (JitInfo.GetCompiledMethodCount() - compiledBefore > QuietRound && warm.Elapsed < MaxWarmUp); i++)
        {
            compiledBefore = JitInfo.GetCompiledMethodCount();
            for (var k = 0; k < kinds.Length; k++)
            {
                var body = (await PullAsync(kinds[k].Url, kinds[k].Accept, keep: true)).Body!;
                shapes[k] = kinds[k].Accept == "text/csv"
                    ? $"{body.Split("\r\n", StringSplitOptions.RemoveEmptyEntries).Length - 1} rows, {body.Length / 1024:N0} KiB"
                    : Describe(body);
            }
        }

        Console.WriteLine($"warm-up:     {warm.Elapsed.TotalSeconds:N0} s, until a round of {kinds.Length} pulls compiled at most {QuietRound} methods");

        // Then in rounds, one of each kind per round, so a noisy moment of the machine falls on every kind alike.
        var (gen0, gen1, gen2, paused) = (GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2), GC.GetTotalPauseDuration());
        var (jitCount, jitTime) = (JitInfo.GetCompiledMethodCount(), JitInfo.GetCompilationTime());
        var measured = kinds.Select(_ => new List<double>()).ToArray();
        // What a pull costs this process whatever the machine's load: its CPU time (service and client, not PostgreSQL's)
        // and the bytes it allocated (what the collector has to clear).
        var cpu = kinds.Select(_ => new List<double>()).ToArray();
        var allocated = kinds.Select(_ => new List<double>()).ToArray();
        var serverCpu = kinds.Select(_ => new List<double>()).ToArray();
        for (var i = 0; i < reads; i++)
        {
            for (var k = 0; k < kinds.Length; k++)
            {
                var (cpuBefore, bytesBefore, databaseBefore) = (ProcessCpu.Seconds(), GC.GetTotalAllocatedBytes(precise: true), PostgresCpu.Seconds());
                measured[k].Add((await PullAsync(kinds[k].Url, kinds[k].Accept, keep: false)).Ms);
                cpu[k].Add((ProcessCpu.Seconds() - cpuBefore) * 1000);
                if (database is not null && PostgresCpu.Seconds() is { } databaseAfter && databaseBefore is { } before)
                {
                    serverCpu[k].Add((databaseAfter - before) * 1000);
                }

                allocated[k].Add((GC.GetTotalAllocatedBytes(precise: true) - bytesBefore) / 1048576.0);
            }
        }

        // The service and this client share the process: its collections pause both.
        var gc = $"GC during the measured rounds: {GC.CollectionCount(0) - gen0} gen0, {GC.CollectionCount(1) - gen1} gen1, {GC.CollectionCount(2) - gen2} gen2, "
            + $"{(GC.GetTotalPauseDuration() - paused).TotalMilliseconds:N0} ms paused in all ({(GCSettings.IsServerGC ? "server" : "workstation")} GC); "
            + $"JIT: {JitInfo.GetCompiledMethodCount() - jitCount:N0} methods compiled in {(JitInfo.GetCompilationTime() - jitTime).TotalMilliseconds:N0} ms";
        var results = kinds.Select((kind, k) => (kind.Name, Latencies: measured[k], Shape: shapes[k])).ToList();
        Console.WriteLine();
        Console.WriteLine($"| {storeName}, {reads} requests one at a time | p50 | p90 | p95 | p99 | max | answer |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---|");
        foreach (var (name, latencies, shape) in results)
        {
            Console.WriteLine($"| {name} | {Stats.Median(latencies):N0} ms | {Stats.Percentile(latencies, 90):N0} ms | {Stats.Percentile(latencies, 95):N0} ms | "
                + $"{Stats.Percentile(latencies, 99):N0} ms | {Stats.Max(latencies):N0} ms | {shape} |");
        }

        Console.WriteLine();
        // PostgreSQL's own CPU (local server, /proc; 10 ms ticks, so a median over many requests) is the rest of a pull's cost.
        Console.WriteLine("| per request, median | CPU time of this process | CPU time of the PostgreSQL server | allocated |");
        Console.WriteLine("|---|---:|---:|---:|");
        for (var k = 0; k < kinds.Length; k++)
        {
            var server = serverCpu[k].Count == 0 ? "-" : $"{Stats.Median(serverCpu[k]):N0} ms (mean {serverCpu[k].Average():N0} ms)";
            Console.WriteLine($"| {kinds[k].Name} | {Stats.Median(cpu[k]):N0} ms | {server} | {Stats.Median(allocated[k]):N1} MiB |");
        }

        Console.WriteLine("aim: p99 under 200 ms");
        Console.WriteLine(gc);
        Console.WriteLine();
    }

    private static string Describe(string json)
    {
        var root = JsonDocument.Parse(json).RootElement;
        var items = root.GetProperty("items");
        var persistent = items.EnumerateArray().Count(r => r.GetProperty("flags").EnumerateArray().Any(f => f.GetString() == "persistent-absence"));
        var possible = items.GetArrayLength() == 0 ? 0 : items[0].GetProperty("possibleSessions").GetInt32();
        return $"{items.GetArrayLength()} rows ({persistent} persistently absent; first row {possible} possible sessions), {json.Length / 1024:N0} KiB";
    }

    private static async Task<int> SeedAsync(BenchApiFactory api, int children)
    {
        using var scope = api.Services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<ExchangeDbContext>();
        var work = scope.ServiceProvider.GetRequiredService<UnitOfWork>();
        var recorded = Now.AddDays(-300);
        var today = DateOnly.FromDateTime(Now.UtcDateTime);
        var yearStart = new DateOnly(2026, 9, 1);
        var days = new List<DateOnly>();
        for (var d = today.AddDays(-1); days.Count < 190; d = d.AddDays(-1))
        {
            if (PepSchedule.IsSchoolDay(d))
            {
                days.Add(d);
            }
        }

        days.Reverse();
        if (days[0] < yearStart)
        {
            throw new InvalidOperationException("The year's school days do not fit in the academic year.");
        }

        var newYear = new DateOnly(2027, 1, 5);
        var schools = Enumerable.Range(0, Schools).Select(s => "school:" + (710_000 + s).ToString(CultureInfo.InvariantCulture)).ToArray();
        await work.BeginAsync(CancellationToken.None);
        for (var s = 0; s < Schools; s++)
        {
            db.Organisations.Add(new Organisation { Id = schools[s], Kind = OrganisationKind.School, Name = "Cohort Bench School " + s, LaNumber = s % 2 == 0 ? "202" : "209", CreatedAt = recorded });
        }

        var ids = Enumerable.Range(0, children).Select(_ => Ids.NewChildId()).ToArray();
        var marks = new List<AttendanceMark>(children * 380);
        var batch = Guid.NewGuid();
        for (var c = 0; c < ids.Length; c++)
        {
            var child = ids[c];
            var school = schools[c % Schools];
            var moved = c % 20 == 7;
            var secondSchool = schools[(c + 1) % Schools];
            db.Children.Add(new Child { Id = child, CreatedAt = recorded, CreatedByOrganisation = "la:202" });
            db.CareEpisodes.Add(new CareEpisode { Id = Guid.NewGuid(), ChildId = child, ResponsibleLaNumber = "202", StartDate = new DateOnly(2025, 4, 1), RecordedAt = recorded });
            db.ChildRelationships.Add(new ChildRelationship
            {
                Id = Guid.NewGuid(), ChildId = child, Kind = ChildRelationship.HostCouncil, OrganisationId = c % 3 == 0 ? "la:209" : "la:202",
                StartDate = new DateOnly(2025, 4, 1), RecordedBy = "la:202", RecordedAt = recorded,
            });
            db.ChildRelationships.Add(new ChildRelationship
            {
                Id = Guid.NewGuid(), ChildId = child, Kind = ChildRelationship.EnrolledSchool, OrganisationId = school, StartDate = new DateOnly(2025, 4, 1),
                EndDate = moved ? new DateOnly(2026, 12, 20) : null, RecordedBy = "la:202", RecordedAt = recorded,
            });
            if (moved)
            {
                db.ChildRelationships.Add(new ChildRelationship
                {
                    Id = Guid.NewGuid(), ChildId = child, Kind = ChildRelationship.EnrolledSchool, OrganisationId = secondSchool, StartDate = newYear,
                    RecordedBy = "la:202", RecordedAt = recorded,
                });
            }

            // A tenth of the children miss one day in five (persistent absence); the others one in fifty.
            var absentEvery = c % 10 == 3 ? 5 : 50;
            for (var d = 0; d < days.Count; d++)
            {
                var day = days[d];
                var at = moved && day >= newYear ? secondSchool : school;
                var absent = d % absentEvery == absentEvery - 1;
                marks.Add(new AttendanceMark { Id = Guid.CreateVersion7(), ChildId = child, SchoolId = at, Date = day, Session = "AM", Code = absent ? "I" : "/", BatchId = batch, RecordedAt = recorded });
                marks.Add(new AttendanceMark { Id = Guid.CreateVersion7(), ChildId = child, SchoolId = at, Date = day, Session = "PM", Code = absent ? "I" : "\\", BatchId = batch, RecordedAt = recorded });
            }
        }

        await work.FlushAsync(CancellationToken.None);
        await work.InsertAsync(marks, CancellationToken.None);
        await YearCounts.AddAsync(work, marks, [], recorded, CancellationToken.None); // as an attendance batch counts them
        await work.CommitAsync(Outcome.Background, CancellationToken.None);
        // Statistics for the planner, as a database in use would have them (autovacuum would analyse in a while).
        if (db.Database.ProviderName?.Contains("Npgsql", StringComparison.Ordinal) == true)
        {
            await Microsoft.EntityFrameworkCore.RelationalDatabaseFacadeExtensions.ExecuteSqlRawAsync(db.Database, "ANALYZE");
        }

        return marks.Count;
    }

    private static async Task<string> CreateDatabaseAsync(string server)
    {
        var database = "bench_cohort_" + Guid.NewGuid().ToString("N")[..12];
        await using var connection = new NpgsqlConnection(server);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"CREATE DATABASE {database}", connection);
        await command.ExecuteNonQueryAsync();
        return new NpgsqlConnectionStringBuilder(server) { Database = database }.ConnectionString;
    }

    private static async Task DropDatabaseAsync(string server, string database)
    {
        NpgsqlConnection.ClearAllPools();
        await using var connection = new NpgsqlConnection(server);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"DROP DATABASE IF EXISTS {database} WITH (FORCE)", connection);
        await command.ExecuteNonQueryAsync();
    }
}
