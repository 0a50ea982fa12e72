using Azure.Core;
using Exchange.Crypto.KeyVault;
using Exchange.Crypto.Keys;

namespace Exchange.Api.Keys;

internal static class KeyProviders
{
    public static IKeyEncryptionKeyProvider Create(KeysOptions options, string dataDirectory, IServiceProvider services)
    {
        if (options.IsKeyVault)
        {
            if (options.KeyVault.VaultUri is null || string.IsNullOrWhiteSpace(options.KeyVault.KeyName))
            {
                throw new InvalidOperationException("Exchange:Keys:Provider=AzureKeyVault needs Exchange:Keys:KeyVault:VaultUri and KeyName.");
            }

            // Tests register their own credential and transport (a TLS stub trusted by thumbprint);
            // production uses the managed identity / environment chain and the default, strict transport.
            var credential = services.GetService<TokenCredential>() ?? new Azure.Identity.DefaultAzureCredential();
            return new AzureKeyVaultKeyProvider(
                new AzureKeyVaultOptions { VaultUri = options.KeyVault.VaultUri, KeyName = options.KeyVault.KeyName, KeyVersion = options.KeyVault.KeyVersion },
                credential,
                services.GetService<AzureKeyVaultClientOptions>(),
                services.GetRequiredService<TimeProvider>());
        }

        if (!string.Equals(options.Provider, "Local", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException("Exchange:Keys:Provider must be Local or AzureKeyVault.");
        }

        return new LocalKeyEncryptionKeyProvider(dataDirectory);
    }
}
