namespace Exchange.Crypto.Tests.Vectors;

/// <summary>
/// Finds the third-party vectors in <c>../shared/testvectors</c> beside the repository root (the
/// directory holding <c>Exchange.sln</c>). Absent in a private clone: tests skip, unless CI=true.
/// (Same pattern as Exchange.Audit.Tests; copied rather than referenced so the projects stay apart.)
/// </summary>
internal static class TestVectors
{
    public static string? Root { get; } = Locate();

    public static bool RunningInCi =>
        string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>The full path of a vector file, or null when the vectors (or that file) are absent.</summary>
    public static string? Find(string relativePath)
    {
        if (Root is null)
        {
            return null;
        }

        var path = Path.Combine(Root, relativePath);
        return File.Exists(path) ? path : null;
    }

    /// <summary>Skips (or in CI fails) when <paramref name="relativePath"/> is absent; otherwise returns its full path.</summary>
    public static string Require(string relativePath)
    {
        var path = Find(relativePath);
        if (path is null)
        {
            var reason = $"Test vector '{relativePath}' not found: expected ../shared/testvectors beside the directory holding Exchange.sln.";
            if (RunningInCi)
            {
                Assert.Fail(reason + " CI=true, so it must be present.");
            }

            Skip.If(true, reason);
        }

        return path!;
    }

    private static string? Locate()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Exchange.sln")))
            {
                var vectors = dir.Parent is null ? null : Path.Combine(dir.Parent.FullName, "shared", "testvectors");
                return vectors is not null && Directory.Exists(vectors) ? vectors : null;
            }
        }

        return null;
    }
}
