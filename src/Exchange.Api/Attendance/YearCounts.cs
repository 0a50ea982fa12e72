using Exchange.Api.Storage;
using Exchange.Api.Work;
using Microsoft.EntityFrameworkCore;

namespace Exchange.Api.Attendance;

/// <summary>
/// The running count of each child's current marks per school and academic year (<see cref="AttendanceYearCount"/>):
/// written with the marks in the attendance batch's unit of work, rebuilt from the marks when a merge moves them, and
/// read by the cohort and the scheduled checks instead of a year of marks per child (docs/BENCHMARKS.md, section 6).
/// </summary>
public static class YearCounts
{
    /// <summary>One school's current marks for one child this year, counted as the summary counts them, and between which days.</summary>
    public sealed record Count(
        string ChildId, string SchoolId, int Attended, int AuthorisedAbsence, int UnauthorisedAbsence, DateOnly FirstDate, DateOnly LastDate, DateTimeOffset LastRecordedAt);

    private static readonly string[] Sum =
    [
        nameof(AttendanceYearCount.Attended), nameof(AttendanceYearCount.AuthorisedAbsence), nameof(AttendanceYearCount.UnauthorisedAbsence),
        nameof(AttendanceYearCount.NotPossible),
    ];

    private static readonly string[] Least = [nameof(AttendanceYearCount.FirstDate)];
    private static readonly string[] Greatest = [nameof(AttendanceYearCount.LastDate), nameof(AttendanceYearCount.LastRecordedAt)];

    /// <summary>
    /// Adds a batch's marks to the counts in the unit of work: one session to each new mark's kind of count, one taken
    /// from each replaced mark's (its replacement, among <paramref name="added"/>, adds it to the new one).
    /// </summary>
    public static Task AddAsync(UnitOfWork work, IEnumerable<AttendanceMark> added, IEnumerable<AttendanceMark> replaced, DateTimeOffset now, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(work);
        var changes = Tally(added.Select(m => (Mark: m, Sessions: 1)).Concat(replaced.Select(m => (Mark: m, Sessions: -1))), _ => now)
            // In key order, so two batches writing the same rows lock them in the same order (no deadlock on PostgreSQL).
            .OrderBy(c => c.ChildId, StringComparer.Ordinal).ThenBy(c => c.SchoolId, StringComparer.Ordinal).ThenBy(c => c.YearStart)
            .ToList();
        return work.AddCountsAsync(changes, Sum, Least, Greatest, ct);
    }

    /// <summary>Replaces the child's counts by a count of its current marks (after a merge moved marks to it).</summary>
    public static async Task RebuildAsync(ExchangeDbContext db, UnitOfWork work, string childId, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(work);
        await work.DeleteAsync(db.AttendanceYearCounts.Where(c => c.ChildId == childId), ct).ConfigureAwait(false);
        var marks = await db.AttendanceMarks.AsNoTracking().Where(m => m.ChildId == childId && m.ReplacedAt == null).ToListAsync(ct).ConfigureAwait(false);
        await work.InsertAsync(Tally(marks.Select(m => (Mark: m, Sessions: 1)), g => g.Max(c => c.Mark.RecordedAt)), ct).ConfigureAwait(false);
    }

    /// <summary>The rows the marks add up to, one per child, school and academic year.</summary>
    private static List<AttendanceYearCount> Tally(
        IEnumerable<(AttendanceMark Mark, int Sessions)> marks, Func<IEnumerable<(AttendanceMark Mark, int Sessions)>, DateTimeOffset> recordedAt) =>
        marks.GroupBy(c => (c.Mark.ChildId, c.Mark.SchoolId, YearStart: AcademicYear.Containing(c.Mark.Date).From))
            .Select(g =>
            {
                int Of(SessionCount kind) => g.Where(c => KindOf(c.Mark.Code) == kind).Sum(c => c.Sessions);
                return new AttendanceYearCount
                {
                    ChildId = g.Key.ChildId, SchoolId = g.Key.SchoolId, YearStart = g.Key.YearStart,
                    Attended = Of(SessionCount.Attended), AuthorisedAbsence = Of(SessionCount.AuthorisedAbsence),
                    UnauthorisedAbsence = Of(SessionCount.UnauthorisedAbsence), NotPossible = Of(SessionCount.NotPossible),
                    FirstDate = g.Min(c => c.Mark.Date), LastDate = g.Max(c => c.Mark.Date), LastRecordedAt = recordedAt(g),
                };
            }).ToList();

    /// <summary>How a stored code counts (every stored code is on the list; MarkRules refuses the rest).</summary>
    private static SessionCount KindOf(string code) => AttendanceCodes.Find(code)?.Counts ?? SessionCount.NotPossible;

    /// <summary>The counts of the academic year starting <paramref name="yearStart"/> for each of <paramref name="children"/>.</summary>
    public static async Task<ILookup<string, Count>> OfYearAsync(ExchangeDbContext db, IReadOnlyCollection<string> children, DateOnly yearStart, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(db);
        return (await db.AttendanceYearCounts.AsNoTracking()
                .Where(c => EF.Parameter(children).Contains(c.ChildId) && c.YearStart == yearStart)
                .Select(c => new Count(c.ChildId, c.SchoolId, c.Attended, c.AuthorisedAbsence, c.UnauthorisedAbsence, c.FirstDate, c.LastDate, c.LastRecordedAt))
                .ToListAsync(ct).ConfigureAwait(false))
            .ToLookup(c => c.ChildId, StringComparer.Ordinal);
    }

    /// <summary>
    /// Whether a child's counts are its sessions as they are: true unless two schools marked it on overlapping days,
    /// where one session may carry a mark from each and must be judged from the marks (<see cref="AttendanceApi.SessionsOf"/>).
    /// </summary>
    public static bool AreSessions(IEnumerable<Count> counts)
    {
        var schools = counts.OrderBy(c => c.FirstDate).ToList();
        for (var i = 1; i < schools.Count; i++)
        {
            if (schools[i].FirstDate <= schools.Take(i).Max(s => s.LastDate))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The attendance the counts add up to (only where <see cref="AreSessions"/>).</summary>
    public static AttendanceSummary Summary(IEnumerable<Count> counts)
    {
        var all = counts.ToList();
        return AttendanceSummary.Of(all.Sum(c => c.Attended), all.Sum(c => c.AuthorisedAbsence), all.Sum(c => c.UnauthorisedAbsence));
    }

    /// <summary>The day of the last mark from <paramref name="schoolId"/> this year (null: none).</summary>
    public static DateOnly? LastMarkFrom(IEnumerable<Count> counts, string schoolId) =>
        counts.Where(c => c.SchoolId == schoolId).Select(c => (DateOnly?)c.LastDate).Max();
}
