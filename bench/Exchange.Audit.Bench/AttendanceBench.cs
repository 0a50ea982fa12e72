using System.Data.Common;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Exchange.Api.Identity;
using Exchange.Api.Storage;
using Exchange.Api.Work;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Exchange.Audit.Bench;

/// <summary>
/// Part 5 (issue 11): one school day of attendance for every looked-after child of school age, through HTTP (Kestrel)
/// with sign-in, policy, audit and the idempotency store on: <c>children</c> children in care, enrolled at schools of
/// 2,500 pupils each, two marks each, sent in batches of 5,000 marks (one school per batch). Against it, in the same
/// run and database, a plain bulk insert of the same number of rows into the same table (one prepared INSERT in one
/// transaction on SQLite, a binary COPY on PostgreSQL). Then the summary of one child with a full year of marks (380 sessions), p50 and p99.
/// </summary>
internal static class AttendanceBench
{
    private const int PerSchool = 2_500;
    private const int BatchMarks = 5_000;

    public static async Task RunAsync(string storeName, string? postgresServer, int children, int summaryReads)
    {
        Console.WriteLine($"## 5{(postgresServer is null ? "a" : "b")}. Attendance: a school day through HTTP, {storeName}");
        Console.WriteLine($"load:        {MachineInfo.LoadAverage()} (1, 5, 15 min)");
        var database = postgresServer is null ? null : await CreateDatabaseAsync(postgresServer);
        await using var api = new BenchApiFactory(auditing: true, kestrel: true, database);
        using var client = api.CreateDefaultClient();
        var day = DateOnly.FromDateTime(DateTime.UtcNow).AddDays(-1);

        var seed = Stopwatch.StartNew();
        var schools = await SeedAsync(api, children, day);
        Console.WriteLine($"seeded:      {children:N0} children in care, enrolled at {schools.Count} schools, in {seed.Elapsed.TotalSeconds:N1} s (not measured below)");

        // Warm-up: one small batch (JIT, connections, the policy and key caches), on a day before the measured one.
        await SendAsync(client, api, schools[0].School, schools[0].Children.Take(50).Select(c => (c, day.AddDays(-1))).ToList());

        // Schools are independent senders: the day is sent by one sender at a time, then again (on other days, so every
        // mark is new) by 2 and 4 senders at once, each taking its share of the schools in turn.
        var runs = new List<(int Senders, int Marks, double Seconds, List<double> Latencies)>();
        foreach (var (senders, offset) in new[] { (1, 0), (2, 3), (4, 4) })
        {
            var bodies = Prepare(api, schools, day.AddDays(-offset));
            var latencies = new System.Collections.Concurrent.ConcurrentBag<double>();
            var marks = 0;
            var total = Stopwatch.StartNew();
            await Task.WhenAll(Enumerable.Range(0, senders).Select(sender => Task.Run(async () =>
            {
                foreach (var (token, body, count) in bodies.Where((_, i) => i % senders == sender))
                {
                    var batch = Stopwatch.StartNew();
                    Interlocked.Add(ref marks, await SendAsync(client, token, body, count));
                    latencies.Add(batch.Elapsed.TotalMilliseconds);
                }
            })));
            total.Stop();
            runs.Add((senders, marks, total.Elapsed.TotalSeconds, latencies.ToList()));
        }

        var bulk = await BulkInsertAsync(api, schools, day.AddDays(-2));
        var bulkRate = bulk.Rows / bulk.Seconds;
        Console.WriteLine();
        Console.WriteLine($"| {storeName} | senders | marks | seconds | marks/s | audit events/s | batch of 5,000 (median, max) | ratio to bulk insert |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var (senders, marks, seconds, latencies) in runs)
        {
            // One event per child per batch and one for the batch: two marks a child, so marks/2 + batches events.
            var events = (marks / 2) + latencies.Count;
            Console.WriteLine($"| through HTTP (sign-in, policy, audit, idempotency) | {senders} | {marks:N0} | {seconds:N2} | {marks / seconds:N0} | {events / seconds:N0} | " +
                $"{Stats.Median(latencies):N0} ms, {Stats.Max(latencies):N0} ms | {marks / seconds / bulkRate:N3} |");
        }

        Console.WriteLine($"| plain bulk insert, same rows, same table | | {bulk.Rows:N0} | {bulk.Seconds:N2} | {bulkRate:N0} | | | |");
        Console.WriteLine("aim: 20,000 marks/s and a ratio of 0.25 or more");

        await SummaryAsync(api, client, schools[0].Children[0], day, summaryReads);
        Console.WriteLine();
    }

    private static async Task<List<(string School, string[] Children)>> SeedAsync(BenchApiFactory api, int children, DateOnly day)
    {
        using var scope = api.Services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<ExchangeDbContext>();
        var work = scope.ServiceProvider.GetRequiredService<UnitOfWork>();
        var now = DateTimeOffset.UtcNow;
        var schools = new List<(string, string[])>();
        await work.BeginAsync(CancellationToken.None);
        for (var s = 0; s * PerSchool < children; s++)
        {
            var school = "school:" + (700_000 + s).ToString(CultureInfo.InvariantCulture);
            db.Organisations.Add(new Organisation { Id = school, Kind = OrganisationKind.School, Name = "Bench School " + s, LaNumber = "202", CreatedAt = now });
            var pupils = Enumerable.Range(0, Math.Min(PerSchool, children - (s * PerSchool))).Select(_ => Ids.NewChildId()).ToArray();
            foreach (var child in pupils)
            {
                db.Children.Add(new Child { Id = child, CreatedAt = now, CreatedByOrganisation = "la:202" });
                db.CareEpisodes.Add(new CareEpisode { Id = Guid.NewGuid(), ChildId = child, ResponsibleLaNumber = "202", StartDate = day.AddYears(-1), RecordedAt = now });
                db.ChildRelationships.Add(new ChildRelationship
                {
                    Id = Guid.NewGuid(), ChildId = child, Kind = ChildRelationship.EnrolledSchool, OrganisationId = school, StartDate = day.AddYears(-1),
                    RecordedBy = "la:202", RecordedAt = now,
                });
            }

            schools.Add((school, pupils));
        }

        await work.CommitAsync(Outcome.Background, CancellationToken.None);
        return schools;
    }

    /// <summary>
    /// Each school's batches for <paramref name="day"/>, serialized and signed for before the clock starts: making the
    /// request is the MIS's work, on its own machine, not the exchange's.
    /// </summary>
    private static List<(string Token, byte[] Body, int Marks)> Prepare(BenchApiFactory api, List<(string School, string[] Children)> schools, DateOnly day) =>
        schools.SelectMany(s => s.Children.Chunk(BatchMarks / 2).Select(chunk => (Token(api, s.School, "school-mis"), Body(chunk.Select(c => (c, day))), chunk.Length * 2)))
            .ToList();

    private static byte[] Body(IEnumerable<(string Child, DateOnly Day)> pupils)
    {
        var marks = pupils.SelectMany(p => new[]
        {
            new { childId = p.Child, date = p.Day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), session = "AM", code = "/" },
            new { childId = p.Child, date = p.Day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), session = "PM", code = "\\" },
        }).ToList();
        return JsonSerializer.SerializeToUtf8Bytes(new { marks });
    }

    private static Task<int> SendAsync(HttpClient client, BenchApiFactory api, string school, List<(string Child, DateOnly Day)> pupils)
    {
        var body = Body(pupils);
        return SendAsync(client, Token(api, school, "school-mis"), body, pupils.Count * 2);
    }

    private static async Task<int> SendAsync(HttpClient client, string token, byte[] body, int count)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/attendance") { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        request.Headers.Add("X-Purpose-Of-Use", "attendance-monitoring");
        request.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString());
        using var response = await client.SendAsync(request);
        var answer = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"The batch was refused: {(int)response.StatusCode} {answer}");
        }

        var accepted = JsonDocument.Parse(answer).RootElement.GetProperty("accepted").GetInt32();
        return accepted == count ? accepted : throw new InvalidOperationException($"Only {accepted} of {count} marks were taken: {answer[..Math.Min(answer.Length, 400)]}");
    }

    private static readonly Dictionary<string, string> Tokens = new(StringComparer.Ordinal);

    private static string Token(BenchApiFactory api, string organisation, string role)
    {
        var key = api.DataDirectory + organisation + role;
        if (!Tokens.TryGetValue(key, out var token))
        {
            Tokens[key] = token = api.Token(organisation, role);
        }

        return token;
    }

    /// <summary>
    /// The same number of rows, written as plainly as the database allows: on SQLite one prepared INSERT in one
    /// transaction, on PostgreSQL a binary COPY.
    /// </summary>
    private static async Task<(int Rows, double Seconds)> BulkInsertAsync(BenchApiFactory api, List<(string School, string[] Children)> schools, DateOnly day)
    {
        using var scope = api.Services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<ExchangeDbContext>();
        var connection = db.Database.GetDbConnection();
        await connection.OpenAsync();
        var rows = 0;
        var watch = Stopwatch.StartNew();
        if (connection is NpgsqlConnection npgsql)
        {
            // PostgreSQL's own bulk path: binary COPY, one round trip for all the rows.
            await using (var import = await npgsql.BeginBinaryImportAsync(
                "COPY attendance_marks (\"Id\", \"ChildId\", \"SchoolId\", \"Date\", \"Session\", \"Code\", \"BatchId\", \"RecordedAt\") FROM STDIN (FORMAT BINARY)"))
            {
                var copyBatch = Guid.NewGuid();
                foreach (var (school, children) in schools)
                {
                    foreach (var child in children)
                    {
                        foreach (var (session, code) in new[] { ("AM", "/"), ("PM", "\\") })
                        {
                            await import.StartRowAsync();
                            await import.WriteAsync(Guid.CreateVersion7(), NpgsqlTypes.NpgsqlDbType.Uuid);
                            await import.WriteAsync(child, NpgsqlTypes.NpgsqlDbType.Varchar);
                            await import.WriteAsync(school, NpgsqlTypes.NpgsqlDbType.Varchar);
                            await import.WriteAsync(day, NpgsqlTypes.NpgsqlDbType.Date);
                            await import.WriteAsync(session, NpgsqlTypes.NpgsqlDbType.Varchar);
                            await import.WriteAsync(code, NpgsqlTypes.NpgsqlDbType.Varchar);
                            await import.WriteAsync(copyBatch, NpgsqlTypes.NpgsqlDbType.Uuid);
                            await import.WriteAsync(DateTimeOffset.UtcNow, NpgsqlTypes.NpgsqlDbType.TimestampTz);
                            rows++;
                        }
                    }
                }

                await import.CompleteAsync();
            }

            watch.Stop();
            await connection.CloseAsync();
            return (rows, watch.Elapsed.TotalSeconds);
        }

        await using (var transaction = await connection.BeginTransactionAsync())
        {
            await using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = "INSERT INTO attendance_marks (\"Id\", \"ChildId\", \"SchoolId\", \"Date\", \"Session\", \"Code\", \"MinutesLate\", \"BatchId\", \"RecordedAt\") "
                + "VALUES (@id, @child, @school, @date, @session, @code, NULL, @batch, @at)";
            var parameters = new[] { "id", "child", "school", "date", "session", "code", "batch", "at" }.ToDictionary(n => n, n =>
            {
                var p = command.CreateParameter();
                p.ParameterName = "@" + n;
                command.Parameters.Add(p);
                return p;
            });
            var batch = Guid.NewGuid();
            var isPostgres = connection is NpgsqlConnection;
            foreach (var (school, children) in schools)
            {
                foreach (var child in children)
                {
                    foreach (var (session, code) in new[] { ("AM", "/"), ("PM", "\\") })
                    {
                        // As the service writes them: time-ordered ids, and (SQLite) the time as UTC ticks (DateTimeOffsetToBinaryConverter).
                        Set(parameters["id"], isPostgres ? Guid.CreateVersion7() : Guid.CreateVersion7().ToString().ToUpperInvariant());
                        Set(parameters["child"], child);
                        Set(parameters["school"], school);
                        Set(parameters["date"], isPostgres ? day : day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
                        Set(parameters["session"], session);
                        Set(parameters["code"], code);
                        Set(parameters["batch"], isPostgres ? batch : batch.ToString().ToUpperInvariant());
                        Set(parameters["at"], isPostgres ? DateTimeOffset.UtcNow : ToBinary.ConvertToProvider(DateTimeOffset.UtcNow)!);
                        await command.ExecuteNonQueryAsync();
                        rows++;
                    }
                }
            }

            await transaction.CommitAsync();
        }

        watch.Stop();
        await connection.CloseAsync();
        return (rows, watch.Elapsed.TotalSeconds);
    }

    private static void Set(DbParameter parameter, object value) => parameter.Value = value;

    private static readonly Microsoft.EntityFrameworkCore.Storage.ValueConversion.DateTimeOffsetToBinaryConverter ToBinary = new();

    /// <summary>A child with a full year of marks (380 sessions), its summary read by the responsible council.</summary>
    private static async Task SummaryAsync(BenchApiFactory api, HttpClient client, string child, DateOnly day, int reads)
    {
        var school = "school:700000";
        var days = Enumerable.Range(0, 400).Select(i => day.AddDays(-3 - i)).Where(d => d.DayOfWeek is not (DayOfWeek.Saturday or DayOfWeek.Sunday)).Take(190).ToList();
        var codes = new[] { "/", "/", "/", "/", "L", "N", "C", "/" };
        for (var i = 0; i < days.Count; i += 95)
        {
            var chunk = days.Skip(i).Take(95).ToList();
            var marks = chunk.SelectMany((d, k) => new[]
            {
                new { childId = child, date = d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), session = "AM", code = codes[k % codes.Length] },
                new { childId = child, date = d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), session = "PM", code = "\\" },
            }).ToList();
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/attendance") { Content = new StringContent(JsonSerializer.Serialize(new { marks }), Encoding.UTF8, "application/json") };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Token(api, school, "school-mis"));
            request.Headers.Add("X-Purpose-Of-Use", "attendance-monitoring");
            request.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString());
            (await client.SendAsync(request)).EnsureSuccessStatusCode();
        }

        var to = days[0];
        var url = $"/v1/children/{child}/attendance/summary?from={days[^1]:yyyy-MM-dd}&to={to:yyyy-MM-dd}";
        var token = Token(api, "la:202", "virtual-school");
        var latencies = new List<double>();
        for (var i = 0; i < reads + 20; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            request.Headers.Add("X-Purpose-Of-Use", "attendance-monitoring");
            var watch = Stopwatch.StartNew();
            using var response = await client.SendAsync(request);
            var body = await response.Content.ReadAsStringAsync();
            watch.Stop();
            response.EnsureSuccessStatusCode();
            if (i >= 20)
            {
                latencies.Add(watch.Elapsed.TotalMilliseconds); // the first 20 warm up
            }

            if (i == 0)
            {
                Console.WriteLine($"summary:     {JsonDocument.Parse(body).RootElement.GetProperty("possibleSessions").GetInt32()} possible sessions of {days.Count * 2} marked");
            }
        }

        Console.WriteLine($"summary of a child with a year of marks, {reads} reads one at a time: p50 {Stats.Median(latencies):N1} ms, p99 {Stats.Percentile(latencies, 99):N1} ms");
    }

    internal static async Task<string> CreateDatabaseAsync(string server)
    {
        var database = "bench_attendance_" + Guid.NewGuid().ToString("N")[..12];
        await using var connection = new NpgsqlConnection(server);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"CREATE DATABASE {database}", connection);
        await command.ExecuteNonQueryAsync();
        return new NpgsqlConnectionStringBuilder(server) { Database = database }.ConnectionString;
    }
}
