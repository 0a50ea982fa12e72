using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace Exchange.Api.Auditing.Storage;

/// <summary>
/// The audit log's own store. On SQLite it is a separate file (<c>audit.db</c>), so a request that holds
/// the main database's write lock can still make its audit event durable before it commits; on PostgreSQL
/// the tables sit beside the others, with their own migrations history.
/// </summary>
public abstract class AuditDbContext(DbContextOptions options) : DbContext(options)
{
    public const string HistoryTable = "__audit_migrations";

    public DbSet<AuditEntryRecord> Entries => Set<AuditEntryRecord>();
    public DbSet<AuditNodeRecord> Nodes => Set<AuditNodeRecord>();
    public DbSet<AuditCheckpointRecord> Checkpoints => Set<AuditCheckpointRecord>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        ArgumentNullException.ThrowIfNull(modelBuilder);
        modelBuilder.Entity<AuditEntryRecord>(e =>
        {
            e.ToTable("audit_entries");
            e.HasKey(a => a.Index);
            e.Property(a => a.Index).ValueGeneratedNever();
            // No length limits on the copied columns: a long token claim must never make an append fail.
            // The DPO search filters on these and pages newest first by index.
            e.HasIndex(a => new { a.ChildId, a.Index });
            e.HasIndex(a => new { a.ActorOrganisation, a.Index });
        });

        modelBuilder.Entity<AuditNodeRecord>(e =>
        {
            e.ToTable("audit_nodes");
            e.HasKey(a => new { a.Level, a.Index });
        });

        modelBuilder.Entity<AuditCheckpointRecord>(e =>
        {
            e.ToTable("audit_checkpoints");
            e.HasKey(c => c.TreeSize);
            e.Property(c => c.TreeSize).ValueGeneratedNever();
        });
    }
}

public sealed class SqliteAuditDbContext(DbContextOptions<SqliteAuditDbContext> options) : AuditDbContext(options);

public sealed class PostgresAuditDbContext(DbContextOptions<PostgresAuditDbContext> options) : AuditDbContext(options);

// Used only by `dotnet ef migrations add`; no database is contacted.
internal sealed class SqliteAuditDesignTimeFactory : IDesignTimeDbContextFactory<SqliteAuditDbContext>
{
    public SqliteAuditDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<SqliteAuditDbContext>()
            .UseSqlite("Data Source=design-audit.db", o => o.MigrationsHistoryTable(AuditDbContext.HistoryTable)).Options);
}

internal sealed class PostgresAuditDesignTimeFactory : IDesignTimeDbContextFactory<PostgresAuditDbContext>
{
    public PostgresAuditDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<PostgresAuditDbContext>()
            .UseNpgsql("Host=localhost;Database=design", o => o.MigrationsHistoryTable(AuditDbContext.HistoryTable)).Options);
}
