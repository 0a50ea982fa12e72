// Exchange.Audit benchmark (issue 4). Stopwatch harness; prints its own figures.
// Run from the repository root:
//   EXCHANGE_BENCH_POSTGRES="Host=127.0.0.1;Port=55433;Username=postgres;Password=devpw;Database=postgres" \
//     dotnet run -c Release --project bench/Exchange.Audit.Bench
// Parts can be chosen: `-- appends`, `-- rps`, `-- decisions`, `-- proofs` (default: all four), and `-- attendance`
// (issue 11: a school day of marks through HTTP against a plain bulk insert; only when named), `-- cohort` (issue 12
// part 2: a council's cohort of 2,000 children with a year of marks each, JSON and CSV; only when named),
// `-- webhooks` (issue 12: webhook delivery throughput to a local receiver against plain signed POSTs; only when named), and
// `-- rollcheck` (a school's roll check of 5,000 pupils with none, a tenth or --children of them in care; only when named).
// Options:
//   --children <n>             children in care for the attendance part (default 60000), the cohort part (default 2000) or the roll check (default 1000)
//   --store <sqlite|postgresql> the cohort part on one store only (default: both)
//   --reads <n>                requests of each kind in the cohort part (default 50) or the roll check (default 30)
//   --items <n>                outbox items per round for the webhook part (default 2000)
//   --batch <n>                Exchange:Webhooks:BatchSize for the webhook part (default: the service's)
//   --quick                    small sizes and few rounds, to check the harness (figures meaningless)
//   --sqlite-proof-max <n>     largest tree size to fill on SQLite for part 3 (default 10000000)
//   --proof-sizes <n,n,...>    tree sizes for part 3 (default 1000000,10000000)
// Figures and how to read them: docs/BENCHMARKS.md.
using System.Diagnostics;
using System.Globalization;
using System.Runtime;
using System.Runtime.InteropServices;
using Exchange.Audit.Storage;

namespace Exchange.Audit.Bench;

internal static class BenchProgram
{
    private const string Command = "dotnet run -c Release --project bench/Exchange.Audit.Bench";
    private const string PostgresVariable = "EXCHANGE_BENCH_POSTGRES";

