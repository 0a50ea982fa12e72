using System.Security.Cryptography;

namespace Exchange.Crypto;

/// <summary>
/// A random secret kept in a file in the data directory, created on first use.
/// This is the embedded default for development and single-node installs; production
/// deployments keep their keys in a key vault instead.
/// </summary>
public static class LocalKeyFile
{
    // Threads of one process queue here; other processes queue on the lock file.
    private static readonly Lock CreationGate = new();

    /// <summary>
    /// Reads the secret stored at <paramref name="path"/>, or creates it with
    /// <paramref name="lengthInBytes"/> random bytes (readable by the owner only) when absent.
    /// </summary>
    /// <param name="path">Full path of the key file.</param>
    /// <param name="lengthInBytes">Length of the secret to create.</param>
    /// <returns>The secret bytes.</returns>
    /// <exception cref="InvalidDataException">The file exists but does not hold a key of the expected length.</exception>
    public static byte[] LoadOrCreate(string path, int lengthInBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(lengthInBytes, 16);
        var key = LoadOrCreateWith(path, () => RandomNumberGenerator.GetBytes(lengthInBytes));
        if (key.Length != lengthInBytes)
        {
            throw new InvalidDataException($"The key file '{Path.GetFileName(path)}' does not hold a {lengthInBytes}-byte key.");
        }

        return key;
    }

    /// <summary>
    /// Reads the key material stored at <paramref name="path"/>, or creates the file (owner-only)
    /// from <paramref name="create"/>. Creation happens once: concurrent first callers, in this
    /// process or another, all receive the same material. The array returned by
    /// <paramref name="create"/> is wiped once written; callers get a fresh copy read from the file.
    /// </summary>
    /// <param name="path">Full path of the key file.</param>
    /// <param name="create">Makes new key material when the file is absent.</param>
    /// <returns>The key material.</returns>
    /// <exception cref="InvalidDataException">The file is empty or not base64.</exception>
    public static byte[] LoadOrCreateWith(string path, Func<byte[]> create)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(create);
        if (!File.Exists(path))
        {
            lock (CreationGate)
            {
                using var crossProcess = AcquireLockFile(path + ".lock");
                if (!File.Exists(path))
                {
                    Create(path, create());
                }
            }
        }

        return Read(path);
    }

    private static byte[] Read(string path)
    {
        try
        {
            var material = Convert.FromBase64String(File.ReadAllText(path).Trim());
            return material.Length > 0
                ? material
                : throw new InvalidDataException($"The key file '{Path.GetFileName(path)}' is empty.");
        }
        catch (FormatException ex)
        {
            throw new InvalidDataException($"The key file '{Path.GetFileName(path)}' is not base64.", ex);
        }
    }

    /// <summary>An exclusive lock (flock on Unix) held while the key is created; waits for another holder.</summary>
    private static FileStream AcquireLockFile(string lockPath)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(lockPath));
        if (!string.IsNullOrEmpty(directory))
        {
            // Owner-only, like the file: the key's directory may be the data directory, created here first.
            if (OperatingSystem.IsWindows())
            {
                Directory.CreateDirectory(directory);
            }
            else
            {
                Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }
        }

        for (var attempt = 0; ; attempt++)
        {
            try
            {
                var options = new FileStreamOptions { Mode = FileMode.OpenOrCreate, Access = FileAccess.ReadWrite, Share = FileShare.None };
                if (!OperatingSystem.IsWindows())
                {
                    options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite; // owner-only, like everything in the data directory
                }

                return new FileStream(lockPath, options);
            }
            catch (IOException) when (attempt < 200)
            {
                Thread.Sleep(25);
            }
        }
    }

    private static void Create(string path, byte[] material)
    {
        // Written to a private temporary file and renamed into place, so a reader that does not
        // take the lock never sees a half-written key.
        var temporary = path + ".tmp-" + Guid.NewGuid().ToString("N");
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        try
        {
            using (var stream = new FileStream(temporary, options))
            using (var writer = new StreamWriter(stream))
            {
                writer.Write(Convert.ToBase64String(material));
                writer.Flush();
                stream.Flush(flushToDisk: true); // on disk before it is renamed into place: a crash must not lose a key in use
            }

            File.Move(temporary, path, overwrite: false);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(material);
            File.Delete(temporary); // nothing to do when the move succeeded
        }
    }
}
