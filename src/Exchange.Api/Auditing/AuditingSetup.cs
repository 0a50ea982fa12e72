using Exchange.Api.Auditing.Storage;
using Exchange.Api.Configuration;
using Exchange.Api.Storage;
using Exchange.Audit.Storage;
using Microsoft.EntityFrameworkCore;

namespace Exchange.Api.Auditing;

public static class AuditingSetup
{
    /// <summary>The audit store (its own SQLite file, or tables beside the others on PostgreSQL), the log and the recorder.</summary>
    public static WebApplicationBuilder AddExchangeAuditing(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.Configure<AuditOptions>(builder.Configuration.GetSection(AuditOptions.Section));
        var exchange = builder.Configuration.GetSection(ExchangeOptions.Section).Get<ExchangeOptions>() ?? new ExchangeOptions();
        if (exchange.Database.IsPostgres)
        {
            var connection = builder.Configuration.GetConnectionString("Audit") ?? builder.Configuration.GetConnectionString("Exchange");
            builder.Services.AddDbContextFactory<PostgresAuditDbContext>(o =>
                o.UseNpgsql(connection, n => n.MigrationsHistoryTable(AuditDbContext.HistoryTable)));
            builder.Services.AddSingleton(sp =>
            {
                var factory = sp.GetRequiredService<IDbContextFactory<PostgresAuditDbContext>>();
                return new AuditDatabase(factory.CreateDbContext, isSqlite: false);
            });
        }
        else
        {
            var connection = builder.Configuration.GetConnectionString("Audit")
                ?? $"Data Source={Path.Combine(exchange.FullDataDirectory, "audit.db")};Pooling=True";
            StoreUnavailableException.Guard(UnavailableStore.AuditStore, PrivateFiles.SqliteFileOf(connection), () => PrivateFiles.PrepareSqliteFile(connection));
            builder.Services.AddDbContextFactory<SqliteAuditDbContext>(o =>
                o.UseSqlite(connection, s => s.MigrationsHistoryTable(AuditDbContext.HistoryTable))
                    .AddInterceptors(new SqliteDurableCommitInterceptor()));
            builder.Services.AddSingleton(sp =>
            {
                var factory = sp.GetRequiredService<IDbContextFactory<SqliteAuditDbContext>>();
                return new AuditDatabase(factory.CreateDbContext, isSqlite: true);
            });
        }

        builder.Services.AddSingleton<IMerkleNodeStore, EfAuditStore>();
        builder.Services.AddSingleton<MerkleLog>();
        builder.Services.AddSingleton<AuditWriter>();
        builder.Services.AddScoped<AuditTrail>();
        builder.Services.AddSingleton<AuditCheckpoints>();
        builder.Services.AddHostedService<AuditStartupCheck>(); // after the database initializer (registered by storage)
        builder.Services.AddHostedService<AuditCheckpointer>();
        builder.Services.AddHttpContextAccessor();
        return builder;
    }

    /// <summary>After authentication (the actor is known), before authorization (its refusals are recorded too).</summary>
    public static IApplicationBuilder UseExchangeAuditing(this IApplicationBuilder app) => app.UseMiddleware<AuditMiddleware>();
}
