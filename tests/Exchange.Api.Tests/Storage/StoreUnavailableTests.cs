using Exchange.Api.Tests.Infrastructure;

namespace Exchange.Api.Tests.Storage;

/// <summary>
/// A store the service cannot open ends the start cleanly: exit code 3 (README, operations), one Fatal line naming
/// the store, no stack trace, no crash, no secret. Runs the service as a process, as an operator would.
/// </summary>
public sealed class StoreUnavailableTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("exchange-store-").FullName;

    private Dictionary<string, string> Environment(string dataDirectory) => new()
    {
        ["ASPNETCORE_ENVIRONMENT"] = "Testing",
        ["ASPNETCORE_URLS"] = "http://127.0.0.1:0",
        ["Exchange__DataDirectory"] = dataDirectory,
        ["Exchange__Auth__Authority"] = "http://127.0.0.1:9/",
        ["Exchange__Auth__RequireHttpsMetadata"] = "false",
    };

    [Fact]
    public async Task ADataDirectoryThatCannotBeCreatedEndsTheStartWithExitCode3()
    {
        // A file where a parent directory should be: the directory cannot be created (whoever runs the tests, root too).
        await File.WriteAllTextAsync(Path.Combine(_root, "not-a-directory"), "");
        var run = await ApiProcess.RunAsync(Environment(Path.Combine(_root, "not-a-directory", "data")), TimeSpan.FromSeconds(90));
        AssertCleanExit(run, "DATA DIRECTORY UNAVAILABLE");
    }

    [Fact]
    public async Task ADatabasePathThatIsADirectoryEndsTheStartWithExitCode3AndNoPassword()
    {
        var database = Directory.CreateDirectory(Path.Combine(_root, "exchange.db")).FullName;
        var environment = Environment(_root);
        environment["ConnectionStrings__Exchange"] = $"Data Source={database};Password=hunter2-not-for-logs";
        var run = await ApiProcess.RunAsync(environment, TimeSpan.FromSeconds(90));
        AssertCleanExit(run, "DATABASE UNAVAILABLE");
        Assert.Contains($"'{database}' is a directory", run.All, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", run.All, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnAuditStorePathThatIsADirectoryEndsTheStartWithExitCode3()
    {
        Directory.CreateDirectory(Path.Combine(_root, "audit.db"));
        var run = await ApiProcess.RunAsync(Environment(_root), TimeSpan.FromSeconds(90));
        AssertCleanExit(run, "AUDIT STORE UNAVAILABLE");
        Assert.Contains("audit.db' is a directory", run.All, StringComparison.Ordinal);
    }

    private static void AssertCleanExit(ApiProcess.Outcome run, string headline)
    {
        // 3, as the README documents; not 134 (an unhandled exception's abort and core dump), not our timeout (-1).
        Assert.True(run.ExitCode == 3, $"exit code {run.ExitCode}: {run.All}");
        var lines = run.All.Split('\n').Where(l => l.Contains(headline, StringComparison.Ordinal)).ToList();
        Assert.True(lines.Count == 1, run.All);
        Assert.Contains("\"@l\":\"Fatal\"", lines[0], StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", run.All, StringComparison.Ordinal);
        Assert.DoesNotContain("\"@x\"", run.All, StringComparison.Ordinal); // no exception and stack trace logged
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);
}
