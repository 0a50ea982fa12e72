namespace Exchange.Api.Attendance;

/// <summary>
/// A pupil's attendance over a period, counted the DfE's way (docs/ATTENDANCE.md): only possible sessions form the
/// denominator; a session not possible (dual registration elsewhere, not of compulsory school age, unable to attend,
/// administrative codes) counts neither as attended nor as absent. Persistent absence is missing 10% or more of the
/// possible sessions and severe absence 50% or more (a subset of persistent absence), each with any kind of absence,
/// authorised or not.
/// </summary>
/// <param name="AttendanceRate">Attended sessions as a percentage of possible sessions, to one decimal place; null when no session was possible.</param>
public sealed record AttendanceSummary(
    int PossibleSessions,
    int AttendedSessions,
    int AuthorisedAbsence,
    int UnauthorisedAbsence,
    decimal? AttendanceRate,
    bool PersistentAbsence,
    bool SevereAbsence)
{
    public static readonly AttendanceSummary Empty = Of(0, 0, 0);

    /// <summary>Persistent absence: missing this percentage of possible sessions or more.</summary>
    public const int PersistentAbsencePercent = 10;

    /// <summary>Severe absence: missing this percentage of possible sessions or more.</summary>
    public const int SevereAbsencePercent = 50;

    /// <summary>
    /// Whether <paramref name="absent"/> of <paramref name="possible"/> sessions is <paramref name="percent"/> or more,
    /// compared in whole numbers: a rate rounded for display must not move a pupil across a threshold.
    /// </summary>
    public static bool AbsentAtLeast(int absent, int possible, int percent) => possible > 0 && 100L * absent >= (long)percent * possible;

    /// <summary>The summary of the marks in force: one code per session (the latest mark for each).</summary>
    public static AttendanceSummary Of(IEnumerable<string> codes)
    {
        ArgumentNullException.ThrowIfNull(codes);
        int attended = 0, authorised = 0, unauthorised = 0;
        foreach (var code in codes)
        {
            switch (AttendanceCodes.Find(code)?.Counts)
            {
                case SessionCount.Attended: attended++; break;
                case SessionCount.AuthorisedAbsence: authorised++; break;
                case SessionCount.UnauthorisedAbsence: unauthorised++; break;
                default: break; // not possible (or a code the exchange never stores)
            }
        }

        return Of(attended, authorised, unauthorised);
    }

    /// <summary>The summary of sessions already counted by how they count.</summary>
    public static AttendanceSummary Of(int attended, int authorised, int unauthorised)
    {
        var possible = attended + authorised + unauthorised;
        var absent = authorised + unauthorised;
        return new AttendanceSummary(
            possible,
            attended,
            authorised,
            unauthorised,
            possible == 0 ? null : Math.Round(100m * attended / possible, 1, MidpointRounding.AwayFromZero),
            AbsentAtLeast(absent, possible, PersistentAbsencePercent),
            AbsentAtLeast(absent, possible, SevereAbsencePercent));
    }
}

/// <summary>The English academic year, 1 September to 31 August: the default period of attendance answers.</summary>
public static class AcademicYear
{
    public static (DateOnly From, DateOnly To) Containing(DateOnly day)
    {
        var startYear = day.Month >= 9 ? day.Year : day.Year - 1;
        return (new DateOnly(startYear, 9, 1), new DateOnly(startYear + 1, 8, 31));
    }
}
