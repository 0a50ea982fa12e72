using Exchange.Api.Peps;

namespace Exchange.Api.Checks;

/// <summary>
/// When a child with a current school counts as missing education: after the configured number of school days
/// (standard English terms, weekdays) with no mark from that school, counted from its last mark this academic year,
/// or else from the later of the enrolment's start and the year's start. Today's registers may not be in yet, so the
/// days counted are those before today. One rule for the cohort's flag and the scheduled check's event.
/// </summary>
public static class MissingEducationRule
{
    /// <summary>The first day the child counts as missing education from <paramref name="enrolmentStart"/>'s school.</summary>
    public static DateOnly From(DateOnly enrolmentStart, DateOnly? lastMarkThisYear, DateOnly yearStart, int schoolDays)
    {
        var reference = lastMarkThisYear ?? Later(enrolmentStart.AddDays(-1), yearStart.AddDays(-1));
        return PepSchedule.AddSchoolDays(reference, Math.Clamp(schoolDays, 1, 60)).AddDays(1);
    }

    private static DateOnly Later(DateOnly a, DateOnly b) => a > b ? a : b;
}
