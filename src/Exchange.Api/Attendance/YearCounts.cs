using Exchange.Api.Storage;
using Exchange.Api.Work;
using Microsoft.EntityFrameworkCore;

namespace Exchange.Api.Attendance;

/// <summary>
/// The running count of each child's current marks per school, academic year and code (<see cref="AttendanceYearCount"/>):
/// written with the marks in the attendance batch's unit of work, rebuilt from the marks when a merge moves them, and
/// read by the cohort and the scheduled checks instead of a year of marks per child (docs/BENCHMARKS.md, section 6).
/// </summary>
public static class YearCounts
{
    /// <summary>One school's current marks of one code for one child this year: how many, and between which days.</summary>
    public sealed record Count(string ChildId, string SchoolId, string Code, int Sessions, DateOnly FirstDate, DateOnly LastDate, DateTimeOffset LastRecordedAt);

    private static readonly string[] Sum = [nameof(AttendanceYearCount.Sessions)];
    private static readonly string[] Least = [nameof(AttendanceYearCount.FirstDate)];
    private static readonly string[] Greatest = [nameof(AttendanceYearCount.LastDate), nameof(AttendanceYearCount.LastRecordedAt)];

    /// <summary>
    /// Adds a batch's marks to the counts in the unit of work: one session to each new mark's code, one taken from each
    /// replaced mark's code (its replacement, among <paramref name="added"/>, adds it to the new one).
    /// </summary>
    public static Task AddAsync(UnitOfWork work, IEnumerable<AttendanceMark> added, IEnumerable<AttendanceMark> replaced, DateTimeOffset now, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(work);
        var changes = added.Select(m => (Mark: m, Sessions: 1)).Concat(replaced.Select(m => (Mark: m, Sessions: -1)))
            .GroupBy(c => (c.Mark.ChildId, c.Mark.SchoolId, YearStart: AcademicYear.Containing(c.Mark.Date).From, c.Mark.Code))
            .Select(g => new AttendanceYearCount
            {
                ChildId = g.Key.ChildId, SchoolId = g.Key.SchoolId, YearStart = g.Key.YearStart, Code = g.Key.Code, Sessions = g.Sum(c => c.Sessions),
                FirstDate = g.Min(c => c.Mark.Date), LastDate = g.Max(c => c.Mark.Date), LastRecordedAt = now,
            })
            // In key order, so two batches writing the same rows lock them in the same order (no deadlock on PostgreSQL).
            .OrderBy(c => c.ChildId, StringComparer.Ordinal).ThenBy(c => c.SchoolId, StringComparer.Ordinal).ThenBy(c => c.YearStart).ThenBy(c => c.Code, StringComparer.Ordinal)
            .ToList();
        return work.AddCountsAsync(changes, Sum, Least, Greatest, ct);
    }

    /// <summary>Replaces the child's counts by a count of its current marks (after a merge moved marks to it).</summary>
    public static async Task RebuildAsync(ExchangeDbContext db, UnitOfWork work, string childId, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(work);
        await work.DeleteAsync(db.AttendanceYearCounts.Where(c => c.ChildId == childId), ct).ConfigureAwait(false);
        var marks = await db.AttendanceMarks.AsNoTracking().Where(m => m.ChildId == childId && m.ReplacedAt == null)
            .Select(m => new { m.SchoolId, m.Date, m.Code, m.RecordedAt }).ToListAsync(ct).ConfigureAwait(false);
        var counts = marks.GroupBy(m => (m.SchoolId, YearStart: AcademicYear.Containing(m.Date).From, m.Code))
            .Select(g => new AttendanceYearCount
            {
                ChildId = childId, SchoolId = g.Key.SchoolId, YearStart = g.Key.YearStart, Code = g.Key.Code, Sessions = g.Count(),
                FirstDate = g.Min(m => m.Date), LastDate = g.Max(m => m.Date), LastRecordedAt = g.Max(m => m.RecordedAt),
            }).ToList();
        await work.InsertAsync(counts, ct).ConfigureAwait(false);
    }

    /// <summary>The counts of the academic year starting <paramref name="yearStart"/> for each of <paramref name="children"/>.</summary>
    public static async Task<ILookup<string, Count>> OfYearAsync(ExchangeDbContext db, IReadOnlyCollection<string> children, DateOnly yearStart, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(db);
        return (await db.AttendanceYearCounts.AsNoTracking()
                .Where(c => EF.Parameter(children).Contains(c.ChildId) && c.YearStart == yearStart)
                .Select(c => new Count(c.ChildId, c.SchoolId, c.Code, c.Sessions, c.FirstDate, c.LastDate, c.LastRecordedAt))
                .ToListAsync(ct).ConfigureAwait(false))
            .ToLookup(c => c.ChildId, StringComparer.Ordinal);
    }

    /// <summary>
    /// Whether a child's counts are its sessions' codes as they are: true unless two schools marked it on overlapping days,
    /// where one session may carry a mark from each and must be judged from the marks (<see cref="AttendanceApi.SessionsOf"/>).
    /// </summary>
    public static bool AreSessions(IEnumerable<Count> counts)
    {
        var schools = counts.GroupBy(c => c.SchoolId, StringComparer.Ordinal).Select(g => (First: g.Min(c => c.FirstDate), Last: g.Max(c => c.LastDate)))
            .OrderBy(s => s.First).ToList();
        for (var i = 1; i < schools.Count; i++)
        {
            if (schools[i].First <= schools.Take(i).Max(s => s.Last))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The attendance the counts add up to (only where <see cref="AreSessions"/>).</summary>
    public static AttendanceSummary Summary(IEnumerable<Count> counts) => AttendanceSummary.Of(counts.Select(c => (c.Code, c.Sessions)));

    /// <summary>The day of the last mark from <paramref name="schoolId"/> among the counts (null: none this year).</summary>
    public static DateOnly? LastMarkFrom(IEnumerable<Count> counts, string schoolId) =>
        counts.Where(c => c.SchoolId == schoolId).Select(c => (DateOnly?)c.LastDate).Max();
}
