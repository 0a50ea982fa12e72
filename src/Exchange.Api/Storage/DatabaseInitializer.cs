using Exchange.Api.Configuration;
using Exchange.Api.Work;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Exchange.Api.Storage;

/// <summary>Applies migrations and seeds the organisations before the service takes requests.</summary>
internal sealed partial class DatabaseInitializer(
    IServiceScopeFactory scopes,
    Auditing.Storage.AuditDatabase audit,
    IOptions<ExchangeOptions> options,
    TimeProvider clock,
    IHostEnvironment environment,
    ILogger<DatabaseInitializer> logger) : IHostedService
{
    public const string OperatorId = "operator:exchange";

    /// <summary>Set by the <c>migrate</c> verb: apply migrations whatever the configuration says.</summary>
    internal static bool ForceMigrations { get; set; }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        using var scope = scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<ExchangeDbContext>();
        // Where each store is, for the start-up failure line: a file or a server, never the connection string.
        var database = db.Database.GetDbConnection().DataSource;
        const string auditStore = "the audit store";
        if (options.Value.Database.ApplyMigrations || ForceMigrations)
        {
            await StoreUnavailableException.GuardAsync(UnavailableStore.Database, database, async () =>
            {
                await db.Database.MigrateAsync(cancellationToken).ConfigureAwait(false);
                return true;
            }).ConfigureAwait(false);
            // After the main migrations: on PostgreSQL those once held the audit tables and drop them first.
            await StoreUnavailableException.GuardAsync(UnavailableStore.AuditStore, auditStore, async () =>
            {
                await audit.MigrateAsync(cancellationToken).ConfigureAwait(false);
                return true;
            }).ConfigureAwait(false);
        }
        else
        {
            await using var auditDb = audit.Create();
            var pending = (await StoreUnavailableException.GuardAsync(UnavailableStore.Database, database,
                    () => db.Database.GetPendingMigrationsAsync(cancellationToken)).ConfigureAwait(false))
                .Concat(await StoreUnavailableException.GuardAsync(UnavailableStore.AuditStore, auditStore,
                    () => auditDb.Database.GetPendingMigrationsAsync(cancellationToken)).ConfigureAwait(false)).ToList();
            if (pending.Count > 0)
            {
                throw new InvalidOperationException(
                    $"The database schema is behind this version ({pending.Count} migration(s) pending, e.g. {pending[0]}), and Exchange:Database:ApplyMigrations is off. "
                    + "Run the 'migrate' verb as the owner role first (see the README, PostgreSQL).");
            }
        }

        if (db.Database.IsSqlite())
        {
            // WAL lets readers proceed while the single writer commits.
            await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", cancellationToken).ConfigureAwait(false);
        }

        var now = clock.GetUtcNow();
        var empty = !await db.Organisations.AnyAsync(cancellationToken).ConfigureAwait(false);
        if (!await db.Organisations.AnyAsync(o => o.Id == OperatorId, cancellationToken).ConfigureAwait(false))
        {
            db.Organisations.Add(new Organisation { Id = OperatorId, Kind = OrganisationKind.Operator, Name = "Exchange operator", CreatedAt = now });
        }

        // Demo organisations (real LA numbers, fictional schools) belong in Development only, unless asked for.
        var seedDemo = options.Value.Demo.SeedOrganisations ?? environment.IsDevelopment();
        if (empty && seedDemo)
        {
            db.Organisations.AddRange(DemoOrganisations.Create(now));
            LogSeeded(logger, DemoOrganisations.Count);
        }

        // Start-up seeding is a writer outside any request: its own unit of work, with no request event.
        var work = scope.ServiceProvider.GetRequiredService<UnitOfWork>();
        await work.BeginAsync(cancellationToken).ConfigureAwait(false);
        await work.CommitAsync(Outcome.Background, cancellationToken).ConfigureAwait(false);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(EventId = 9503, EventName = "DemoOrganisationsSeeded", Level = LogLevel.Information, Message = "Seeded {Count} demo organisations into the empty database")]
    private static partial void LogSeeded(ILogger logger, int count);
}

/// <summary>The demo organisations of the embedded default (listed in the README).</summary>
public static class DemoOrganisations
{
    public const int Count = 5;

    public static IEnumerable<Organisation> Create(DateTimeOffset now) =>
    [
        new() { Id = "la:202", Kind = OrganisationKind.Council, Name = "Camden (demo)", LaNumber = "202", CreatedAt = now },
        new() { Id = "la:209", Kind = OrganisationKind.Council, Name = "Lewisham (demo)", LaNumber = "209", CreatedAt = now },
        new() { Id = "school:100001", Kind = OrganisationKind.School, Name = "Camden Demo Primary School", LaNumber = "202", CreatedAt = now },
        new() { Id = "school:100002", Kind = OrganisationKind.School, Name = "Lewisham Demo Academy", LaNumber = "209", CreatedAt = now },
        new() { Id = "health:ZZ901", Kind = OrganisationKind.Health, Name = "Demo Community Health NHS Trust", CreatedAt = now },
    ];
}
