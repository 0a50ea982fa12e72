using System.Globalization;
using Exchange.Crypto;
using Exchange.Crypto.KeyVault;

namespace Exchange.Api.Keys;

/// <summary>The <c>Exchange:Keys:BlindIndex</c> section.</summary>
public sealed class BlindIndexSettings
{
    /// <summary><c>Local</c> (files in the data directory) or <c>KeyVault</c> (a Key Vault secret).</summary>
    public string Source { get; set; } = "Local";

    public string? SecretName { get; set; }

    /// <summary>Key Vault secret versions in use, oldest first; the last is current. Empty: the latest version only.</summary>
    public List<string> Versions { get; set; } = [];
}

/// <summary>
/// The blind-index secrets the service holds: local files (<c>blind-index.key</c> is v1,
/// <c>blind-index.v2.key</c> v2, ...) or versions of a Key Vault secret. A new local version
/// can be added at run time; re-indexing then moves every identifier to it.
/// </summary>
public sealed class BlindIndexKeys
{
    private readonly string? _directory;
    private BlindIndexRing _ring;

    private BlindIndexKeys(BlindIndexRing ring, string? localDirectory)
    {
        _ring = ring;
        _directory = localDirectory;
    }

    public BlindIndexRing Ring => Volatile.Read(ref _ring);

    public bool IsLocal => _directory is not null;

    public static BlindIndexKeys Load(BlindIndexSettings settings, KeysOptions keys, string dataDirectory, IServiceProvider services)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(keys);
        if (string.Equals(settings.Source, "KeyVault", StringComparison.OrdinalIgnoreCase))
        {
            if (keys.KeyVault.VaultUri is null || string.IsNullOrWhiteSpace(settings.SecretName))
            {
                throw new InvalidOperationException("Exchange:Keys:BlindIndex:Source=KeyVault needs Exchange:Keys:KeyVault:VaultUri and Exchange:Keys:BlindIndex:SecretName.");
            }

            var reader = new AzureKeyVaultSecretReader(keys.KeyVault.VaultUri,
                services.GetService<Azure.Core.TokenCredential>() ?? new Azure.Identity.DefaultAzureCredential(),
                services.GetService<AzureKeyVaultClientOptions>());
            var versions = settings.Versions.Count > 0 ? settings.Versions.Cast<string?>().ToList() : [null];
            // Read once at start: the service cannot index or look up anything without them.
            var secrets = versions.Select(v => reader.GetSecretBytesAsync(settings.SecretName, v).GetAwaiter().GetResult())
                .Select(s => (s.Version, s.Value)).ToList();
            return new BlindIndexKeys(new BlindIndexRing(secrets), null);
        }

        if (!string.Equals(settings.Source, "Local", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException("Exchange:Keys:BlindIndex:Source must be Local or KeyVault.");
        }

        return new BlindIndexKeys(LoadLocal(dataDirectory), dataDirectory);
    }

    /// <summary>Adds the next local version and makes it current. Returns its label.</summary>
    public string CreateNextLocalVersion()
    {
        if (_directory is null)
        {
            throw new InvalidOperationException("Blind-index secrets in Key Vault get new versions in the vault.");
        }

        var next = LocalVersions(_directory).Max(v => v.Number) + 1;
        LocalKeyFile.LoadOrCreate(Path.Combine(_directory, $"blind-index.v{next.ToString(CultureInfo.InvariantCulture)}.key"), 32);
        Volatile.Write(ref _ring, LoadLocal(_directory));
        return Ring.CurrentVersion;
    }

    private static BlindIndexRing LoadLocal(string directory)
    {
        LocalKeyFile.LoadOrCreate(Path.Combine(directory, "blind-index.key"), 32);
        return new BlindIndexRing(LocalVersions(directory)
            .Select(v => ("v" + v.Number.ToString(CultureInfo.InvariantCulture), LocalKeyFile.LoadOrCreate(v.Path, 32)))
            .ToList());
    }

    private static List<(int Number, string Path)> LocalVersions(string directory)
    {
        var versions = new List<(int, string)> { (1, Path.Combine(directory, "blind-index.key")) };
        foreach (var file in Directory.GetFiles(directory, "blind-index.v*.key"))
        {
            var label = Path.GetFileName(file)["blind-index.v".Length..^".key".Length];
            if (int.TryParse(label, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 1)
            {
                versions.Add((n, file));
            }
        }

        return versions.OrderBy(v => v.Item1).ToList();
    }
}
