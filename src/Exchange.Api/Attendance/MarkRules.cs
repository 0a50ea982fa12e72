using System.Globalization;
using Exchange.Api.Errors;
using Exchange.Api.Identity;

namespace Exchange.Api.Attendance;

/// <summary>A mark whose fields obey the rules of DATA.md, ready to be decided and stored.</summary>
public sealed record ParsedMark(int Index, int? Line, string ChildId, DateOnly Date, string Session, string Code, int? MinutesLate);

/// <summary>A mark of a batch that was not stored: where it was (index, and line for CSV), which field, which problem.</summary>
public sealed record RejectedMark(int Index, int? Line, string Field, string Type, string Detail);

/// <summary>
/// The rules one mark must obey on its own (DATA.md, national codes from August 2024). Details say what is wrong,
/// never repeat what was sent.
/// </summary>
public static class MarkRules
{
    /// <summary>A late arrival is recorded in minutes, up to a whole session.</summary>
    public const int MaxMinutesLate = 300;

    public static (ParsedMark? Mark, RejectedMark? Rejected) Check(IncomingMark mark, DateOnly today)
    {
        ArgumentNullException.ThrowIfNull(mark);
        RejectedMark Reject(string field, ProblemTypes.ProblemType type, string detail) => new(mark.Index, mark.Line, field, type.Code, detail);

        if (mark.Malformed)
        {
            return (null, Reject("mark", ProblemTypes.MarkInvalid, mark.Line is null
                ? "A mark is an object with childId, date, session and code as strings, and minutesLate as a whole number."
                : "The row does not have the header's columns (or breaks the quoting rules, or minutesLate is not a whole number)."));
        }

        if (mark.ChildId is null || !Ids.LooksLikeChildId(mark.ChildId))
        {
            return (null, Reject("childId", ProblemTypes.ValidationFailed, "childId must be a pseudonymous child id (ch_...), as the roll check gave it."));
        }

        if (!DateOnly.TryParseExact(mark.Date, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
        {
            return (null, Reject("date", ProblemTypes.AttendanceDate, "date must be a real date, YYYY-MM-DD."));
        }

        if (date > today)
        {
            return (null, Reject("date", ProblemTypes.AttendanceDate, "date is in the future: a mark records a session that has taken place."));
        }

        if (!AttendanceCodes.IsSession(mark.Session))
        {
            return (null, Reject("session", ProblemTypes.AttendanceSession, "session must be AM or PM."));
        }

        if (mark.Code is { } withdrawnCode && AttendanceCodes.Withdrawn.TryGetValue(withdrawnCode, out var replacement))
        {
            return (null, Reject("code", ProblemTypes.AttendanceCodeWithdrawn, $"This code was withdrawn in August 2024; use {replacement}."));
        }

        if (AttendanceCodes.Find(mark.Code) is not { } code)
        {
            return (null, Reject("code", ProblemTypes.AttendanceCodeUnknown, "code is not a national attendance code (they are exact and case-sensitive)."));
        }

        if (code.OnlyIn is { } only && only != mark.Session)
        {
            return (null, Reject("code", ProblemTypes.AttendanceSession, $"This code is used in the {only} session only."));
        }

        if (mark.MinutesLate is { } minutes && (minutes is < 0 or > MaxMinutesLate || code.Code is not ("L" or "U")))
        {
            return (null, Reject("minutesLate", ProblemTypes.AttendanceMinutesLate, $"minutesLate is 0 to {MaxMinutesLate}, and only with L or U."));
        }

        return (new ParsedMark(mark.Index, mark.Line, mark.ChildId, date, mark.Session!, code.Code, mark.MinutesLate), null);
    }
}
