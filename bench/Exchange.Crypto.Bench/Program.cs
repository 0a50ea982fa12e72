// Exchange.Crypto benchmark (issue 3). Stopwatch harness, no packages; prints its own figures.
// Run from the repository root:
//   dotnet run -c Release --project bench/Exchange.Crypto.Bench
// Figures and how to read them: docs/BENCHMARKS.md.
using System.Diagnostics;
using System.Reflection;
using System.Runtime;
using System.Runtime.InteropServices;
using Exchange.Crypto.Bench;
using Exchange.Crypto.Keys;

const string Command = "dotnet run -c Release --project bench/Exchange.Crypto.Bench";

// One core: pin the main thread (Linux affinity is per thread; threads started later inherit it).
string pinned = "no (not supported on this OS)";
try
{
    if (OperatingSystem.IsLinux() || OperatingSystem.IsWindows())
    {
        using var self = Process.GetCurrentProcess();
        self.ProcessorAffinity = 1;
        pinned = "yes (ProcessorAffinity = 0x1, CPU 0)";
    }
}
catch (Exception ex) when (ex is PlatformNotSupportedException or System.ComponentModel.Win32Exception or InvalidOperationException)
{
    pinned = "no (" + ex.GetType().Name + ": " + ex.Message + ")";
}

Console.WriteLine("# Exchange.Crypto benchmark");
Console.WriteLine($"command:     {Command}");
Console.WriteLine($"started:     {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm:ss} UTC");
Console.WriteLine($"machine:     {Environment.ProcessorCount} logical processors, {CpuModel()}, {RuntimeInformation.ProcessArchitecture}");
Console.WriteLine($"os:          {RuntimeInformation.OSDescription}");
Console.WriteLine($"runtime:     {RuntimeInformation.FrameworkDescription}, GC {(GCSettings.IsServerGC ? "server" : "workstation")}, latency {GCSettings.LatencyMode}");
Console.WriteLine($"load:        {LoadAverage()} (1, 5, 15 min load average before the run; above 2 means other work shares the 2 cores)");
Console.WriteLine($"pinned:      {pinned}; measuring on one thread");
Console.WriteLine($"build:       bench {BuildOf(typeof(ManualClock).Assembly)}, Exchange.Crypto {BuildOf(typeof(DataKey).Assembly)}");
Console.WriteLine();

await ThroughputBench.RunAsync(rounds: 15, roundMilliseconds: 200);
Console.WriteLine();
await UnwrapBench.RunAsync(owners: 1_000, reads: 10_000);
return 0;

static string CpuModel()
{
    try
    {
        var line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
        return line is null ? "unknown CPU" : line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim();
    }
    catch (IOException)
    {
        return "unknown CPU";
    }
    catch (UnauthorizedAccessException)
    {
        return "unknown CPU";
    }
}

static string LoadAverage()
{
    try
    {
        return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
    }
    catch (IOException)
    {
        return "unknown";
    }
    catch (UnauthorizedAccessException)
    {
        return "unknown";
    }
}

static string BuildOf(Assembly assembly) =>
    assembly.GetCustomAttribute<DebuggableAttribute>()?.IsJITOptimizerDisabled == true
        ? "DEBUG (not optimised: figures meaningless, use -c Release)"
        : "optimised";
