using Microsoft.EntityFrameworkCore;

namespace Exchange.Api.Storage;

/// <summary>
/// The model, shared by both providers. Each provider has its own subclass so that each
/// keeps its own migrations (types differ: BLOB/bytea, JSON/array).
/// </summary>
public abstract class ExchangeDbContext(DbContextOptions options) : DbContext(options)
{
    public DbSet<Organisation> Organisations => Set<Organisation>();
    public DbSet<Child> Children => Set<Child>();
    public DbSet<ChildIdentifier> ChildIdentifiers => Set<ChildIdentifier>();
    public DbSet<CareEpisode> CareEpisodes => Set<CareEpisode>();
    public DbSet<IdentityReview> IdentityReviews => Set<IdentityReview>();
    public DbSet<IdentityReviewIdentifier> IdentityReviewIdentifiers => Set<IdentityReviewIdentifier>();
    public DbSet<ChildMerge> ChildMerges => Set<ChildMerge>();
    public DbSet<DataKeyRecord> DataKeys => Set<DataKeyRecord>();
    public DbSet<KeyCheck> KeyChecks => Set<KeyCheck>();
    public DbSet<AuditHead> AuditHeads => Set<AuditHead>();
    public DbSet<ChildRelationship> ChildRelationships => Set<ChildRelationship>();
    public DbSet<ConsentRecord> Consents => Set<ConsentRecord>();
    public DbSet<ProcessingLimit> ProcessingLimits => Set<ProcessingLimit>();
    public DbSet<BreakGlassGrant> BreakGlassGrants => Set<BreakGlassGrant>();
    public DbSet<CareHandover> CareHandovers => Set<CareHandover>();
    public DbSet<DpoAlert> DpoAlerts => Set<DpoAlert>();
    public DbSet<RollCheck> RollChecks => Set<RollCheck>();
    public DbSet<RollCheckMatch> RollCheckMatches => Set<RollCheckMatch>();
    public DbSet<OutboxItem> OutboxItems => Set<OutboxItem>();
    public DbSet<Subscription> Subscriptions => Set<Subscription>();
    public DbSet<WebhookDelivery> WebhookDeliveries => Set<WebhookDelivery>();
    public DbSet<AttendanceMark> AttendanceMarks => Set<AttendanceMark>();
    public DbSet<AttendanceYearCount> AttendanceYearCounts => Set<AttendanceYearCount>();
    public DbSet<IdempotencyRecord> IdempotencyRecords => Set<IdempotencyRecord>();
    public DbSet<Exclusion> Exclusions => Set<Exclusion>();
    public DbSet<CheckAlert> CheckAlerts => Set<CheckAlert>();
    public DbSet<PepVersion> PepVersions => Set<PepVersion>();

    /// <summary>
    /// The unit of work that holds this context's transaction, while one is open (it sets and clears this). Typed as
    /// object because the unit of work sits above Storage (it joins the database, the write gate and the audit trail).
    /// </summary>
    internal object? Work { get; set; }

    // No hidden writer: a save outside a unit of work would skip the write gate, the transaction and the audit event.
    public override int SaveChanges(bool acceptAllChangesOnSuccess)
    {
        EnsureInUnitOfWork();
        BeforeSave();
        return base.SaveChanges(acceptAllChangesOnSuccess);
    }

