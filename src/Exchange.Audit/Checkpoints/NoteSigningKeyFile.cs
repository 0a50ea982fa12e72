namespace Exchange.Audit.Checkpoints;

/// <summary>
/// Keeps a <see cref="NoteSigner"/>'s private key in a file as the Go reference's signer key string
/// (<see cref="NoteSigner.ExportSignerKey"/>), readable only by its owner on Unix. The same string can
/// be stored as a Key Vault secret and loaded with <see cref="NoteSigner.FromSignerKey"/>.
/// </summary>
public static class NoteSigningKeyFile
{
    /// <summary>Loads the signer from <paramref name="path"/>.</summary>
    /// <param name="path">The key file.</param>
    /// <returns>The signer.</returns>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="FormatException">The file does not hold a valid signer key.</exception>
    public static NoteSigner Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return NoteSigner.FromSignerKey(File.ReadAllText(path));
    }

    /// <summary>
    /// Loads the signer from <paramref name="path"/>, or creates a new key named <paramref name="name"/> and
    /// writes it there (never overwriting a file that appeared meanwhile).
    /// </summary>
    /// <param name="path">The key file; its directory is created if needed.</param>
    /// <param name="name">The key name the signer must have.</param>
    /// <returns>The signer.</returns>
    /// <exception cref="InvalidOperationException">The existing file holds a key with another name.</exception>
    /// <exception cref="FormatException">The existing file does not hold a valid signer key.</exception>
    public static NoteSigner LoadOrCreate(string path, string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path))
        {
            using var created = NoteSigner.Generate(name);
            try
            {
                Save(path, created);
            }
            catch (IOException) when (File.Exists(path))
            {
                // Another process created it first: use theirs.
            }
        }

        var signer = Load(path);
        if (!string.Equals(signer.Name, name, StringComparison.Ordinal))
        {
            signer.Dispose();
            throw new InvalidOperationException(
                $"The signing key in '{path}' is named '{signer.Name}', not '{name}'.");
        }

        return signer;
    }

    /// <summary>Writes the signer's key to a new file (owner read/write only on Unix).</summary>
    /// <param name="path">The key file, which must not exist; its directory is created if needed.</param>
    /// <param name="signer">The signer.</param>
    /// <exception cref="IOException">The file already exists or cannot be written.</exception>
    public static void Save(string path, NoteSigner signer)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(signer);
        if (Path.GetDirectoryName(Path.GetFullPath(path)) is { } directory)
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

        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using var writer = new StreamWriter(path, options);
        writer.Write(signer.ExportSignerKey());
        writer.Write('\n');
    }
}
