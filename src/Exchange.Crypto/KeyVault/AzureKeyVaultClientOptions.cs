using Azure.Core;

namespace Exchange.Crypto.KeyVault;

/// <summary>
/// HTTP pipeline settings for the Key Vault clients: transport, retries and diagnostics.
/// The defaults suit production (three exponential retries, a 10-second network timeout, and
/// <c>Retry-After</c> honoured on 429 and 503); tests shorten the delays and pass their own transport.
/// </summary>
public sealed class AzureKeyVaultClientOptions : ClientOptions
{
    /// <summary>Creates the options with the production defaults.</summary>
    public AzureKeyVaultClientOptions()
    {
        Retry.Mode = RetryMode.Exponential;
        Retry.MaxRetries = 3;
        Retry.Delay = TimeSpan.FromMilliseconds(800);
        Retry.MaxDelay = TimeSpan.FromSeconds(10);
        Retry.NetworkTimeout = TimeSpan.FromSeconds(10);
    }
}
