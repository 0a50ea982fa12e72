using System.Globalization;

namespace Exchange.Audit.Bench;

/// <summary>
/// CPU time used by the PostgreSQL server processes on this machine (Linux: /proc), when the bench's server is local: the
/// other half of a request's cost, which the bench process's own CPU time leaves out. Counts every database's work, so
/// it means something only while nothing else uses the server.
/// </summary>
internal static class PostgresCpu
{
    private static readonly double TicksPerSecond = 100; // USER_HZ on Linux

    /// <summary>Seconds of CPU the running postgres processes have used so far; null where /proc is not there.</summary>
    public static double? Seconds()
    {
        if (!Directory.Exists("/proc"))
        {
            return null;
        }

        double ticks = 0;
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            try
            {
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                // pid (comm) state ppid ... utime(14) stime(15): comm may hold spaces, so fields are counted after ')'.
                var close = stat.LastIndexOf(')');
                if (close < 0 || !stat.AsSpan(0, close).Contains("(postgres", StringComparison.Ordinal))
                {
                    continue;
                }

                var fields = stat[(close + 2)..].Split(' ');
                ticks += double.Parse(fields[11], CultureInfo.InvariantCulture) + double.Parse(fields[12], CultureInfo.InvariantCulture);
            }
            catch (IOException)
            {
                // The process ended while being read.
            }
            catch (UnauthorizedAccessException)
            {
            }
        }

        return ticks / TicksPerSecond;
    }
}
