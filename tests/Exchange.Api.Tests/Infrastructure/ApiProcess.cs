using System.Diagnostics;

namespace Exchange.Api.Tests.Infrastructure;

/// <summary>Runs the built Exchange.Api.dll as a separate process, as an operator would run its verbs.</summary>
public static class ApiProcess
{
    public sealed record Outcome(int ExitCode, string Output, string Error)
    {
        public string All => Output + Error;
    }

    public static Task<Outcome> RunAsync(IReadOnlyDictionary<string, string> environment, params string[] args) =>
        RunAsync(environment, TimeSpan.FromMinutes(2), args);

    /// <summary>Runs the dll; a process still running after <paramref name="timeout"/> is killed (exit code -1).</summary>
    public static async Task<Outcome> RunAsync(IReadOnlyDictionary<string, string> environment, TimeSpan timeout, params string[] args)
    {
        ArgumentNullException.ThrowIfNull(environment);
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Exchange.Api.dll"));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var limit = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            return new Outcome(-1, await output, await error);
        }

        return new Outcome(process.ExitCode, await output, await error);
    }
}
