using Exchange.Api.Hosting;
using Exchange.Api.Identity;
using Exchange.Crypto.Keys;
using Exchange.Crypto.Sealing;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Exchange.Api.Keys;

/// <summary>The <c>Exchange:Keys</c> section.</summary>
public sealed class KeysOptions
{
    /// <summary><c>Local</c> (a key file in the data directory; the embedded default) or <c>AzureKeyVault</c>.</summary>
    public string Provider { get; set; } = "Local";

    public KeyVaultSettings KeyVault { get; set; } = new();

    /// <summary>How long an unwrapped data key stays in memory.</summary>
    public int CacheTimeToLiveSeconds { get; set; } = 300;

    public int CacheMaxEntries { get; set; } = 10_000;

    public bool IsKeyVault => string.Equals(Provider, "AzureKeyVault", StringComparison.OrdinalIgnoreCase);
}

public sealed class KeyVaultSettings
{
    public Uri? VaultUri { get; set; }
    public string? KeyName { get; set; }
    public string? KeyVersion { get; set; }
}

public static partial class KeysSetup
{
    public const string Section = "Exchange:Keys";

    public static WebApplicationBuilder AddExchangeKeys(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var keys = builder.Configuration.GetSection(Section).Get<KeysOptions>() ?? new KeysOptions();
        var dataDirectory = (builder.Configuration.GetSection(ExchangeOptions.Section).Get<ExchangeOptions>() ?? new ExchangeOptions()).FullDataDirectory;

        builder.Services.AddSingleton<IKeyEncryptionKeyProvider>(services => KeyProviders.Create(keys, dataDirectory, services));
        builder.Services.AddSingleton(services => new DataKeyCache(
            new DataKeyCacheOptions { TimeToLive = TimeSpan.FromSeconds(keys.CacheTimeToLiveSeconds), MaxEntries = keys.CacheMaxEntries },
            services.GetRequiredService<TimeProvider>()));
        builder.Services.AddScoped<IDataKeyStore, EfDataKeyStore>();
        builder.Services.AddScoped<DataKeyService>();
        builder.Services.AddScoped<FieldSealer>();
        var blindIndex = builder.Configuration.GetSection(Section + ":BlindIndex").Get<BlindIndexSettings>() ?? new BlindIndexSettings();
        builder.Services.AddSingleton(services => BlindIndexKeys.Load(blindIndex, keys, dataDirectory, services));
        builder.Services.AddScoped<BlindIndexReindexer>();
        builder.Services.AddScoped<IdentifierProtector>();
        builder.Services.AddHostedService<KeyProviderStartupCheck>();
        builder.Services.AddHostedService<KeyConsistencyCheck>(); // after the database initializer (registered by storage)
        builder.Services.AddHealthChecks().AddCheck<KeyProviderHealthCheck>("key-provider", tags: ["ready"]);
        return builder;
    }
}

/// <summary>Says loudly at start when the keys sit on the same disk as the data.</summary>
internal sealed partial class KeyProviderStartupCheck(IKeyEncryptionKeyProvider keks, ILogger<KeyProviderStartupCheck> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (!keks.IsProductionGrade)
        {
            LogLocalKeys(logger);
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Warning, Message = "Key-encryption keys are local files in the data directory: NOT SUITABLE FOR PRODUCTION. Set Exchange:Keys:Provider=AzureKeyVault.")]
    private static partial void LogLocalKeys(ILogger logger);
}

/// <summary>Ready only when the current KEK can wrap: the vault is reachable and lets us use the key.</summary>
internal sealed class KeyProviderHealthCheck(IKeyEncryptionKeyProvider keks) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var kek = await keks.GetCurrentAsync(cancellationToken).ConfigureAwait(false);
            await kek.WrapKeyAsync(keks.WrapAlgorithm, new byte[32], cancellationToken).ConfigureAwait(false);
            return HealthCheckResult.Healthy();
        }
        catch (KeyProviderException ex)
        {
            return HealthCheckResult.Unhealthy("The key provider cannot be used: " + ex.Message);
        }
    }
}
