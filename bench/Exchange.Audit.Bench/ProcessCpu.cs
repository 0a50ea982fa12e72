using System.Diagnostics;

namespace Exchange.Audit.Bench;

/// <summary>
/// CPU time used by this process (all its threads: requesters, writer, server, client). On a shared 2-core
/// machine it says whether a variant is bound by CPU or by waiting (for fsync, for the server); the
/// PostgreSQL server's own CPU is in another process and not counted.
/// </summary>
internal static class ProcessCpu
{
    public static double Seconds()
    {
        using var self = Process.GetCurrentProcess();
        return self.TotalProcessorTime.TotalSeconds;
    }
}
