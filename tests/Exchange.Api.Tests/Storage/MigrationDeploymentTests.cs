using System.Net;
using Exchange.Api.Tests.AuditReview;
using Exchange.Api.Tests.Infrastructure;
using Npgsql;

namespace Exchange.Api.Tests.Storage;

/// <summary>
/// Production on PostgreSQL: the owner role applies migrations with the <c>migrate</c> verb, and the service
/// runs as a role that may read and append to the audit log but never change or remove a row of it.
/// </summary>
public sealed class MigrationDeploymentTests
{
    /// <summary>Another instance of the service over the same storage and keys as <paramref name="first"/>, with its own settings.</summary>
    private sealed class SecondInstance : ExchangeApiFactory
    {
        public SecondInstance(ExchangeApiFactory first, StorageKind storage, IDictionary<string, string?> settings) : base(storage)
        {
            foreach (var file in Directory.GetFiles(first.DataDirectory, "*", SearchOption.AllDirectories))
            {
                var target = Path.Combine(DataDirectory, Path.GetRelativePath(first.DataDirectory, file));
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                File.Copy(file, target);
            }

            foreach (var (key, value) in settings)
            {
                Settings[key] = value;
            }
        }
    }

    [Fact]
    public async Task WithMigrationsLeftToTheDeploymentTheServiceRefusesAPendingSchemaUntilMigrateRuns()
    {
        IAsyncLifetime api = new ExchangeApiFactory(), started = null!;
        try
        {
            var first = (ExchangeApiFactory)api;
            first.Settings["Exchange:Database:ApplyMigrations"] = "false";
            var refused = Assert.ThrowsAny<Exception>(() => first.CreateClient());
            Assert.Contains("migration(s) pending", refused.ToString(), StringComparison.Ordinal);

            var migrate = await ApiProcess.RunAsync(new Dictionary<string, string> { ["Exchange__DataDirectory"] = first.DataDirectory, ["Exchange__Demo__SeedOrganisations"] = "true" }, "migrate");
            Assert.True(migrate.ExitCode == 0, migrate.All);
            Assert.Contains("Migrations applied", migrate.Output, StringComparison.Ordinal);

            var second = new SecondInstance(first, StorageKind.Sqlite, new Dictionary<string, string?> { ["Exchange:Database:ApplyMigrations"] = "false" });
            started = second;
            await Problem.ChildIdAsync(await second.Council202.RegisterAsync(new { nhsNumber = TestIdentifiers.NewNhs() }), HttpStatusCode.Created);
        }
        finally
        {
            await api.DisposeAsync();
            if (started is not null)
            {
                await started.DisposeAsync();
            }
        }
    }

    [SkippableFact]
    public async Task TheRestrictedServiceRoleFromTheReadmeServesButCannotRewriteTheAuditLog()
    {
        Postgres.SkipUnlessAvailable();
        var owner = new PostgresApiFactory();
        await ((IAsyncLifetime)owner).InitializeAsync();
        try
        {
            await RestrictedRoleServesAsync(owner);
        }
        finally
        {
            await ((IAsyncLifetime)owner).DisposeAsync();
        }
    }

    private static async Task RestrictedRoleServesAsync(PostgresApiFactory owner)
    {
        await Problem.ChildIdAsync(await owner.Council202.RegisterAsync(new { nhsNumber = TestIdentifiers.NewNhs() }), HttpStatusCode.Created);

        var role = "exchange_app_" + Guid.NewGuid().ToString("N")[..8];
        // As the README's PostgreSQL section says.
        await ExecuteAsync(owner.PostgresConnectionString!, $"""
            CREATE ROLE {role} LOGIN PASSWORD 'app-pw';
            GRANT USAGE ON SCHEMA public TO {role};
            GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role};
            REVOKE UPDATE, DELETE, TRUNCATE ON audit_entries, audit_nodes, audit_checkpoints FROM {role};
            """);
        var restricted = new NpgsqlConnectionStringBuilder(owner.PostgresConnectionString) { Username = role, Password = "app-pw" }.ConnectionString;
        var service = new SecondInstance(owner, StorageKind.Postgres, new Dictionary<string, string?>
        {
            ["ConnectionStrings:Exchange"] = restricted,
            ["Exchange:Database:ApplyMigrations"] = "false",
        });
        try
        {
            var childId = await Problem.ChildIdAsync(await service.Council202.RegisterAsync(new { nhsNumber = TestIdentifiers.NewNhs() }), HttpStatusCode.Created);
            Assert.NotEmpty(await service.EventsAsync($"childId={childId}"));

            foreach (var sql in new[] { "UPDATE audit_entries SET \"Decision\" = 'deny'", "DELETE FROM audit_nodes", "TRUNCATE audit_checkpoints", "DROP TRIGGER audit_entries_append_only ON audit_entries" })
            {
                var error = await Assert.ThrowsAsync<PostgresException>(() => ExecuteAsync(restricted, sql));
                Assert.True(error.SqlState is "42501", $"{sql}: {error.SqlState} {error.MessageText}"); // insufficient_privilege (incl. "must be owner")
            }
        }
        finally
        {
            await ((IAsyncLifetime)service).DisposeAsync();
            NpgsqlConnection.ClearAllPools();
            await ExecuteAsync(owner.PostgresConnectionString!, $"DROP OWNED BY {role}");
            await ExecuteAsync(Postgres.ServerConnectionString!, $"DROP ROLE {role}");
        }
    }

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
