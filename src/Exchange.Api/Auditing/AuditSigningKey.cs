using Exchange.Api.Configuration;
using Exchange.Api.Keys;
using Exchange.Audit.Checkpoints;
using Exchange.Crypto.KeyVault;
using Microsoft.Extensions.Options;

namespace Exchange.Api.Auditing;

/// <summary>
/// Loads the checkpoint signing key once at start: from the data directory (<c>audit-signing.key</c>,
/// created on first start: the embedded default) or from a Key Vault secret holding the base64 of the
/// signer key string (<c>PRIVATE+KEY+&lt;origin&gt;+&lt;id&gt;+&lt;key&gt;</c>).
/// </summary>
internal static class AuditSigningKey
{
    public const string FileName = "audit-signing.key";

    public static async Task<NoteSigner> LoadAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        var audit = services.GetRequiredService<IOptions<AuditOptions>>().Value;
        var exchange = services.GetRequiredService<IOptions<ExchangeOptions>>().Value;
        if (!audit.SigningKey.IsKeyVault)
        {
            return NoteSigningKeyFile.LoadOrCreate(Path.Combine(exchange.FullDataDirectory, FileName), audit.Origin);
        }

        var vault = services.GetRequiredService<IConfiguration>().GetSection(KeysSetup.Section).Get<KeysOptions>()?.KeyVault.VaultUri
            ?? throw new InvalidOperationException("Exchange:Audit:SigningKey:Source is KeyVault but Exchange:Keys:KeyVault:VaultUri is not set.");
        var name = audit.SigningKey.SecretName
            ?? throw new InvalidOperationException("Exchange:Audit:SigningKey:Source is KeyVault but Exchange:Audit:SigningKey:SecretName is not set.");
        var reader = new AzureKeyVaultSecretReader(vault,
            services.GetService<Azure.Core.TokenCredential>() ?? new Azure.Identity.DefaultAzureCredential(),
            services.GetService<AzureKeyVaultClientOptions>());
        var (value, _) = await reader.GetSecretBytesAsync(name, audit.SigningKey.SecretVersion, cancellationToken).ConfigureAwait(false);
        try
        {
            var signer = NoteSigner.FromSignerKey(System.Text.Encoding.UTF8.GetString(value).Trim());
            if (!string.Equals(signer.Name, audit.Origin, StringComparison.Ordinal))
            {
                signer.Dispose();
                throw new InvalidOperationException($"The audit signing key in Key Vault secret '{name}' is named '{signer.Name}', not the configured origin '{audit.Origin}'.");
            }

            return signer;
        }
        finally
        {
            Array.Clear(value);
        }
    }
}
