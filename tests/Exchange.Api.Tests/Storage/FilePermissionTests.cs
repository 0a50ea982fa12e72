using System.Net;
using Exchange.Api.Tests.Infrastructure;

namespace Exchange.Api.Tests.Storage;

/// <summary>On Linux the data directory is the owner's alone (0700), and so is every database file in it (0600), as the key files are.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class FilePermissionTests
{
    private const UnixFileMode GroupOrOther = UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute
        | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;

    [SkippableFact]
    public async Task TheDataDirectoryIsCreated0700AndTheDatabasesWithTheirWalAndShmFiles0600()
    {
        Skip.If(OperatingSystem.IsWindows(), "Unix file modes");
        await using var api = new ExchangeApiFactory();
        var dataDirectory = Path.Combine(api.DataDirectory, "fresh", "data");
        api.Settings["Exchange:DataDirectory"] = dataDirectory;
        // A write, so SQLite has opened both databases and made their WAL and shared-memory files.
        await Problem.ChildIdAsync(await api.Council202.RegisterAsync(new { nhsNumber = TestIdentifiers.NewNhs() }), HttpStatusCode.Created);

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(dataDirectory));
        var files = Directory.GetFiles(dataDirectory);
        Assert.Contains(Path.Combine(dataDirectory, "exchange.db"), files);
        Assert.Contains(Path.Combine(dataDirectory, "audit.db"), files);
        Assert.Contains(Path.Combine(dataDirectory, "exchange.db-wal"), files);
        Assert.Contains(Path.Combine(dataDirectory, "audit.db-wal"), files);
        Assert.All(files, file => Assert.True((File.GetUnixFileMode(file) & GroupOrOther) == 0,
            $"{Path.GetFileName(file)} is {File.GetUnixFileMode(file)}"));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(dataDirectory, "exchange.db")));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(dataDirectory, "audit.db")));
    }

    [SkippableFact]
    public async Task DatabaseFilesAnEarlierVersionLeftReadableByOthersAreNarrowedAtStartUp()
    {
        Skip.If(OperatingSystem.IsWindows(), "Unix file modes");
        var first = new ExchangeApiFactory();
        await Problem.ChildIdAsync(await first.Council202.RegisterAsync(new { nhsNumber = TestIdentifiers.NewNhs() }), HttpStatusCode.Created);
        var dataDirectory = first.DataDirectory;
        await first.DisposeAsync();
        var open = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
        File.SetUnixFileMode(Path.Combine(dataDirectory, "exchange.db"), open);
        File.SetUnixFileMode(Path.Combine(dataDirectory, "audit.db"), open);

        await using var second = new ExchangeApiFactory();
        second.Settings["Exchange:DataDirectory"] = dataDirectory;
        Assert.Equal(HttpStatusCode.OK, (await second.CreateClient().GetAsync("/health/live")).StatusCode);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(dataDirectory, "exchange.db")));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(dataDirectory, "audit.db")));
    }
}
