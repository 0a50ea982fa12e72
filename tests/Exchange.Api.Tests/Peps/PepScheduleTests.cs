using Exchange.Api.Peps;

namespace Exchange.Api.Tests.Peps;

/// <summary>The PEP timetable on the standard English term dates, counted by hand.</summary>
public sealed class PepScheduleTests
{
    private static DateOnly D(string iso) => DateOnly.ParseExact(iso, "yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);

    [Theory]
    [InlineData("2026-09-01", "autumn", "2026-12-20")]
    [InlineData("2026-12-20", "autumn", "2026-12-20")]
    [InlineData("2026-12-21", "spring", "2027-03-31")] // the Christmas holiday belongs to the term that follows it
    [InlineData("2027-01-05", "spring", "2027-03-31")]
    [InlineData("2027-04-01", "summer", "2027-07-22")]
    [InlineData("2027-07-22", "summer", "2027-07-22")]
    [InlineData("2027-08-15", "autumn", "2027-12-20")]
    public void EachDateBelongsToItsTermOrInAHolidayToTheNext(string date, string term, string end)
    {
        var found = PepSchedule.TermOf(D(date));
        Assert.Equal((term, D(end)), (found.Name, found.End));
    }

    [Fact]
    public void TenSchoolDaysSkipWeekendsAndTheChristmasHoliday()
    {
        // Monday 14 December 2026: 15-18 Dec are four school days, the term ends on the 20th, spring starts Tuesday 5 January.
        Assert.Equal(D("2027-01-12"), PepSchedule.AddSchoolDays(D("2026-12-14"), 10));
        // Inside a term, two weeks of weekdays: Tuesday 1 September 2026 to Tuesday 15 September.
        Assert.Equal(D("2026-09-15"), PepSchedule.AddSchoolDays(D("2026-09-01"), 10));
        // Entering care in the summer holiday: the days count from the first day of the autumn term.
        Assert.Equal(D("2026-09-14"), PepSchedule.AddSchoolDays(D("2026-08-10"), 10));
    }

    [Fact]
    public void ANewPepIsDueTenSchoolDaysAfterEnteringCareOrChangingSchool()
    {
        Assert.Equal(new PepDue(D("2026-09-15"), "entered-care"), PepSchedule.DueFor(D("2026-09-01"), D("2025-09-01"), null));
        Assert.Equal(new PepDue(D("2027-01-12"), "changed-school"), PepSchedule.DueFor(D("2025-09-01"), D("2026-12-14"), D("2026-10-05")));
        // No school at all: counted from entering care.
        Assert.Equal(new PepDue(D("2026-09-15"), "entered-care"), PepSchedule.DueFor(D("2026-09-01"), null, null));
    }

    [Theory]
    [InlineData("2026-10-05", "2027-03-31")] // autumn review: due by the end of spring
    [InlineData("2026-12-20", "2027-03-31")] // the last day of autumn still counts for autumn
    [InlineData("2026-12-22", "2027-07-22")] // a meeting in the Christmas holiday counts for spring: due by the end of summer
    [InlineData("2027-03-31", "2027-07-22")]
    [InlineData("2027-07-10", "2027-12-20")] // summer review: due by the end of the next autumn term
    public void AfterAnApprovedReviewTheNextIsDueByTheEndOfTheFollowingTerm(string reviewed, string due)
    {
        Assert.Equal(new PepDue(D(due), "termly-review"), PepSchedule.DueFor(D("2025-09-01"), D("2025-09-01"), D(reviewed)));
    }

    [Fact]
    public void OverdueStartsTheDayAfterTheDueDate()
    {
        var due = PepSchedule.DueFor(D("2025-09-01"), D("2025-09-01"), D("2026-10-05"));
        Assert.False(due.IsOverdue(D("2027-03-31")));
        Assert.True(due.IsOverdue(D("2027-04-01")));
    }
}
