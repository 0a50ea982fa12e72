using System.Globalization;
using Exchange.Api.Auditing;
using Exchange.Api.Auth;
using Exchange.Api.Dates;
using Exchange.Api.Decisions;
using Exchange.Api.Errors;
using Exchange.Api.Idempotency;
using Exchange.Api.Purpose;
using Exchange.Api.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Net.Http.Headers;

namespace Exchange.Api.Attendance;

/// <summary>A mark as a reader sees it. Fields the caller's policy mask hides are absent.</summary>
public sealed record MarkView(string ChildId, string Date, string Session, string Code, int? MinutesLate, string RecordedBy, DateTimeOffset RecordedAt, DateTimeOffset? ReplacedAt);

public sealed record MarksView(string From, string To, IReadOnlyList<MarkView> Items);

/// <summary>The summary over a period (docs/ATTENDANCE.md), with the period it covers.</summary>
public sealed record SummaryView(
    string ChildId, string From, string To, int PossibleSessions, int AttendedSessions, int AuthorisedAbsence, int UnauthorisedAbsence,
    decimal? AttendanceRate, bool PersistentAbsence, bool SevereAbsence);

/// <summary>
/// A school's MIS sends attendance marks (<c>POST /v1/attendance</c>, JSON or CSV, with an <c>Idempotency-Key</c>);
/// the responsible council's virtual school reads every school's marks and the summary, a school only its own
/// marks, a social worker only the summary, as <c>policies/rules.yaml</c> says.
/// </summary>
public static class AttendanceApi
{
    private static readonly Dictionary<string, string[]> PeriodFields = new(StringComparer.Ordinal) { ["from"] = ["date"], ["to"] = ["date"] };

    public static IEndpointRouteBuilder MapAttendanceApi(this IEndpointRouteBuilder app)
    {
        app.MapGroup("/v1/attendance").WithTags("Attendance").RequirePurposeOfUse()
            .MapPost("/", RecordAsync).Audited("attendance.record", "attendance", "batchId", "accepted", "rejected")
            // Decided per child inside the handler, for the whole batch at once; a role with no rule is refused here.
            .Decides("write", noChild: true, findsChild: true)
            .WithMetadata(new AcceptsLargeBody());

        var children = app.MapGroup("/v1/children/{childId}").WithTags("Attendance").RequirePurposeOfUse();
        children.MapGet("/attendance", ListAsync).Audited("attendance.list", "attendance", "marks").Decides("read", queryFields: PeriodFields);
        children.MapGet("/attendance/summary", SummaryAsync).Audited("attendance.summary", "attendance-summary", "summary").Decides("read", queryFields: PeriodFields);
        return app;
    }

    private static async Task<IResult> RecordAsync(HttpContext http, AttendanceBatchService batches, CancellationToken ct)
    {
        var caller = Caller.From(http.User);
        if (!caller.Organisation.StartsWith("school:", StringComparison.Ordinal))
        {
            // The marks are a school's register: they are stored as the sending school's.
            return Problems.Result(ProblemTypes.Forbidden, "Attendance marks are sent by a school's MIS.");
        }

        var key = http.Request.Headers[IdempotencyStore.Header];
        if (key.Count != 1 || !IdempotencyStore.IsValidKey(key[0]))
        {
            return Problems.Result(ProblemTypes.IdempotencyKeyMissing);
        }

        var mediaType = MediaTypeHeaderValue.TryParse(http.Request.ContentType, out var contentType) ? contentType.MediaType.Value?.ToLowerInvariant() : null;
        if (mediaType is not ("application/json" or "text/csv")
            || (contentType!.Charset.HasValue && !contentType.Charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase)))
        {
            return Problems.Result(ProblemTypes.UnsupportedMediaType, "Send the batch as application/json or text/csv (UTF-8).");
        }

        using var buffer = new MemoryStream();
        await http.Request.Body.CopyToAsync(buffer, ct).ConfigureAwait(false);
        var body = buffer.GetBuffer().AsMemory(0, (int)buffer.Length);
        var batch = mediaType == "application/json"
            ? AttendanceBatch.FromJson(body)
            : await AttendanceBatch.FromCsvAsync(new MemoryStream(buffer.GetBuffer(), 0, (int)buffer.Length, writable: false), ct).ConfigureAwait(false);
        if (batch.Problem is { } problem)
        {
            return Problems.Result(problem, batch.Detail);
        }

