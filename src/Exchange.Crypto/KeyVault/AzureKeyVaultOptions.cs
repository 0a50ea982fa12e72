namespace Exchange.Crypto.KeyVault;

/// <summary>
/// Which Azure Key Vault key wraps the data keys (configuration <c>Exchange:Keys:KeyVault</c>).
/// </summary>
public sealed class AzureKeyVaultOptions
{
    /// <summary>The vault, for example <c>https://my-vault.vault.azure.net/</c>. Must be HTTPS, with no path.</summary>
    public Uri? VaultUri { get; set; }

    /// <summary>The name of the RSA key in the vault.</summary>
    public string KeyName { get; set; } = string.Empty;

    /// <summary>
    /// The key version to wrap new data keys with. When absent the provider asks the vault for the
    /// key's current version (and remembers the answer for <see cref="CurrentVersionCacheDuration"/>).
    /// </summary>
    public string? KeyVersion { get; set; }

    /// <summary>How long the answer to "which version is current" is reused before the vault is asked again.</summary>
    public TimeSpan CurrentVersionCacheDuration { get; set; } = TimeSpan.FromMinutes(5);
}
