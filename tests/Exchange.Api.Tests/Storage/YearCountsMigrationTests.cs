using Exchange.Api.Attendance;
using Exchange.Api.Storage;
using Exchange.Api.Tests.Infrastructure;
using Exchange.Api.Work;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Exchange.Api.Tests.Storage;

/// <summary>
/// The migration that adds the year's attendance counts counts the marks a database already holds (each provider has
/// its own SQL for the academic year of a date): a database with marks from before it gets the counts the attendance
/// batches would have kept.
/// </summary>
public sealed class YearCountsMigrationTests
{
    private const string Before = "ChildChecks"; // by name: each provider has its own migration ids

    /// <summary>
    /// The migration counts with its own copy of how each code counts. Should the codes' meaning change, this fails:
    /// the counts already held would then need a migration that counts the marks again.
    /// </summary>
    [Fact]
    public void TheMigrationCountsEachCodeAsTheServiceDoes()
    {
        string[] Codes(SessionCount kind) => AttendanceCodes.All.Where(c => c.Counts == kind).Select(c => c.Code).ToArray();
        Assert.Equal(["/", "\\", "L", "K", "V", "P", "W", "B"], Codes(SessionCount.Attended));
        Assert.Equal(["C1", "C2", "C", "M", "J1", "S", "T", "R", "I", "E"], Codes(SessionCount.AuthorisedAbsence));
        Assert.Equal(["G", "N", "O", "U"], Codes(SessionCount.UnauthorisedAbsence));
        foreach (var migration in Directory.GetFiles(Path.Combine(OpenApiContract.RepoRoot(), "src/Exchange.Api/Storage/Migrations"), "*_AttendanceYearCounts.cs", SearchOption.AllDirectories))
        {
            var text = File.ReadAllText(migration);
            Assert.Contains("const string Attended = \"'/', '\\\\', 'L', 'K', 'V', 'P', 'W', 'B'\";", text, StringComparison.Ordinal);
            Assert.Contains("const string Authorised = \"'C1', 'C2', 'C', 'M', 'J1', 'S', 'T', 'R', 'I', 'E'\";", text, StringComparison.Ordinal);
            Assert.Contains("const string Unauthorised = \"'G', 'N', 'O', 'U'\";", text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task OnSqliteTheMarksAlreadyHeldAreCounted()
    {
        var file = Path.Combine(Path.GetTempPath(), $"yearcounts-{Guid.NewGuid():N}.db");
        try
        {
            var options = new DbContextOptionsBuilder<SqliteExchangeDbContext>().UseSqlite($"Data Source={file};Pooling=False").Options;
            await using var db = new SqliteExchangeDbContext(options);
            await AssertBackfillAsync(db);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [SkippableFact]
    public async Task OnPostgresTheMarksAlreadyHeldAreCounted()
    {
        Postgres.SkipUnlessAvailable();
        var database = await Postgres.CreateDatabaseAsync();
        try
        {
            var options = new DbContextOptionsBuilder<PostgresExchangeDbContext>().UseNpgsql(database).Options;
            await using var db = new PostgresExchangeDbContext(options);
            await AssertBackfillAsync(db);
        }
        finally
        {
            await Postgres.DropDatabaseAsync(database);
        }
    }

    private static async Task AssertBackfillAsync(ExchangeDbContext db)
    {
        var migrator = db.GetService<IMigrator>();
        await migrator.MigrateAsync(Before);

        var recorded = new DateTimeOffset(2026, 11, 20, 9, 0, 0, TimeSpan.Zero);
        var child = new Child { Id = "ch_backfill0000000000000000", CreatedAt = recorded, CreatedByOrganisation = "la:202" };
        AttendanceMark Mark(string school, string date, string session, string code, DateTimeOffset? replacedAt = null) => new()
        {
            Id = Guid.NewGuid(), ChildId = child.Id, SchoolId = school, Date = DateOnly.Parse(date, System.Globalization.CultureInfo.InvariantCulture),
            Session = session, Code = code, BatchId = Guid.Empty, RecordedAt = recorded.AddMinutes(DateOnly.Parse(date, System.Globalization.CultureInfo.InvariantCulture).DayNumber % 100),
            ReplacedAt = replacedAt,
        };
        var marks = new[]
        {
            // Last academic year (31 August is its last day) and this one (1 September its first); one mark replaced.
            Mark("school:100001", "2026-07-13", "AM", "/"), Mark("school:100001", "2026-08-31", "AM", "/"),
            Mark("school:100001", "2026-09-01", "AM", "/"), Mark("school:100001", "2026-11-02", "AM", "O"),
            Mark("school:100001", "2026-11-02", "PM", "N", replacedAt: recorded), Mark("school:100001", "2026-11-02", "PM", "M"),
            Mark("school:100002", "2026-11-03", "AM", "/"), Mark("school:100002", "2026-11-03", "PM", "D"),
        };
        await using (var transaction = await db.Database.BeginTransactionAsync())
        {
            await BulkInsert.WriteAsync(db, [child], CancellationToken.None);
            await BulkInsert.WriteAsync(db, marks, CancellationToken.None);
            await transaction.CommitAsync();
        }

        await migrator.MigrateAsync();

        var counts = await db.AttendanceYearCounts.AsNoTracking().ToListAsync();
        // Counted as the summary counts: / attended, M authorised, O unauthorised, D not a possible session.
        var expected = new[]
        {
            "school:100001 2025-09-01 2/0/0/0 2026-07-13 2026-08-31",
            "school:100001 2026-09-01 1/1/1/0 2026-09-01 2026-11-02",
            "school:100002 2026-09-01 1/0/0/1 2026-11-03 2026-11-03",
        };
        Assert.Equal(expected, counts.Select(c => string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"{c.SchoolId} {c.YearStart:yyyy-MM-dd} {c.Attended}/{c.AuthorisedAbsence}/{c.UnauthorisedAbsence}/{c.NotPossible} {c.FirstDate:yyyy-MM-dd} {c.LastDate:yyyy-MM-dd}"))
            .Order(StringComparer.Ordinal));
        Assert.Equal(marks.Where(m => m.ReplacedAt is null && m.SchoolId == "school:100001" && m.Date.Year == 2026 && m.Date.Month >= 9).Max(m => m.RecordedAt),
            counts.Where(c => c.SchoolId == "school:100001" && c.YearStart.Month == 9 && c.YearStart.Year == 2026).Max(c => c.LastRecordedAt));
    }
}