        var result = await batches.RecordAsync(caller, PurposeOfUse.Of(http)!, key[0]!, IdempotencyStore.Hash(mediaType, body.Span), batch, ct).ConfigureAwait(false);
        return result.Problem is { } refused
            ? Problems.Result(refused)
            : Results.Content(result.Json, "application/json", System.Text.Encoding.UTF8, result.Status);
    }

    private static async Task<Results<Ok<MarksView>, ProblemHttpResult>> ListAsync(
        Decided decided, HttpContext http, ExchangeDbContext db, TimeProvider clock, string? from, string? to, bool? history, CancellationToken ct)
    {
        if (!TryPeriod(from, to, clock, out var period, out var problem))
        {
            return problem!;
        }

        var marks = await MarksAsync(decided, http, db, period, history == true, ct).ConfigureAwait(false);
        var items = marks.OrderBy(m => m.Date).ThenBy(m => m.Session, StringComparer.Ordinal).ThenBy(m => m.RecordedAt)
            .Select(m => new MarkView(m.ChildId, m.Date.Iso(), m.Session, m.Code, m.MinutesLate, m.SchoolId, m.RecordedAt, m.ReplacedAt)).ToList();
        return TypedResults.Ok(new MarksView(period.From.Iso(), period.To.Iso(), items));
    }

    private static async Task<Results<Ok<SummaryView>, ProblemHttpResult>> SummaryAsync(
        Decided decided, HttpContext http, ExchangeDbContext db, TimeProvider clock, string? from, string? to, CancellationToken ct)
    {
        if (!TryPeriod(from, to, clock, out var period, out var problem))
        {
            return problem!;
        }

        var marks = await MarksAsync(decided, http, db, period, history: false, ct).ConfigureAwait(false);
        var summary = AttendanceSummary.Of(SessionsOf(marks));
        return TypedResults.Ok(new SummaryView(decided.ChildId, period.From.Iso(), period.To.Iso(), summary.PossibleSessions, summary.AttendedSessions,
            summary.AuthorisedAbsence, summary.UnauthorisedAbsence, summary.AttendanceRate, summary.PersistentAbsence, summary.SevereAbsence));
    }

    /// <summary>
    /// One code per session. Where two schools sent a mark for the same session (a dual-registered pupil), the session
    /// counts once: the mark of the school where the session was possible (the other school records D), and between
    /// two possible marks the later one.
    /// </summary>
    internal static IEnumerable<string> SessionsOf(IEnumerable<AttendanceMark> marks) =>
        marks.GroupBy(m => (m.Date, m.Session))
            .Select(g => g.OrderByDescending(m => AttendanceCodes.Find(m.Code)?.Counts is not SessionCount.NotPossible).ThenByDescending(m => m.RecordedAt).First().Code);

    /// <summary>
    /// The marks the permit releases: a school sees only its own (the rule's reads are limited to what the school
    /// wrote), a council every school's, each within the caller's periods (<see cref="Policy.DateWindows.Overlaps"/>).
    /// </summary>
    private static async Task<List<AttendanceMark>> MarksAsync(Decided decided, HttpContext http, ExchangeDbContext db, (DateOnly From, DateOnly To) period, bool history, CancellationToken ct)
    {
        var caller = Caller.From(http.User);
        var query = db.AttendanceMarks.AsNoTracking().Where(m => m.ChildId == decided.ChildId && m.Date >= period.From && m.Date <= period.To);
        if (!history)
        {
            query = query.Where(m => m.ReplacedAt == null);
        }

        if (caller.Organisation.StartsWith("school:", StringComparison.Ordinal))
        {
            query = query.Where(m => m.SchoolId == caller.Organisation);
        }

        var marks = await query.ToListAsync(ct).ConfigureAwait(false);
        return decided.Windows is { } windows ? marks.Where(m => windows.Overlaps(m.Date, m.Date, m.RecordedAt)).ToList() : marks;
    }

    /// <summary>The period asked for, by default the academic year containing today (1 September to 31 August).</summary>
    private static bool TryPeriod(string? from, string? to, TimeProvider clock, out (DateOnly From, DateOnly To) period, out ProblemHttpResult? problem)
    {
        var year = AcademicYear.Containing(DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime));
        period = year;
        problem = null;
        if ((from is not null && !DateOnly.TryParseExact(from, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out period.From))
            || (to is not null && !DateOnly.TryParseExact(to, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out period.To)))
        {
            problem = Problems.Result(ProblemTypes.AttendanceQueryInvalid, "from and to must be dates, YYYY-MM-DD.");
            return false;
        }

        if (from is null && to is not null)
        {
            period.From = AcademicYear.Containing(period.To).From;
        }
        else if (to is null && from is not null)
        {
            period.To = AcademicYear.Containing(period.From).To;
        }

        if (period.From > period.To || period.To > period.From.AddYears(1))
        {
            problem = Problems.Result(ProblemTypes.AttendanceQueryInvalid, "from must not be after to, and they may be at most a year apart.");
            return false;
        }

        return true;
    }
}
