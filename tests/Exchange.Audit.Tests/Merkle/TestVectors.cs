namespace Exchange.Audit.Tests.Merkle;

/// <summary>
/// Finds the third-party vectors in <c>../shared/testvectors</c> beside the repository root (the
/// directory holding <c>Exchange.sln</c>). Absent in a private clone: tests skip, unless CI=true.
/// </summary>
internal static class TestVectors
{
    public const string MissingPlaceholder = "(shared/testvectors not found)";

    public static string? Root { get; } = Locate();

    public static bool RunningInCi =>
        string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>One relative path per JSON file under <paramref name="folder"/>, or a single placeholder row.</summary>
    public static TheoryData<string> Files(string folder)
    {
        var data = new TheoryData<string>();
        var directory = Root is null ? null : Path.Combine(Root, folder);
        if (directory is null || !Directory.Exists(directory))
        {
            data.Add(MissingPlaceholder);
            return data;
        }

        foreach (var file in Directory.EnumerateFiles(directory, "*.json", SearchOption.AllDirectories)
                     .Order(StringComparer.Ordinal))
        {
            data.Add(Path.GetRelativePath(Root!, file).Replace('\\', '/'));
        }

        return data;
    }

    /// <summary>Skips (or in CI fails) when the vectors are absent; otherwise returns the file's full path.</summary>
    public static string Require(string relativePath)
    {
        if (relativePath == MissingPlaceholder || Root is null)
        {
            var reason = "Test vectors not found: expected ../shared/testvectors beside the directory holding Exchange.sln.";
            if (RunningInCi)
            {
                Assert.Fail(reason + " CI=true, so they must be present.");
            }

            Skip.If(true, reason);
        }

        return Path.Combine(Root!, relativePath);
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
