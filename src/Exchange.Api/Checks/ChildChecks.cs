using Exchange.Api.Attendance;
using Exchange.Api.Configuration;
using Exchange.Api.Dates;
using Exchange.Api.Peps;
using Exchange.Api.Storage;
using Exchange.Api.Work;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Exchange.Api.Checks;

/// <summary>
/// The scheduled checks (docs/EVENTS.md): every child in care now is checked for missing education (no current school,
/// or no mark from it for <see cref="MissingEducationOptions.SchoolDays"/> school days: <see cref="MissingEducationRule"/>)
/// an overdue PEP (as the plan's own due date says), and this academic year's absence crossing the persistent (10%) or
/// severe (50%) threshold (<c>absence-threshold-crossed</c>, once per threshold). A condition that begins raises its event once, as an outbox
/// item written in the same transaction as its <see cref="CheckAlert"/>; while it lasts nothing more is raised; when it
/// ends the alert is cleared, so the next time it begins is told again. Read with set queries a chunk of children at a
/// time, on the service's clock.
/// </summary>
public sealed partial class ChildChecks(ExchangeDbContext db, UnitOfWork work, TimeProvider clock, IOptions<ExchangeOptions> options, ILogger<ChildChecks> logger)
{
    private const int Chunk = 500;
    /// <summary>Alert kinds and the event each raises: absence crossing 10% and 50% are two thresholds, one event type.</summary>
    private static readonly IReadOnlyDictionary<string, string> Kinds = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        [OutboxItem.MissingEducation] = OutboxItem.MissingEducation,
        [OutboxItem.PepOverdue] = OutboxItem.PepOverdue,
        [PersistentAbsence] = OutboxItem.AbsenceThresholdCrossed,
        [SevereAbsence] = OutboxItem.AbsenceThresholdCrossed,
    };

    /// <summary>Possible sessions this year before the absence thresholds are judged: two school weeks.</summary>
    public const int MinimumSessions = 20;

    /// <summary>
    /// How far, in percentage points, absence must fall below a threshold before an open absence alert is cleared: a
    /// child hovering at 10% would otherwise be cleared and told again with every other mark.
    /// </summary>
    public const int ClearingMargin = 1;

    public const string PersistentAbsence = "persistent-absence";
    public const string SevereAbsence = "severe-absence";

    /// <summary>What one run did; <c>Skipped</c> when another instance was running the checks.</summary>
    public sealed record Report(int Checked, int Raised, int Cleared, bool Skipped = false);

    /// <summary>The lease of the checks' runs (any fixed number; this one spells "checks").</summary>
    public const long RunLease = 0x636865636B73;

    /// <summary>
    /// One run over every child in care, unless another instance on the same database is running the checks now (then
    /// nothing is done: <see cref="Report.Skipped"/>); what it would have found, that run finds.
    /// </summary>
    public async Task<Report> RunOnceAsync(CancellationToken ct)
    {
        var lease = await db.TryLeaseAsync(RunLease, ct).ConfigureAwait(false);
        if (lease is null)
        {
            LogSkipped(logger);
            return new Report(0, 0, 0, Skipped: true);
        }

        await using (lease.ConfigureAwait(false))
        {
            return await RunAsync(ct).ConfigureAwait(false);
        }
    }

    private async Task<Report> RunAsync(CancellationToken ct)
    {
        var today = DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime);
        var live = db.Children.Where(c => c.ErasedAt == null && c.MergedIntoChildId == null).Select(c => c.Id);
        var inCare = (await db.CareEpisodes.AsNoTracking()
            .Where(e => e.StartDate <= today && (e.EndDate == null || e.EndDate >= today) && live.Contains(e.ChildId))
            .Select(e => e.ChildId).Distinct().ToListAsync(ct).ConfigureAwait(false)).ToHashSet(StringComparer.Ordinal);
        // Children with an open alert who are no longer checked (left care, erased, merged away) have it cleared.
        var alerted = await db.CheckAlerts.AsNoTracking().Where(a => a.ClearedAt == null).Select(a => a.ChildId).Distinct().ToListAsync(ct).ConfigureAwait(false);
        var children = inCare.Union(alerted, StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var (raised, cleared) = (0, 0);
        foreach (var chunk in children.Chunk(Chunk))
        {
            var found = await FindAsync(chunk.Where(inCare.Contains).ToList(), today, ct).ConfigureAwait(false);
            var (r, c) = await SettleAsync(chunk, found, ct).ConfigureAwait(false);
            raised += r;
            cleared += c;
        }

        var report = new Report(inCare.Count, raised, cleared);
        if (raised + cleared > 0)
        {
            LogRun(logger, report.Checked, report.Raised, report.Cleared);
        }

        return report;
    }

    /// <summary>
    /// What holds today for each of these children in care: <see cref="Findings.Raise"/> what would raise an alert
    /// (missing education, absence at a threshold, a plan overdue), <see cref="Findings.Keep"/> what keeps an open one
    /// (the same, but absence down to <see cref="ClearingMargin"/> below its threshold).
    /// </summary>
    private sealed record Findings(HashSet<(string Child, string Kind)> Raise, HashSet<(string Child, string Kind)> Keep);

    private async Task<Findings> FindAsync(List<string> children, DateOnly today, CancellationToken ct)
    {
        var holding = new HashSet<(string, string)>();
        var keeping = new HashSet<(string, string)>();
        if (children.Count == 0)
        {
            return new Findings(holding, keeping);
        }

        var year = AcademicYear.Containing(today);
        var episodes = (await db.CareEpisodes.AsNoTracking().Where(e => EF.Parameter(children).Contains(e.ChildId))
            .Select(e => new { e.ChildId, e.StartDate, e.EndDate }).ToListAsync(ct).ConfigureAwait(false)).ToLookup(e => e.ChildId, StringComparer.Ordinal);
        var enrolments = (await db.ChildRelationships.AsNoTracking()
            .Where(r => EF.Parameter(children).Contains(r.ChildId) && r.Kind == ChildRelationship.EnrolledSchool)
            .Select(r => new { r.ChildId, r.OrganisationId, r.StartDate, r.EndDate }).ToListAsync(ct).ConfigureAwait(false)).ToLookup(r => r.ChildId, StringComparer.Ordinal);
        // This year's current marks counted by school and code as they were stored (YearCounts, as the cohort reads them).
        var counts = await YearCounts.OfYearAsync(db, children, year.From, ct).ConfigureAwait(false);
        // Where two schools marked a child on overlapping days, a session may have two marks: those are read and counted by session.
        var twoSchools = children.Where(c => !YearCounts.AreSessions(counts[c])).ToList();
        var sessions = twoSchools.Count == 0 ? Array.Empty<AttendanceMark>().ToLookup(m => m.ChildId, StringComparer.Ordinal) : (await db.AttendanceMarks.AsNoTracking()
                .Where(m => EF.Parameter(twoSchools).Contains(m.ChildId) && m.ReplacedAt == null && m.Date >= year.From && m.Date <= today)
                .ToListAsync(ct).ConfigureAwait(false)).ToLookup(m => m.ChildId, StringComparer.Ordinal);
        // The plans' versions without their sealed parts: the checks open nothing.
        var versions = await PepService.StatusesOfAsync(db, children, ct).ConfigureAwait(false);
        var schoolDays = options.Value.Cohort.MissingEducation.SchoolDays;

        foreach (var child in children)
        {
            var care = PepService.CareOf(episodes[child].Select(e => (e.StartDate, e.EndDate)),
                enrolments[child].Select(r => (r.OrganisationId, r.StartDate, r.EndDate)), today);
            var current = enrolments[child].Where(r => r.StartDate <= today && (r.EndDate is null || r.EndDate >= today)).MaxBy(r => r.StartDate);
            // No school: missing once the council has had as many school days as a school's silence gets to record one
            // (a child who has just entered care is not reported before its council could say where it goes to school).
            if (current is null
                ? care.Since is { } entered && PepSchedule.AddSchoolDays(Later(entered, year.From.AddDays(-1)), schoolDays) < today
                : MissingEducationRule.From(current.StartDate, YearCounts.LastMarkFrom(counts[child], current.OrganisationId), year.From, schoolDays) <= today)
            {
                holding.Add((child, OutboxItem.MissingEducation));
            }

            var summary = sessions.Contains(child) ? AttendanceSummary.Of(AttendanceApi.SessionsOf(sessions[child])) : YearCounts.Summary(counts[child]);
            // Not before two weeks of possible sessions: one missed session of the first two is not 50% absence.
            var absent = summary.AuthorisedAbsence + summary.UnauthorisedAbsence;
            foreach (var (kind, percent) in AbsenceThresholds)
            {
                if (summary.PossibleSessions < MinimumSessions)
                {
                    continue;
                }

                if (AttendanceSummary.AbsentAtLeast(absent, summary.PossibleSessions, percent))
                {
                    holding.Add((child, kind));
                }

                if (AttendanceSummary.AbsentAtLeast(absent, summary.PossibleSessions, percent - ClearingMargin))
                {
                    keeping.Add((child, kind));
                }
            }

            // The plan's due date as the council sees it (PepService): care without a break, a real change of school,
            // the last approved review recorded in this care.
            if (care.Since is { } since)
            {
                var held = versions.GetValueOrDefault(child) ?? [];
                var released = held.Count == 0 ? held : PepService.Released(null, held, care);
                if (PepSchedule.DueFor(since, care.ChangedSchoolOn, PepService.LastReviewedOn(released)).IsOverdue(today))
                {
                    holding.Add((child, OutboxItem.PepOverdue));
                }
            }
        }

        keeping.UnionWith(holding);
        return new Findings(holding, keeping);
    }

    private static readonly (string Kind, int Percent)[] AbsenceThresholds =
        [(PersistentAbsence, AttendanceSummary.PersistentAbsencePercent), (SevereAbsence, AttendanceSummary.SevereAbsencePercent)];

    /// <summary>
    /// Raises what began and clears what ended, for one chunk, in one unit of work: the open alerts are read once, here,
    /// inside it, so whether one is open (and so which threshold applies) is read where it is settled.
    /// </summary>
    private async Task<(int Raised, int Cleared)> SettleAsync(string[] chunk, Findings found, CancellationToken ct)
    {
        var (raised, cleared) = (0, 0);
        await work.BeginAsync(ct).ConfigureAwait(false);
        try
        {
            var now = clock.UtcNowToMillisecond();
            var open = await db.CheckAlerts.Where(a => EF.Parameter(chunk).Contains(a.ChildId) && a.ClearedAt == null).ToListAsync(ct).ConfigureAwait(false);
            foreach (var child in chunk)
            {
                foreach (var (kind, type) in Kinds)
                {
                    var alert = open.FirstOrDefault(a => a.ChildId == child && a.Kind == kind);
                    if (found.Raise.Contains((child, kind)) && alert is null)
                    {
                        var item = new OutboxItem { Id = Guid.NewGuid(), Type = type, ChildId = child, RaisedBy = OutboxItem.RaisedByChecks, OccurredAt = now };
                        db.OutboxItems.Add(item);
                        db.CheckAlerts.Add(new CheckAlert { Id = Guid.NewGuid(), ChildId = child, Kind = kind, RaisedAt = now, EventId = item.Id });
                        raised++;
                    }
                    else if (!found.Keep.Contains((child, kind)) && alert is not null)
                    {
                        alert.ClearedAt = now;
                        cleared++;
                    }
                }
            }

            await work.CommitAsync(Outcome.Background, ct).ConfigureAwait(false);
            return (raised, cleared);
        }
        catch (DbUpdateException clash) when (IsUniqueViolation(clash))
        {
            // Another instance raised one of these at the same moment (the unique index over open alerts): its run
            // stands, and this chunk is settled again on the next.
            LogClash(logger);
            return (0, 0);
        }
        finally
        {
            await work.RollbackAsync(CancellationToken.None).ConfigureAwait(false);
            db.ChangeTracker.Clear();
        }
    }

    private static bool IsUniqueViolation(DbUpdateException failure) => failure.InnerException switch
    {
        Npgsql.PostgresException pg => pg.SqlState == Npgsql.PostgresErrorCodes.UniqueViolation,
        Microsoft.Data.Sqlite.SqliteException lite => lite.SqliteExtendedErrorCode == 2067, // SQLITE_CONSTRAINT_UNIQUE
        _ => false,
    };

    private static DateOnly Later(DateOnly a, DateOnly b) => a > b ? a : b;

    [LoggerMessage(EventId = 9713, EventName = "ChecksClash", Level = LogLevel.Information,
        Message = "Checks: another instance raised an alert of this chunk at the same moment; the chunk is settled on the next run")]
    private static partial void LogClash(ILogger logger);

    [LoggerMessage(EventId = 9714, EventName = "ChecksSkipped", Level = LogLevel.Information,
        Message = "Checks: another instance is running them; this run is skipped")]
    private static partial void LogSkipped(ILogger logger);

    [LoggerMessage(EventId = 9711, EventName = "ChecksRun", Level = LogLevel.Information,
        Message = "Checks: {Checked} children in care checked, {Raised} alerts raised, {Cleared} cleared")]
    private static partial void LogRun(ILogger logger, int @checked, int raised, int cleared);
}
