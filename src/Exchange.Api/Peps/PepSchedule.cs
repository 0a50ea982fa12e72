namespace Exchange.Api.Peps;

/// <summary>When a child's PEP is due, and why (docs/PEPS.md).</summary>
/// <param name="Due">The date by which the next PEP meeting must be held and its plan approved.</param>
/// <param name="Reason"><c>entered-care</c>, <c>changed-school</c> or <c>termly-review</c>.</param>
public sealed record PepDue(DateOnly Due, string Reason)
{
    public bool IsOverdue(DateOnly today) => today > Due;
}

/// <summary>
/// The statutory PEP timetable (DATA.md; Promoting the education of looked-after children, DfE 2018): a PEP within 10
/// school days of entering care or of a change of school, then a review every school term. School terms are the
/// standard English dates below: the exchange does not yet hold any council's own term dates, so these are used for
/// every child and every answer says so (<see cref="TermDates"/>).
/// </summary>
public static class PepSchedule
{
    /// <summary>Which term dates the answers use.</summary>
    public const string TermDates = "standard-english";

    public const int SchoolDaysForNewPep = 10;

    /// <summary>
    /// The standard English school year, without half terms or bank holidays: autumn 1 September to 20 December,
    /// spring 5 January to 31 March, summer 15 April to 22 July. A council's own dates vary by a few days each year.
    /// </summary>
    private static readonly Term[] StandardTerms =
    [
        new("autumn", 0, 9, 1, 12, 20),
        new("spring", 1, 1, 5, 3, 31),
        new("summer", 1, 4, 15, 7, 22),
    ];

    /// <summary>A term of the academic year starting in September of a year: its months and days, its calendar year offset.</summary>
    private readonly record struct Term(string Name, int YearOffset, int StartMonth, int StartDay, int EndMonth, int EndDay)
    {
        public (string Name, DateOnly Start, DateOnly End) Of(int academicYear) =>
            (Name, new DateOnly(academicYear + YearOffset, StartMonth, StartDay), End(academicYear));

        public DateOnly End(int academicYear) => new(academicYear + YearOffset, EndMonth, EndDay);
    }

    /// <summary>The term a date falls in, or, in a holiday, the term that follows it.</summary>
    public static (string Name, DateOnly Start, DateOnly End) TermOf(DateOnly date)
    {
        var academicYear = date.Month >= 9 ? date.Year : date.Year - 1;
        // Allocates nothing: this runs for every day counted (AddSchoolDays), for every child of a cohort.
        foreach (var term in StandardTerms)
        {
            if (date <= term.End(academicYear))
            {
                return term.Of(academicYear);
            }
        }

        return StandardTerms[0].Of(academicYear + 1);
    }

    /// <summary>The term after the one <paramref name="date"/> belongs to.</summary>
    public static (string Name, DateOnly Start, DateOnly End) TermAfter(DateOnly date) => TermOf(TermOf(date).End.AddDays(1));

    /// <summary>A weekday inside a term.</summary>
    public static bool IsSchoolDay(DateOnly date)
    {
        if (date.DayOfWeek is DayOfWeek.Saturday or DayOfWeek.Sunday)
        {
            return false;
        }

        var term = TermOf(date);
        return term.Start <= date;
    }

    /// <summary>The date <paramref name="days"/> school days after <paramref name="from"/> (which itself does not count).</summary>
    public static DateOnly AddSchoolDays(DateOnly from, int days)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(days);
        var date = from;
        while (days > 0)
        {
            date = date.AddDays(1);
            if (IsSchoolDay(date))
            {
                days--;
            }
        }

        return date;
    }

    /// <summary>
    /// When the next PEP is due. <paramref name="careStart"/>: since when the child has been in care without a break;
    /// <paramref name="schoolStart"/>: the day it started at a new school during that care, if it changed school;
    /// <paramref name="lastReviewedOn"/>: the meeting date of the latest approved plan.
    /// A plan approved for a meeting before the later of entering care and joining the school does not count: the child
    /// needs a new one within 10 school days of that date. After it, a review each term: by the end of the term after
    /// the one the last review fell in.
    /// </summary>
    public static PepDue DueFor(DateOnly careStart, DateOnly? schoolStart, DateOnly? lastReviewedOn)
    {
        var changedSchool = schoolStart is { } joined && joined > careStart;
        var since = changedSchool ? schoolStart!.Value : careStart;
        if (lastReviewedOn is not { } reviewed || reviewed < since)
        {
            return new PepDue(AddSchoolDays(since, SchoolDaysForNewPep), changedSchool ? "changed-school" : "entered-care");
        }

        return new PepDue(TermAfter(reviewed).End, "termly-review");
    }
}