    public override async Task<int> SaveChangesAsync(bool acceptAllChangesOnSuccess, CancellationToken cancellationToken = default)
    {
        EnsureInUnitOfWork();
        await BeforeSaveAsync(cancellationToken).ConfigureAwait(false);
        return await base.SaveChangesAsync(acceptAllChangesOnSuccess, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Takes the lease of a periodic job (<paramref name="key"/> names the job) for as long as the returned handle is
    /// held, or answers null when another instance holds it, so that instances sharing a database do not all repeat the
    /// same run. SQLite serves one instance: the lease is always granted.
    /// </summary>
    public virtual Task<IAsyncDisposable?> TryLeaseAsync(long key, CancellationToken cancellationToken) =>
        Task.FromResult<IAsyncDisposable?>(NoLease.Instance);

    private sealed class NoLease : IAsyncDisposable
    {
        public static readonly NoLease Instance = new();

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    /// <summary>What a provider must do inside the transaction before the changes are written.</summary>
    protected virtual Task BeforeSaveAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc cref="BeforeSaveAsync"/>
    protected virtual void BeforeSave()
    {
    }

    /// <summary>Whether the changes about to be saved add an outbox item.</summary>
    protected bool AddsOutboxItems()
    {
        foreach (var entry in ChangeTracker.Entries<OutboxItem>())
        {
            if (entry.State == EntityState.Added)
            {
                return true;
            }
        }

        return false;
    }

    private void EnsureInUnitOfWork()
    {
        if (Work is null)
        {
            throw new InvalidOperationException("The database is written only through a unit of work (Work/UnitOfWork.cs): BeginAsync, then CommitAsync.");
        }
    }

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        ArgumentNullException.ThrowIfNull(modelBuilder);

        modelBuilder.Entity<Organisation>(e =>
        {
            e.ToTable("organisations");
            e.Property(o => o.Id).HasMaxLength(64);
            e.Property(o => o.Name).HasMaxLength(200);
            e.Property(o => o.LaNumber).HasMaxLength(3);
        });

        modelBuilder.Entity<Child>(e =>
        {
            e.ToTable("children");
            e.Property(c => c.Id).HasMaxLength(32);
            e.Property(c => c.MergedIntoChildId).HasMaxLength(32);
            e.Property(c => c.CreatedByOrganisation).HasMaxLength(64);
        });

        modelBuilder.Entity<ChildIdentifier>(e =>
        {
            e.ToTable("child_identifiers");
            e.Property(i => i.ChildId).HasMaxLength(32);
            e.Property(i => i.Type).HasMaxLength(16);
            e.Property(i => i.LinkedByOrganisation).HasMaxLength(64);
            e.Property(i => i.IndexKeyVersion).HasMaxLength(64).HasDefaultValue("v1");
            e.HasIndex(i => i.IndexKeyVersion); // re-indexing finds rows on older versions
            // One identifier value belongs to at most one child: the database enforces it.
            e.HasIndex(i => new { i.Type, i.BlindIndex }).IsUnique();
            e.HasIndex(i => i.ChildId);
            e.HasOne<Child>().WithMany().HasForeignKey(i => i.ChildId).OnDelete(DeleteBehavior.Restrict);
        });

        modelBuilder.Entity<CareEpisode>(e =>
        {
            e.ToTable("care_episodes");
            e.Property(c => c.ChildId).HasMaxLength(32);
            e.Property(c => c.ResponsibleLaNumber).HasMaxLength(3);
            e.HasIndex(c => c.ChildId);
            e.HasOne<Child>().WithMany().HasForeignKey(c => c.ChildId).OnDelete(DeleteBehavior.Restrict);
        });

        modelBuilder.Entity<IdentityReview>(e =>
        {
            e.ToTable("identity_reviews");
            e.Property(r => r.Id).HasMaxLength(32);
            e.Property(r => r.Reason).HasMaxLength(64);
            e.Property(r => r.RaisedByOrganisation).HasMaxLength(64);
            e.Property(r => r.ClosedBy).HasMaxLength(200);
            e.Property(r => r.SurvivorChildId).HasMaxLength(32);
            e.Property(r => r.ConflictKey).HasMaxLength(64);
            e.HasIndex(r => new { r.Status, r.CreatedAt });
            // One open case per conflict: a concurrent duplicate fails here and its retry finds the case.
            e.HasIndex(r => r.ConflictKey).IsUnique().HasFilter("\"Status\" = 0");
            e.HasMany(r => r.Identifiers).WithOne().HasForeignKey(i => i.ReviewId);
        });

        modelBuilder.Entity<IdentityReviewIdentifier>(e =>
        {
            e.ToTable("identity_review_identifiers");
            e.Property(i => i.ReviewId).HasMaxLength(32);
            e.Property(i => i.Type).HasMaxLength(16);
            e.Property(i => i.MatchedChildId).HasMaxLength(32);
            e.Property(i => i.IndexKeyVersion).HasMaxLength(64).HasDefaultValue("v1");
        });

        modelBuilder.Entity<ChildRelationship>(e =>
        {
            e.ToTable("child_relationships");
            e.Property(r => r.ChildId).HasMaxLength(32);
            e.Property(r => r.Kind).HasMaxLength(32);
            e.Property(r => r.OrganisationId).HasMaxLength(64);
            e.Property(r => r.RecordedBy).HasMaxLength(64);
            // The same fact recorded twice (a retry) is one row: the second answer finds the first.
            e.HasIndex(r => new { r.ChildId, r.Kind, r.OrganisationId, r.StartDate }).IsUnique();
            e.HasIndex(r => new { r.OrganisationId, r.Kind });
            e.HasOne<Child>().WithMany().HasForeignKey(r => r.ChildId).OnDelete(DeleteBehavior.Restrict);
        });

        modelBuilder.Entity<ConsentRecord>(e =>
        {
            e.ToTable("consents");
            e.Property(c => c.ChildId).HasMaxLength(32);
            e.Property(c => c.GivenBy).HasMaxLength(32);
            e.Property(c => c.RecordedBy).HasMaxLength(64);
            e.HasIndex(c => c.ChildId);
            e.HasOne<Child>().WithMany().HasForeignKey(c => c.ChildId).OnDelete(DeleteBehavior.Restrict);
        });

        modelBuilder.Entity<ProcessingLimit>(e =>
        {
            e.ToTable("processing_limits");
            e.Property(l => l.ChildId).HasMaxLength(32);
            e.Property(l => l.Kind).HasMaxLength(16);
            e.Property(l => l.RecordedBy).HasMaxLength(64);
            e.Property(l => l.Authority).HasMaxLength(16);
            e.HasIndex(l => new { l.ChildId, l.Kind, l.RecordedAt });
            e.HasOne<Child>().WithMany().HasForeignKey(l => l.ChildId).OnDelete(DeleteBehavior.Restrict);
        });

        modelBuilder.Entity<BreakGlassGrant>(e =>
        {
            e.ToTable("break_glass_grants");
            e.Property(g => g.ChildId).HasMaxLength(32);
            e.Property(g => g.OrganisationId).HasMaxLength(64);
            e.Property(g => g.Subject).HasMaxLength(200);
            e.HasIndex(g => new { g.ChildId, g.OrganisationId, g.Subject, g.ExpiresAt });
            e.HasIndex(g => g.StartsAt);
            e.HasOne<Child>().WithMany().HasForeignKey(g => g.ChildId).OnDelete(DeleteBehavior.Restrict);
        });

        modelBuilder.Entity<CareHandover>(e =>
        {
            e.ToTable("care_handovers");
            e.Property(h => h.ChildId).HasMaxLength(32);
            e.Property(h => h.FromLaNumber).HasMaxLength(3);
            e.Property(h => h.ToLaNumber).HasMaxLength(3);
            e.Property(h => h.RecordedBy).HasMaxLength(64);
            e.Property(h => h.RevokedBy).HasMaxLength(64);
            e.HasIndex(h => new { h.ChildId, h.ToLaNumber });
            e.HasOne<Child>().WithMany().HasForeignKey(h => h.ChildId).OnDelete(DeleteBehavior.Restrict);
        });

        modelBuilder.Entity<DpoAlert>(e =>
        {
            e.ToTable("dpo_alerts");
            e.Property(a => a.Kind).HasMaxLength(32);
            e.Property(a => a.ChildId).HasMaxLength(32);
            e.Property(a => a.RaisedBy).HasMaxLength(64);
            e.HasIndex(a => a.RaisedAt);
            e.HasOne<Child>().WithMany().HasForeignKey(a => a.ChildId).OnDelete(DeleteBehavior.Restrict);
        });

        modelBuilder.Entity<RollCheck>(e =>
        {
            e.ToTable("roll_checks");
            e.Property(r => r.SchoolId).HasMaxLength(64);
            e.HasIndex(r => new { r.SchoolId, r.CheckedAt });
        });

        modelBuilder.Entity<RollCheckMatch>(e =>
        {
            e.ToTable("roll_check_matches");
            e.Property(m => m.SchoolId).HasMaxLength(64);
            e.Property(m => m.ChildId).HasMaxLength(32);
            e.HasIndex(m => new { m.ChildId, m.SchoolId, m.CheckedOn });
            e.HasOne<RollCheck>().WithMany().HasForeignKey(m => m.RollCheckId).OnDelete(DeleteBehavior.Restrict);
            e.HasOne<Child>().WithMany().HasForeignKey(m => m.ChildId).OnDelete(DeleteBehavior.Restrict);
        });

        modelBuilder.Entity<OutboxItem>(e =>
        {
            e.ToTable("outbox_items");
            e.HasKey(o => o.Sequence);
            e.Property(o => o.Sequence).ValueGeneratedOnAdd();
            e.HasIndex(o => o.Id).IsUnique();
            e.Property(o => o.Type).HasMaxLength(32);
            e.Property(o => o.ChildId).HasMaxLength(32);
            e.Property(o => o.RaisedBy).HasMaxLength(64);
            e.HasIndex(o => o.OccurredAt);
            e.HasIndex(o => o.ChildId);
            e.HasOne<Child>().WithMany().HasForeignKey(o => o.ChildId).OnDelete(DeleteBehavior.Restrict);
        });

        modelBuilder.Entity<Subscription>(e =>
        {
            e.ToTable("subscriptions");
            e.Property(s => s.Id).HasMaxLength(32);
            e.Property(s => s.OrganisationId).HasMaxLength(64);
            e.Property(s => s.Roles).HasMaxLength(256);
            e.Property(s => s.Purpose).HasMaxLength(64);
            e.Property(s => s.Url).HasMaxLength(Subscription.MaxUrlLength);
            e.Property(s => s.EventTypes).HasMaxLength(512);
            e.Property(s => s.CreatedBy).HasMaxLength(256);
            e.HasIndex(s => new { s.OrganisationId, s.CreatedAt });
            e.Ignore(s => s.RoleList);
            e.Ignore(s => s.EventTypeList);
        });

        modelBuilder.Entity<WebhookDelivery>(e =>
        {
            e.ToTable("webhook_deliveries");
            e.Property(d => d.SubscriptionId).HasMaxLength(32);
            e.Property(d => d.Type).HasMaxLength(32);
            e.Property(d => d.ChildId).HasMaxLength(32);
            e.Property(d => d.State).HasMaxLength(16);
            e.Property(d => d.LastError).HasMaxLength(32);
            // An item is queued for a subscription once, however many instances fan out at the same moment.
            e.HasIndex(d => new { d.SubscriptionId, d.Sequence }).IsUnique();
            e.HasIndex(d => new { d.State, d.NextAttemptAt });
            e.HasOne<Subscription>().WithMany().HasForeignKey(d => d.SubscriptionId).OnDelete(DeleteBehavior.Cascade);
        });

        modelBuilder.Entity<CheckAlert>(e =>
        {
            e.ToTable("check_alerts");
            e.Property(a => a.ChildId).HasMaxLength(32);
            e.Property(a => a.Kind).HasMaxLength(32);
            // One open alert per child and kind: a second instance raising the same one at the same moment fails to commit.
            e.HasIndex(a => new { a.ChildId, a.Kind }).IsUnique().HasFilter("\"ClearedAt\" IS NULL");
            e.HasOne<Child>().WithMany().HasForeignKey(a => a.ChildId).OnDelete(DeleteBehavior.Restrict);
        });

        modelBuilder.Entity<Exclusion>(e =>
        {
            e.ToTable("exclusions");
            e.Property(x => x.ChildId).HasMaxLength(32);
            e.Property(x => x.SchoolId).HasMaxLength(64);
            e.Property(x => x.Type).HasMaxLength(32);
            e.Property(x => x.ReasonCode).HasMaxLength(2);
            // The same exclusion sent again (a retry) is the one already held: one per child, school, type and day.
            e.HasIndex(x => new { x.ChildId, x.SchoolId, x.Type, x.StartDate }).IsUnique();
            e.HasOne<Child>().WithMany().HasForeignKey(x => x.ChildId).OnDelete(DeleteBehavior.Restrict);
        });

        modelBuilder.Entity<PepVersion>(e =>
        {
            e.ToTable("pep_versions");
            e.Property(p => p.ChildId).HasMaxLength(32);
            e.Property(p => p.Status).HasMaxLength(16);
            e.Property(p => p.Quality).HasMaxLength(8);
            e.Property(p => p.SchoolId).HasMaxLength(64);
            e.Property(p => p.RecordedBy).HasMaxLength(64);
            // One row per version: two saves racing for the same next version cannot both land.
            e.HasIndex(p => new { p.ChildId, p.Version }).IsUnique();
            e.HasOne<Child>().WithMany().HasForeignKey(p => p.ChildId).OnDelete(DeleteBehavior.Restrict);
        });

        modelBuilder.Entity<AttendanceMark>(e =>
        {
            e.ToTable("attendance_marks");
            e.Property(m => m.ChildId).HasMaxLength(32);
            e.Property(m => m.SchoolId).HasMaxLength(64);
            e.Property(m => m.Session).HasMaxLength(2);
            e.Property(m => m.Code).HasMaxLength(2);
            e.HasIndex(m => new { m.ChildId, m.Date });
            // One current mark per child, school, day and session; the replaced ones are its history.
            e.HasIndex(m => new { m.ChildId, m.SchoolId, m.Date, m.Session }).IsUnique().HasFilter("\"ReplacedAt\" IS NULL");
            e.HasOne<Child>().WithMany().HasForeignKey(m => m.ChildId).OnDelete(DeleteBehavior.Restrict);
        });

        modelBuilder.Entity<AttendanceYearCount>(e =>
        {
            e.ToTable("attendance_year_counts");
            e.HasKey(c => new { c.ChildId, c.SchoolId, c.YearStart });
            e.Property(c => c.ChildId).HasMaxLength(32);
            e.Property(c => c.SchoolId).HasMaxLength(64);
            e.HasOne<Child>().WithMany().HasForeignKey(c => c.ChildId).OnDelete(DeleteBehavior.Restrict);
        });

        modelBuilder.Entity<IdempotencyRecord>(e =>
        {
            e.ToTable("idempotency_records");
            e.HasKey(r => new { r.OrganisationId, r.KeyHash });
            e.Property(r => r.OrganisationId).HasMaxLength(64);
            e.Property(r => r.Operation).HasMaxLength(64);
            e.HasIndex(r => r.CreatedAt);
        });

        modelBuilder.Entity<AuditHead>(e =>
        {
            e.ToTable("audit_heads");
            e.HasKey(h => h.Name);
            e.Property(h => h.Name).HasMaxLength(16);
        });

        modelBuilder.Entity<KeyCheck>(e =>
        {
            e.ToTable("key_checks");
            e.HasKey(k => k.Name);
            e.Property(k => k.Name).HasMaxLength(64);
            e.Property(k => k.Fingerprint).HasMaxLength(64);
        });

        modelBuilder.Entity<DataKeyRecord>(e =>
        {
            e.ToTable("data_keys");
            e.HasKey(k => k.OwnerId);
            e.Property(k => k.OwnerId).HasMaxLength(32);
            e.Property(k => k.KekKeyId).HasMaxLength(400);
            e.Property(k => k.Algorithm).HasMaxLength(32);
            e.HasIndex(k => k.KekKeyId); // rotation finds keys not on the current KEK
        });

        modelBuilder.Entity<ChildMerge>(e =>
        {
            e.ToTable("child_merges");
            e.Property(m => m.ReviewId).HasMaxLength(32);
            e.Property(m => m.SurvivorChildId).HasMaxLength(32);
            e.Property(m => m.MergedChildId).HasMaxLength(32);
            e.Property(m => m.MergedBy).HasMaxLength(200);
        });
    }
}

public sealed class SqliteExchangeDbContext(DbContextOptions<SqliteExchangeDbContext> options) : ExchangeDbContext(options)
{
    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        ArgumentNullException.ThrowIfNull(configurationBuilder);
        // SQLite cannot compare or order DateTimeOffset text; UTC ticks in an integer can.
        configurationBuilder.Properties<DateTimeOffset>().HaveConversion<Microsoft.EntityFrameworkCore.Storage.ValueConversion.DateTimeOffsetToBinaryConverter>();
    }
}

public sealed class PostgresExchangeDbContext(DbContextOptions<PostgresExchangeDbContext> options) : ExchangeDbContext(options)
{
    /// <summary>The advisory lock that orders outbox writers (any fixed number; this one spells "outbox").</summary>
    public const long OutboxLock = 0x6F7574626F78;

