using System.Runtime.InteropServices;

namespace Exchange.Crypto.Bench;

/// <summary>
/// CPU time consumed by the calling thread (Linux <c>clock_gettime(CLOCK_THREAD_CPUTIME_ID)</c>).
/// On a shared 2-core machine wall-clock rates include time the scheduler gave to other
/// processes; this clock does not, so it is the steadier cross-check.
/// </summary>
internal static class ThreadCpuTime
{
    private const int ClockThreadCpuTimeId = 3;

    public static bool IsAvailable { get; } = OperatingSystem.IsLinux() && Probe();

    /// <summary>Nanoseconds of CPU time used by this thread, or 0 where unavailable.</summary>
    public static long Nanoseconds()
    {
        if (!IsAvailable || ClockGetTime(ClockThreadCpuTimeId, out var ts) != 0)
        {
            return 0;
        }

        return (ts.Seconds * 1_000_000_000) + ts.Nanoseconds;
    }

    private static bool Probe()
    {
        try
        {
            return ClockGetTime(ClockThreadCpuTimeId, out _) == 0;
        }
        catch (DllNotFoundException)
        {
            return false;
        }
        catch (EntryPointNotFoundException)
        {
            return false;
        }
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [DllImport("libc", EntryPoint = "clock_gettime")]
    private static extern int ClockGetTime(int clockId, out TimeSpec time);
}
