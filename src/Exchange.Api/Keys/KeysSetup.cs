using Exchange.Api.Configuration;
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

    /// <summary>How long a readiness probe's answer about the key provider is reused (probes need no token).</summary>
    public int HealthProbeCacheSeconds { get; set; } = 15;

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
        builder.Services.AddSingleton(new KeyHealthMemo(TimeSpan.FromSeconds(keys.HealthProbeCacheSeconds)));
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

    [LoggerMessage(EventId = 9405, EventName = "LocalKeysInUse", Level = LogLevel.Warning, Message = "Key-encryption keys are local files in the data directory: NOT SUITABLE FOR PRODUCTION. Set Exchange:Keys:Provider=AzureKeyVault.")]
    private static partial void LogLocalKeys(ILogger logger);
}

/// <summary>
/// Ready only when the current KEK can wrap: the vault is reachable and lets us use the key. The
/// answer is kept for 15 seconds, so probes (which need no token) cannot spend vault operations.
/// </summary>
internal sealed class KeyProviderHealthCheck(IKeyEncryptionKeyProvider keks, TimeProvider clock, KeyHealthMemo memo) : IHealthCheck
{
    private TimeSpan Freshness => memo.Freshness;
    private SemaphoreSlim OneProbe => memo.OneProbe;

    private (DateTimeOffset At, HealthCheckResult Result)? _last
    {
        get => memo.Last;
        set => memo.Last = value;
    }

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (_last is { } fresh && clock.GetUtcNow() - fresh.At < Freshness)
        {
            return fresh.Result;
        }

        await OneProbe.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_last is { } recent && clock.GetUtcNow() - recent.At < Freshness)
            {
                return recent.Result;
            }

            var result = await ProbeAsync(cancellationToken).ConfigureAwait(false);
            _last = (clock.GetUtcNow(), result);
            return result;
        }
        finally
        {
            OneProbe.Release();
        }
    }

    private async Task<HealthCheckResult> ProbeAsync(CancellationToken cancellationToken)
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

/// <summary>The last key-provider probe, shared by the (transient) health checks of one service.</summary>
internal sealed class KeyHealthMemo(TimeSpan freshness) : IDisposable
{
    public TimeSpan Freshness { get; } = freshness;
    public SemaphoreSlim OneProbe { get; } = new(1, 1);
    public (DateTimeOffset At, HealthCheckResult Result)? Last { get; set; }

    public void Dispose() => OneProbe.Dispose();
}
