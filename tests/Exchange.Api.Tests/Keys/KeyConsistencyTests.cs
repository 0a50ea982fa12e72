using System.Net;
using Exchange.Api.Tests.Infrastructure;

namespace Exchange.Api.Tests.Keys;

/// <summary>A service started with keys that do not belong to its database refuses to run rather than silently forking the register.</summary>
public sealed class KeyConsistencyTests
{
    [Theory]
    [InlineData("blind-index.key", "blind-index key")]
    [InlineData("keys/kek-v1.key", "cannot unwrap")]
    public async Task ServiceRefusesToStartWhenALocalKeyWasReplaced(string keyFile, string message)
    {
        string dataDirectory;
        string sqlite;
        using (var first = new ExchangeApiFactory())
        {
            await Problem.ChildIdAsync(await first.Council202.RegisterAsync(new { nhsNumber = "9990000212" }), HttpStatusCode.Created);
            dataDirectory = first.DataDirectory;
            sqlite = first.SqliteFile;
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        }

        // The same database with a fresh key in place of the one it was written with.
        File.Delete(Path.Combine(dataDirectory, keyFile));
        using var second = new ExchangeApiFactory();
        second.Settings["Exchange:DataDirectory"] = dataDirectory;
        var error = Assert.ThrowsAny<Exception>(() => second.CreateClient());
        Assert.Contains(message, error.ToString(), StringComparison.Ordinal);
        Assert.Contains("refusing to start", error.ToString(), StringComparison.Ordinal);
        Assert.True(File.Exists(sqlite));
    }
}