    public static async Task<int> Main(string[] args)
    {
        var parts = args.Where(a => !a.StartsWith("--", StringComparison.Ordinal) && !char.IsDigit(a[0])).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var all = parts.Count == 0;
        var quick = args.Contains("--quick");
        var sqliteProofMax = Option(args, "--sqlite-proof-max") is { } max ? long.Parse(max, CultureInfo.InvariantCulture) : 10_000_000;
        var proofSizes = Option(args, "--proof-sizes") is { } sizes
            ? sizes.Split(',').Select(s => long.Parse(s, CultureInfo.InvariantCulture)).ToArray()
            : quick ? [10_000, 100_000] : [1_000_000, 10_000_000];
        var postgres = Environment.GetEnvironmentVariable(PostgresVariable);

        var started = Stopwatch.StartNew();
        Console.WriteLine("# Exchange.Audit benchmark");
        Console.WriteLine($"command:     {Command}{(args.Length > 0 ? " -- " + string.Join(' ', args) : "")}");
        Console.WriteLine($"started:     {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm:ss} UTC");
        Console.WriteLine($"machine:     {Environment.ProcessorCount} logical processors, {MachineInfo.CpuModel()}, {RuntimeInformation.ProcessArchitecture}, {MachineInfo.MemoryTotal()}");
        Console.WriteLine($"os:          {RuntimeInformation.OSDescription}");
        Console.WriteLine($"runtime:     {RuntimeInformation.FrameworkDescription}, GC {(GCSettings.IsServerGC ? "server" : "workstation")}, latency {GCSettings.LatencyMode}");
        Console.WriteLine($"load:        {MachineInfo.LoadAverage()} (1, 5, 15 min load average before the run; above 2 means other work shares the 2 cores)");
        Console.WriteLine($"build:       bench {MachineInfo.BuildOf(typeof(BenchProgram).Assembly)}, Exchange.Audit {MachineInfo.BuildOf(typeof(MerkleLog).Assembly)}, Exchange.Api {MachineInfo.BuildOf(typeof(Exchange.Api.Auditing.AuditWriter).Assembly)}");
        Console.WriteLine($"temp:        {Path.GetTempPath()}");
        Console.WriteLine();

        if (all || parts.Contains("appends"))
        {
            var concurrencies = new[] { 64, 256 };
            var rounds = quick ? 2 : 7;
            var roundTime = TimeSpan.FromSeconds(quick ? 0.5 : 2);
            await AppendBench.RunAsync(StoreKind.Sqlite, null, concurrencies, rounds, roundTime);
            Console.WriteLine();
            if (string.IsNullOrWhiteSpace(postgres))
            {
                Console.WriteLine($"## 1b. PostgreSQL: SKIPPED ({PostgresVariable} is not set; set it to a connection string to a server where the user may CREATE DATABASE)");
            }
            else
            {
                await AppendBench.RunAsync(StoreKind.Postgres, postgres, concurrencies, rounds, roundTime);
            }

            Console.WriteLine();
        }

        if (all || parts.Contains("rps"))
        {
            var rounds = quick ? 2 : 15;
            var roundTime = TimeSpan.FromSeconds(quick ? 0.5 : 1);
            await ReadRpsBench.RunAsync(kestrel: false, clients: 16, rounds, roundTime);
            Console.WriteLine();
            await ReadRpsBench.RunAsync(kestrel: true, clients: 16, rounds, roundTime);
            Console.WriteLine();
        }

        if (all || parts.Contains("decisions"))
        {
            await DecisionBench.RunAsync(workers: 16, rounds: quick ? 2 : 15, roundTime: TimeSpan.FromSeconds(quick ? 0.5 : 1));
            Console.WriteLine();
        }

        if (all || parts.Contains("proofs"))
        {
            await ProofBench.RunAsync(proofSizes, sqliteProofMax, batch: quick ? 5_000 : 50_000,
                memoryProofs: quick ? 2_000 : 20_000, sqliteProofs: quick ? 500 : 2_000);
            Console.WriteLine();
        }

        // Not part of "all": it seeds tens of thousands of children; ask for it by name.
        if (parts.Contains("attendance"))
        {
            var children = Option(args, "--children") is { } n ? int.Parse(n, CultureInfo.InvariantCulture) : quick ? 5_000 : 60_000;
            await AttendanceBench.RunAsync("SQLite", null, children, summaryReads: quick ? 50 : 500);
            if (string.IsNullOrWhiteSpace(postgres))
            {
                Console.WriteLine($"## 5b. PostgreSQL: SKIPPED ({PostgresVariable} is not set)");
            }
            else
            {
                await AttendanceBench.RunAsync("PostgreSQL", postgres, children, summaryReads: quick ? 50 : 500);
            }
        }

        // Not part of "all" either: the virtual school's cohort of --children (default 2,000) with a year of marks each.
        if (parts.Contains("cohort"))
        {
            var children = Option(args, "--children") is { } n ? int.Parse(n, CultureInfo.InvariantCulture) : quick ? 200 : 2_000;
            var reads = Option(args, "--reads") is { } r ? int.Parse(r, CultureInfo.InvariantCulture) : quick ? 5 : 50;
            // --store sqlite|postgresql measures one store only (a profile, or A/B runs taken in turn).
            var store = Option(args, "--store");
            if (store is null || store.Equals("sqlite", StringComparison.OrdinalIgnoreCase))
            {
                await CohortBench.RunAsync("SQLite", null, children, reads);
            }

            if (store is null || store.Equals("postgresql", StringComparison.OrdinalIgnoreCase))
            {
                if (string.IsNullOrWhiteSpace(postgres))
                {
                    Console.WriteLine($"## 6b. PostgreSQL: SKIPPED ({PostgresVariable} is not set)");
                }
                else
                {
                    await CohortBench.RunAsync("PostgreSQL", postgres, children, reads);
                }
            }
        }

        // Not part of "all" either: a school's roll check of 5,000 pupils, with --children (default 1000) registered in care.
        if (parts.Contains("rollcheck"))
        {
            var inCare = Option(args, "--children") is { } n ? int.Parse(n, CultureInfo.InvariantCulture) : quick ? 50 : 1_000;
            var reads = Option(args, "--reads") is { } r ? int.Parse(r, CultureInfo.InvariantCulture) : quick ? 3 : 30;
            await RollCheckBench.RunAsync("SQLite", null, inCare, reads);
            if (string.IsNullOrWhiteSpace(postgres))
            {
                Console.WriteLine($"## 8b. PostgreSQL: SKIPPED ({PostgresVariable} is not set)");
            }
            else
            {
                await RollCheckBench.RunAsync("PostgreSQL", postgres, inCare, reads);
            }
        }

        // Not part of "all" either: ask for it by name.
        if (parts.Contains("webhooks"))
        {
            var items = Option(args, "--items") is { } n ? int.Parse(n, CultureInfo.InvariantCulture) : quick ? 200 : 2_000;
            var rounds = quick ? 2 : 5;
            int? batch = Option(args, "--batch") is { } b ? int.Parse(b, CultureInfo.InvariantCulture) : null;
            await WebhookBench.RunAsync("SQLite", null, items, rounds, batch);
            if (string.IsNullOrWhiteSpace(postgres))
            {
                Console.WriteLine($"## 7b. PostgreSQL: SKIPPED ({PostgresVariable} is not set)");
            }
            else
            {
                await WebhookBench.RunAsync("PostgreSQL", postgres, items, rounds, batch);
            }
        }

        Console.WriteLine($"total:       {started.Elapsed.TotalMinutes:N1} min; load {MachineInfo.LoadAverage()} at the end");
        return 0;
    }

    private static string? Option(string[] args, string name)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }
}
