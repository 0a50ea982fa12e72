using System.Security.Cryptography;

namespace Exchange.Crypto;

/// <summary>
/// A random secret kept in a file in the data directory, created on first use.
/// This is the embedded default for development and single-node installs; production
/// deployments keep their keys in a key vault instead.
/// </summary>
public static class LocalKeyFile
{
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
    /// Reads the key material stored at <paramref name="path"/>, or creates the file (owner-only,
    /// create-once, so two processes starting together agree) from <paramref name="create"/>.
    /// </summary>
    /// <param name="path">Full path of the key file.</param>
    /// <param name="create">Makes new key material when the file is absent.</param>
    /// <returns>The key material.</returns>
    public static byte[] LoadOrCreateWith(string path, Func<byte[]> create)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(create);
        if (!File.Exists(path))
        {
            TryCreate(path, create());
        }

        return Convert.FromBase64String(File.ReadAllText(path).Trim());
    }

    private static void TryCreate(string path, byte[] material)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }

        // Written to a private temporary file, then moved into place without overwriting, so a
        // reader never sees a half-written key and two processes starting together agree.
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
            }

            File.Move(temporary, path, overwrite: false);
        }
        catch (IOException) when (File.Exists(path))
        {
            // Another process created the key first; use theirs.
            File.Delete(temporary);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(material);
        }
    }
}
