namespace Exchange.Api.Configuration;

/// <summary>The <c>Exchange</c> configuration section.</summary>
public sealed class ExchangeOptions
{
    public const string Section = "Exchange";

    /// <summary>Holds the SQLite file and locally generated keys. Relative paths resolve against the working directory.</summary>
    public string DataDirectory { get; set; } = "./data";

    public DatabaseOptions Database { get; set; } = new();

    public AuthOptions Auth { get; set; } = new();

    public DemoOptions Demo { get; set; } = new();

    public LimitsOptions Limits { get; set; } = new();

    public string FullDataDirectory => Path.GetFullPath(DataDirectory);
}

public sealed class DatabaseOptions
{
    /// <summary><c>Sqlite</c> (embedded default) or <c>Postgres</c>.</summary>
    public string Provider { get; set; } = "Sqlite";

    public bool IsPostgres => string.Equals(Provider, "Postgres", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Apply pending migrations at start (the embedded default). Off in production on PostgreSQL, where the
    /// owner role runs the <c>migrate</c> verb and the service's own role may not alter the audit tables;
    /// the service then refuses to start while a migration is pending.
    /// </summary>
    public bool ApplyMigrations { get; set; } = true;
}

public sealed class AuthOptions
{
    /// <summary>The external OpenID Connect issuer; its discovery document and JWKS are trusted.</summary>
    public string? Authority { get; set; }

    public string Audience { get; set; } = "exchange";

    /// <summary>Only tests that serve discovery from a local stub turn this off.</summary>
    public bool RequireHttpsMetadata { get; set; } = true;

    public DevIssuerOptions DevIssuer { get; set; } = new();
}

public sealed class DevIssuerOptions
{
    /// <summary>Null means: on in the Development environment, off elsewhere.</summary>
    public bool? Enabled { get; set; }
}

public sealed class DemoOptions
{
    /// <summary>Null means: seed demo organisations into an empty database in the Development environment only.</summary>
    public bool? SeedOrganisations { get; set; }
}

public sealed class LimitsOptions
{
    public long MaxRequestBodyBytes { get; set; } = 1024 * 1024;

    /// <summary>Per calling client (client_id, else sub, else address), in a fixed one-minute window.</summary>
    public int RequestsPerMinute { get; set; } = 1200;

    /// <summary>
    /// Requests without a valid token, from all addresses together, in a fixed one-minute window (each address is
    /// also held to <see cref="RequestsPerMinute"/>). Nothing but the health probes answers such a request with
    /// anything but 401, so this only bounds how fast strangers can add refusals to the audit log.
    /// </summary>
    public int UnauthenticatedRequestsPerMinute { get; set; } = 600;

    /// <summary>Open identity review cases one organisation may have raised; beyond it conflicts still answer 409 but open no case.</summary>
    public int MaxOpenReviewsPerOrganisation { get; set; } = 500;
}
