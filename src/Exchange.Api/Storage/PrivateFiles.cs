using Microsoft.Data.Sqlite;

namespace Exchange.Api.Storage;

/// <summary>
/// The data directory and the SQLite databases in it are the owner's alone, as the key files are: the
/// directory is created 0700 and each database file 0600 before SQLite first opens it. SQLite gives its
/// <c>-wal</c>, <c>-shm</c> and <c>-journal</c> files the database file's mode, so they are no more open.
/// Files an earlier version left more open are narrowed at start-up.
/// </summary>
internal static class PrivateFiles
{
    private const UnixFileMode OwnerOnlyDirectory = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode OwnerOnlyFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode GroupOrOther = UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute
        | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;

    private static readonly string[] SqliteCompanions = ["", "-wal", "-shm", "-journal"];

    /// <summary>Creates <paramref name="path"/> (and missing parents) readable by the owner only; an existing directory is left as the operator made it.</summary>
    public static void CreateDirectory(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
        }
        else
        {
            Directory.CreateDirectory(path, OwnerOnlyDirectory);
        }
    }

    /// <summary>The file a SQLite connection string names (for messages: never the connection string itself).</summary>
    public static string SqliteFileOf(string connectionString)
    {
        try
        {
            return new SqliteConnectionStringBuilder(connectionString).DataSource;
        }
        catch (ArgumentException)
        {
            return "(a SQLite connection string that cannot be read)";
        }
    }

    /// <summary>
    /// Creates the file of a SQLite connection string empty and 0600 when absent (SQLite takes an empty file
    /// for an empty database), and narrows it and its companions to the owner when they exist.
    /// </summary>
    public static void PrepareSqliteFile(string connectionString)
    {
        var builder = new SqliteConnectionStringBuilder(connectionString);
        var source = builder.DataSource;
        if (string.IsNullOrWhiteSpace(source) || source == ":memory:" || builder.Mode == SqliteOpenMode.Memory
            || source.StartsWith("file:", StringComparison.OrdinalIgnoreCase))
        {
            return;
        }

        var file = Path.GetFullPath(source);
        if (Directory.Exists(file))
        {
            // Said plainly: creating it would fail with "already exists", which sends an operator the wrong way.
            throw new IOException($"'{file}' is a directory, not a database file.");
        }

        if (Path.GetDirectoryName(file) is { } directory)
        {
            CreateDirectory(directory);
        }

        if (OperatingSystem.IsWindows())
        {
            return;
        }

        if (!File.Exists(file))
        {
            try
            {
                using var created = new FileStream(file, new FileStreamOptions
                {
                    Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.ReadWrite, UnixCreateMode = OwnerOnlyFile,
                });
            }
            catch (IOException) when (File.Exists(file))
            {
                // Another process created it first: narrowed below like any existing file.
            }
        }

        foreach (var suffix in SqliteCompanions)
        {
            var path = file + suffix;
            if (File.Exists(path) && (File.GetUnixFileMode(path) & GroupOrOther) != 0)
            {
                File.SetUnixFileMode(path, File.GetUnixFileMode(path) & ~GroupOrOther);
            }
        }
    }
}
