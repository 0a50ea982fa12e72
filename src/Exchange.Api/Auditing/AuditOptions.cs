namespace Exchange.Api.Auditing;

/// <summary>The <c>Exchange:Audit</c> configuration section.</summary>
public sealed class AuditOptions
{
    public const string Section = "Exchange:Audit";

    /// <summary>The checkpoint origin and signing key name (the first line of every checkpoint).</summary>
    public string Origin { get; set; } = "exchange.local/audit";

    /// <summary>How often a new signed checkpoint is stored while the log grows.</summary>
    public TimeSpan CheckpointInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>The most events one group-commit transaction carries.</summary>
    public int MaxBatch { get; set; } = 4096;

    /// <summary>How long a request waits for its event to become durable before it answers 503.</summary>
    public TimeSpan AppendTimeout { get; set; } = TimeSpan.FromSeconds(10);

    public SigningKeyOptions SigningKey { get; set; } = new();

    /// <summary>
    /// Switches recording off so a benchmark can compare an endpoint with and without auditing in one
    /// run. Honoured only in the <c>Benchmark</c> environment; anywhere else start-up refuses it.
    /// </summary>
    public bool DisabledForBenchmark { get; set; }
}

public sealed class SigningKeyOptions
{
    /// <summary><c>File</c> (the data directory's <c>audit-signing.key</c>, created if absent) or <c>KeyVault</c>.</summary>
    public string Source { get; set; } = "File";

    /// <summary>The Key Vault secret holding the signer key string (<c>PRIVATE+KEY+name+id+base64</c>).</summary>
    public string? SecretName { get; set; }

    public string? SecretVersion { get; set; }

    public bool IsKeyVault => string.Equals(Source, "KeyVault", StringComparison.OrdinalIgnoreCase);
}
