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

    public RollCheckOptions RollCheck { get; set; } = new();

    public WebhookOptions Webhooks { get; set; } = new();
    public CohortOptions Cohort { get; set; } = new();

    public ChecksOptions Checks { get; set; } = new();

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

    /// <summary>The body limit of a batch route (attendance): 10,000 marks as JSON take about 1.2 MB.</summary>
    public long MaxBatchRequestBodyBytes { get; set; } = 4 * 1024 * 1024;

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

/// <summary>
/// How often a school may check its roll. A school checks its roll when pupils join, a few times a term; these
/// limits leave room for that and for retries, and bound how many identifiers a careless or hostile school can
/// try (every match is audited naming the child, whatever the limits). Counted from the stored checks over the
/// last 24 hours, so they hold across restarts and across instances.
/// </summary>
public sealed class RollCheckOptions
{
    /// <summary>Roll checks one school may make in any 24 hours.</summary>
    public int ChecksPer24Hours { get; set; } = 10;

    /// <summary>Pupils one school may check in any 24 hours, over all its checks: five rolls of the largest schools'.</summary>
    public int PupilsPer24Hours { get; set; } = 15_000;

    /// <summary>A check of more pupils than this (no school in England has a roll near it) raises a DPO alert.</summary>
    public int AlertAbovePupils { get; set; } = 3_000;
}

/// <summary>The scheduled checks (<c>Exchange:Checks</c>); what counts as missing education is <see cref="MissingEducationOptions"/>.</summary>
public sealed class ChecksOptions
{
    /// <summary>How often, on the service's clock, every child in care is checked; zero turns the checks off.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromHours(1);
}

/// <summary>The virtual school's cohort (docs/COHORT.md).</summary>
public sealed class CohortOptions
{
    public MissingEducationOptions MissingEducation { get; set; } = new();

    /// <summary>
    /// Children decided and read together (set queries over this many ids; the audit records one such chunk while the
    /// next is read). Larger: fewer queries, more memory per request. 10 to 5,000.
    /// </summary>
    public int ChunkSize { get; set; } = 1_000;
}

public sealed class MissingEducationOptions
{
    /// <summary>
    /// A child in care with a current school but no mark from it for this many school days (standard English terms,
    /// weekdays) is flagged as missing education. 1 to 60.
    /// </summary>
    public int SchoolDays { get; set; } = 10;
}
