using System.Globalization;
using Azure.Core;
using Azure.Security.KeyVault.Secrets;
using Exchange.Crypto.Keys;

namespace Exchange.Crypto.KeyVault;

/// <summary>
/// Reads binary secrets (stored as base64 text) from Azure Key Vault with
/// <see cref="SecretClient"/>, for example the blind-index secret. Failures are mapped like the
/// key provider's: <see cref="KeyProviderException"/> for refusals and missing secrets,
/// <see cref="KeyProviderUnavailableException"/> when the vault cannot be reached.
/// </summary>
public sealed class AzureKeyVaultSecretReader
{
    private readonly SecretClient _client;

    /// <summary>Creates the reader.</summary>
    /// <param name="vaultUri">The vault, for example <c>https://my-vault.vault.azure.net/</c>; must be HTTPS.</param>
    /// <param name="credential">The identity used to obtain Key Vault tokens.</param>
    /// <param name="clientOptions">Transport and retry settings; production defaults when null.</param>
    /// <exception cref="ArgumentException">The vault URI is not HTTPS.</exception>
    public AzureKeyVaultSecretReader(Uri vaultUri, TokenCredential credential, AzureKeyVaultClientOptions? clientOptions = null)
    {
        ArgumentNullException.ThrowIfNull(vaultUri);
        ArgumentNullException.ThrowIfNull(credential);
        if (!vaultUri.IsAbsoluteUri || vaultUri.Scheme != Uri.UriSchemeHttps)
        {
            throw new ArgumentException("The vault URI must be an absolute https URI.", nameof(vaultUri));
        }

        _client = new SecretClient(vaultUri, credential, ToSecretClientOptions(clientOptions ?? new AzureKeyVaultClientOptions()));
    }

    /// <summary>Reads a secret whose value is the base64 text of some bytes.</summary>
    /// <param name="name">The secret's name (letters, digits and dashes).</param>
    /// <param name="version">A specific version, or null for the current one.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The decoded bytes and the version that was read.</returns>
    /// <exception cref="ArgumentException">The name or version is not a valid Key Vault name.</exception>
    /// <exception cref="KeyProviderException">Not authorised, not found, or the value is not base64.</exception>
    /// <exception cref="KeyProviderUnavailableException">The vault cannot be reached now.</exception>
    public async Task<(byte[] Value, string Version)> GetSecretBytesAsync(
        string name, string? version = null, CancellationToken cancellationToken = default)
    {
        if (!KeyVaultKeyId.IsValidName(name))
        {
            throw new ArgumentException("A secret name is 1 to 127 letters, digits or dashes.", nameof(name));
        }

        if (version is not null && !KeyVaultKeyId.IsValidVersion(version))
        {
            throw new ArgumentException("A secret version is letters and digits only.", nameof(version));
        }

        var description = string.Create(CultureInfo.InvariantCulture, $"reading secret '{name}'");
        KeyVaultSecret secret;
        try
        {
            secret = (await _client.GetSecretAsync(name, version, cancellationToken).ConfigureAwait(false)).Value;
        }
        catch (Exception ex) when (KeyVaultFailures.FromException(ex, description, cancellationToken) is { } mapped)
        {
            throw mapped;
        }

        if (string.IsNullOrEmpty(secret.Properties.Version))
        {
            throw new KeyProviderException($"Key Vault answered {description} without a secret version.");
        }

        try
        {
            return (Convert.FromBase64String(secret.Value ?? string.Empty), secret.Properties.Version);
        }
        catch (FormatException ex)
        {
            throw new KeyProviderException($"The value of secret '{name}' is not base64.", ex);
        }
    }

    private static SecretClientOptions ToSecretClientOptions(AzureKeyVaultClientOptions source)
    {
        var options = new SecretClientOptions
        {
            Transport = source.Transport,
            RetryPolicy = source.RetryPolicy,
        };
        options.Retry.Mode = source.Retry.Mode;
        options.Retry.MaxRetries = source.Retry.MaxRetries;
        options.Retry.Delay = source.Retry.Delay;
        options.Retry.MaxDelay = source.Retry.MaxDelay;
        options.Retry.NetworkTimeout = source.Retry.NetworkTimeout;
        return options;
    }
}