    /// <summary>
    /// A transaction that adds outbox items first takes <see cref="OutboxLock"/>, held until it commits or rolls back.
    /// PostgreSQL numbers an item when it is inserted, but the item becomes visible when its transaction commits; without
    /// the lock a later-numbered item could be read (and a reader's cursor moved past it) while an earlier one was still
    /// uncommitted, and that one would never be read. With it, items commit in the order of their numbers, so a reader
    /// of <c>Sequence &gt; cursor</c> misses nothing (SQLite gets the same from its single writer). Only the writers of
    /// outbox items wait for one another, and only from their save to their commit.
    /// </summary>
    protected override Task BeforeSaveAsync(CancellationToken cancellationToken) =>
        AddsOutboxItems() ? Database.ExecuteSqlRawAsync(TakeOutboxLock, cancellationToken) : Task.CompletedTask;

    /// <inheritdoc cref="BeforeSaveAsync"/>
    protected override void BeforeSave()
    {
        if (AddsOutboxItems())
        {
            Database.ExecuteSqlRaw(TakeOutboxLock);
        }
    }

    /// <summary>
    /// A session-level advisory lock on a connection this context keeps open until the handle is disposed. If the
    /// instance dies, its session ends and the lock with it; a connection returned to the pool without the unlock is
    /// reset (Npgsql's <c>DISCARD ALL</c> releases advisory locks) when it is next used.
    /// </summary>
    public override async Task<IAsyncDisposable?> TryLeaseAsync(long key, CancellationToken cancellationToken)
    {
        await Database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var taken = false;
        try
        {
            taken = await Database.SqlQuery<bool>($"SELECT pg_try_advisory_lock({key}) AS \"Value\"").SingleAsync(cancellationToken).ConfigureAwait(false);
            return taken ? new Lease(this, key) : null;
        }
        finally
        {
            if (!taken)
            {
                await Database.CloseConnectionAsync().ConfigureAwait(false);
            }
        }
    }

    private sealed class Lease(PostgresExchangeDbContext db, long key) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            try
            {
                await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_unlock({key})", CancellationToken.None).ConfigureAwait(false);
            }
            finally
            {
                await db.Database.CloseConnectionAsync().ConfigureAwait(false);
            }
        }
    }

    private static readonly string TakeOutboxLock = "SELECT pg_advisory_xact_lock(" + OutboxLock.ToString(System.Globalization.CultureInfo.InvariantCulture) + ")";
}
