using Exchange.Api.Attendance;

namespace Exchange.Api.Tests.Attendance;

/// <summary>Summaries against hand-computed expectations (docs/ATTENDANCE.md; DfE "Working together to improve school attendance", 2024).</summary>
public sealed class AttendanceSummaryTests
{
    public static TheoryData<string, int, int, int> EveryCode()
    {
        var data = new TheoryData<string, int, int, int>();
        // code, possible, attended, absent (authorised + unauthorised)
        foreach (var code in new[] { "/", "\\", "L", "K", "V", "P", "W", "B" })
        {
            data.Add(code, 1, 1, 0);
        }

        foreach (var code in new[] { "C1", "C2", "C", "M", "J1", "S", "T", "R", "I", "E", "G", "N", "O", "U" })
        {
            data.Add(code, 1, 0, 1);
        }

        foreach (var code in new[] { "D", "X", "Q", "Y1", "Y2", "Y3", "Y4", "Y5", "Y6", "Y7", "Z", "#" })
        {
            data.Add(code, 0, 0, 0);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(EveryCode))]
    public void EachCodeCountsAsItsCategory(string code, int possible, int attended, int absent)
    {
        var summary = AttendanceSummary.Of([code]);
        Assert.Equal(possible, summary.PossibleSessions);
        Assert.Equal(attended, summary.AttendedSessions);
        Assert.Equal(absent, summary.AuthorisedAbsence + summary.UnauthorisedAbsence);
    }

    [Fact]
    public void EveryCodeOfTheTableIsCoveredByTheTheory()
    {
        var covered = EveryCode().Select(row => (string)row[0]).ToHashSet(StringComparer.Ordinal);
        Assert.Equal(AttendanceCodes.All.Select(c => c.Code).Order(StringComparer.Ordinal), covered.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void AuthorisedAndUnauthorisedAbsenceAreCountedApart()
    {
        var summary = AttendanceSummary.Of(["I", "M", "N", "U", "G", "E"]);
        Assert.Equal(3, summary.AuthorisedAbsence);
        Assert.Equal(3, summary.UnauthorisedAbsence);
    }

    [Fact]
    public void AWeekWithALateMarkAnAfterRegisterArrivalAndDualRegistration()
    {
        // Monday to Friday, AM and PM: 6 present, L (late before the register closed) is present, U (after it
        // closed) is an unauthorised absence, I authorised, D (at the other school) is not a possible session.
        string[] week = ["/", "\\", "/", "\\", "L", "\\", "U", "\\", "I", "D"];
        var summary = AttendanceSummary.Of(week);
        Assert.Equal(new AttendanceSummary(9, 7, 1, 1, 77.8m, true, false), summary);
    }

    [Theory]
    [InlineData(18, 2, true, false)]   // exactly 10%: persistent
    [InlineData(19, 2, false, false)]  // 2 of 21, 9.5%: not persistent
    [InlineData(10, 10, true, true)]   // exactly 50%: severe
    [InlineData(11, 10, true, false)]  // 10 of 21, 47.6%: persistent only
    [InlineData(0, 3, true, true)]     // never attended
    public void ThresholdsIncludeTheirBoundary(int attended, int absent, bool persistent, bool severe)
    {
        var codes = Enumerable.Repeat("/", attended).Concat(Enumerable.Repeat("O", absent));
        var summary = AttendanceSummary.Of(codes);
        Assert.Equal(persistent, summary.PersistentAbsence);
        Assert.Equal(severe, summary.SevereAbsence);
    }

    [Fact]
    public void ThresholdsAreNotMovedByTheRoundedRate()
    {
        // 1999 attended of 2221 possible: 222 absent is 9.995% (not persistent) though the rate shows 90.0.
        var summary = AttendanceSummary.Of(Enumerable.Repeat("/", 1999).Concat(Enumerable.Repeat("N", 222)));
        Assert.Equal(90.0m, summary.AttendanceRate);
        Assert.False(summary.PersistentAbsence);
    }

    [Fact]
    public void NoPossibleSessionGivesNoRateAndNoFlag()
    {
        var summary = AttendanceSummary.Of(["X", "Y4", "#", "Z"]);
        Assert.Equal(new AttendanceSummary(0, 0, 0, 0, null, false, false), summary);
        Assert.Equal(summary, AttendanceSummary.Empty with { });
    }

    [Theory]
    [InlineData("2025-09-01", "2025-09-01", "2026-08-31")]
    [InlineData("2026-08-31", "2025-09-01", "2026-08-31")]
    [InlineData("2026-01-15", "2025-09-01", "2026-08-31")]
    [InlineData("2026-09-01", "2026-09-01", "2027-08-31")]
    public void TheDefaultPeriodIsTheAcademicYear(string day, string from, string to)
    {
        var (start, end) = AcademicYear.Containing(DateOnly.Parse(day, System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(DateOnly.Parse(from, System.Globalization.CultureInfo.InvariantCulture), start);
        Assert.Equal(DateOnly.Parse(to, System.Globalization.CultureInfo.InvariantCulture), end);
    }
}
