using System.Globalization;
using Exchange.Crypto.Keys;

namespace Exchange.Crypto.KeyVault;

/// <summary>A validated key identifier <c>https://{vault-host}/keys/{name}/{version}</c> of one vault.</summary>
internal sealed record KeyVaultKeyId(string Original, string Name, string Version)
{
    /// <summary>Key Vault object names: 1 to 127 letters, digits and dashes.</summary>
    internal static bool IsValidName(string? name) =>
        !string.IsNullOrEmpty(name) && name.Length <= 127 && name.All(c => char.IsAsciiLetterOrDigit(c) || c == '-');

    /// <summary>Key Vault versions are hexadecimal strings; letters and digits are accepted, nothing else.</summary>
    internal static bool IsValidVersion(string? version) =>
        !string.IsNullOrEmpty(version) && version.Length <= 64 && version.All(char.IsAsciiLetterOrDigit);

    /// <summary>Checks that <paramref name="keyId"/> is a versioned key of the vault at <paramref name="vault"/>.</summary>
    /// <exception cref="KeyProviderException">The id is malformed or names another vault.</exception>
    internal static KeyVaultKeyId Parse(string keyId, Uri vault)
    {
        ArgumentNullException.ThrowIfNull(keyId);
        if (!Uri.TryCreate(keyId, UriKind.Absolute, out var uri)
            || uri.Scheme != Uri.UriSchemeHttps
            || uri.UserInfo.Length > 0
            || uri.Query.Length > 0
            || uri.Fragment.Length > 0)
        {
            throw new KeyProviderException(
                "The key id is not a Key Vault key identifier of the form https://{vault}/keys/{name}/{version}.");
        }

        if (!string.Equals(uri.Host, vault.Host, StringComparison.OrdinalIgnoreCase) || uri.Port != vault.Port)
        {
            throw new KeyProviderException(string.Create(
                CultureInfo.InvariantCulture,
                $"The key id names the vault '{uri.Authority}', but this provider only uses '{vault.Authority}'."));
        }

        var segments = uri.AbsolutePath.Trim('/').Split('/');
        if (segments.Length != 3
            || !string.Equals(segments[0], "keys", StringComparison.OrdinalIgnoreCase)
            || !IsValidName(segments[1])
            || !IsValidVersion(segments[2]))
        {
            throw new KeyProviderException(
                "The key id is not a versioned Key Vault key identifier of the form https://{vault}/keys/{name}/{version}.");
        }

        return new KeyVaultKeyId(keyId, segments[1], segments[2]);
    }
}
