using Exchange.Api.Configuration;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Exchange.Api.Storage;

public static class StorageSetup
{
    public static WebApplicationBuilder AddExchangeStorage(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = builder.Configuration.GetSection(ExchangeOptions.Section).Get<ExchangeOptions>() ?? new ExchangeOptions();
        var connectionString = builder.Configuration.GetConnectionString("Exchange");

        if (options.Database.IsPostgres)
        {
            if (string.IsNullOrWhiteSpace(connectionString))
            {
                throw new InvalidOperationException("Exchange:Database:Provider is Postgres but ConnectionStrings:Exchange is not set.");
            }

            builder.Services.AddDbContext<ExchangeDbContext, PostgresExchangeDbContext>(o => o.UseNpgsql(connectionString));
            builder.Services.AddSingleton<IWriteGate, OpenWriteGate>();
        }
        else if (string.Equals(options.Database.Provider, "Sqlite", StringComparison.OrdinalIgnoreCase))
        {
            StoreUnavailableException.Guard(UnavailableStore.DataDirectory, options.FullDataDirectory,
                () => PrivateFiles.CreateDirectory(options.FullDataDirectory));
            var sqlite = string.IsNullOrWhiteSpace(connectionString)
                ? $"Data Source={Path.Combine(options.FullDataDirectory, "exchange.db")};Pooling=True"
                : connectionString;
            StoreUnavailableException.Guard(UnavailableStore.Database, PrivateFiles.SqliteFileOf(sqlite), () => PrivateFiles.PrepareSqliteFile(sqlite));
            builder.Services.AddDbContext<ExchangeDbContext, SqliteExchangeDbContext>(o => o.UseSqlite(sqlite)
                .AddInterceptors(new SqliteSecureDeleteInterceptor()));
            builder.Services.AddSingleton<IWriteGate, SerialWriteGate>();
        }
        else
        {
            throw new InvalidOperationException("Exchange:Database:Provider must be Sqlite or Postgres.");
        }

        builder.Services.AddHostedService<DatabaseInitializer>();
        builder.Services.AddHealthChecks().AddCheck<DatabaseHealthCheck>("database", tags: ["ready"]);
        return builder;
    }
}

internal sealed class DatabaseHealthCheck(ExchangeDbContext db) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        await db.Database.CanConnectAsync(cancellationToken).ConfigureAwait(false)
            ? HealthCheckResult.Healthy()
            : HealthCheckResult.Unhealthy("The database cannot be reached.");
}
