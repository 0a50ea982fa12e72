using System.Collections.Frozen;

namespace Exchange.Api.Attendance;

/// <summary>The DfE's groups of attendance codes (in force from 19 August 2024).</summary>
public enum AttendanceCategory
{
    Present,
    ApprovedEducationalActivity,
    DualRegistration,
    AuthorisedAbsence,
    NotCompulsorySchoolAge,
    UnauthorisedAbsence,
    UnableToAttend,
    Administrative,
}

/// <summary>How one code counts in a summary: whether the session was possible, and if so attended or which absence.</summary>
public enum SessionCount
{
    NotPossible,
    Attended,
    AuthorisedAbsence,
    UnauthorisedAbsence,
}

/// <summary>One national attendance code, its meaning and how it counts.</summary>
/// <param name="OnlyIn">The one session the code may be used in (<c>/</c> is the morning's present mark, <c>\</c> the afternoon's), or null for both.</param>
public sealed record AttendanceCode(string Code, AttendanceCategory Category, string Meaning, string? OnlyIn = null)
{
    public SessionCount Counts => Category switch
    {
        AttendanceCategory.Present or AttendanceCategory.ApprovedEducationalActivity => SessionCount.Attended,
        AttendanceCategory.AuthorisedAbsence => SessionCount.AuthorisedAbsence,
        AttendanceCategory.UnauthorisedAbsence => SessionCount.UnauthorisedAbsence,
        _ => SessionCount.NotPossible,
    };
}

/// <summary>
/// The national attendance codes of the School Attendance (Pupil Registration) (England) Regulations 2024, as set out
/// in the DfE's statutory guidance "Working together to improve school attendance" (August 2024), and the codes that
/// guidance withdrew. Codes are case-sensitive and exact: a register holds nothing else.
/// </summary>
public static class AttendanceCodes
{
    public const string Morning = "AM";
    public const string Afternoon = "PM";

    public static readonly IReadOnlyList<AttendanceCode> All =
    [
        new("/", AttendanceCategory.Present, "present (morning)", Morning),
        new("\\", AttendanceCategory.Present, "present (afternoon)", Afternoon),
        new("L", AttendanceCategory.Present, "late, arrived before the register closed"),
        new("K", AttendanceCategory.ApprovedEducationalActivity, "attending education provision arranged by the local authority"),
        new("V", AttendanceCategory.ApprovedEducationalActivity, "attending an educational visit or trip"),
        new("P", AttendanceCategory.ApprovedEducationalActivity, "participating in a supervised sporting activity"),
        new("W", AttendanceCategory.ApprovedEducationalActivity, "attending work experience"),
        new("B", AttendanceCategory.ApprovedEducationalActivity, "attending any other approved educational activity"),
        new("D", AttendanceCategory.DualRegistration, "attending the session at another school where registered"),
        new("C1", AttendanceCategory.AuthorisedAbsence, "leave for a regulated performance or regulated employment abroad"),
        new("C2", AttendanceCategory.AuthorisedAbsence, "leave for a part-time timetable"),
        new("C", AttendanceCategory.AuthorisedAbsence, "leave of absence for exceptional circumstances"),
        new("M", AttendanceCategory.AuthorisedAbsence, "medical or dental appointment"),
        new("J1", AttendanceCategory.AuthorisedAbsence, "interview"),
        new("S", AttendanceCategory.AuthorisedAbsence, "study leave"),
        new("T", AttendanceCategory.AuthorisedAbsence, "parent travelling for occupational purposes"),
        new("R", AttendanceCategory.AuthorisedAbsence, "religious observance"),
        new("I", AttendanceCategory.AuthorisedAbsence, "illness"),
        new("E", AttendanceCategory.AuthorisedAbsence, "suspended or permanently excluded, no alternative provision made"),
        new("X", AttendanceCategory.NotCompulsorySchoolAge, "not of compulsory school age, not required to attend"),
        new("G", AttendanceCategory.UnauthorisedAbsence, "holiday not granted by the school"),
        new("N", AttendanceCategory.UnauthorisedAbsence, "reason for absence not yet given"),
        new("O", AttendanceCategory.UnauthorisedAbsence, "absent in other or unknown circumstances"),
        new("U", AttendanceCategory.UnauthorisedAbsence, "arrived in school after the register closed"),
        new("Q", AttendanceCategory.UnableToAttend, "lack of access arrangements"),
        new("Y1", AttendanceCategory.UnableToAttend, "transport normally provided not available"),
        new("Y2", AttendanceCategory.UnableToAttend, "widespread disruption to travel"),
        new("Y3", AttendanceCategory.UnableToAttend, "part of the school premises closed"),
        new("Y4", AttendanceCategory.UnableToAttend, "whole school site unexpectedly closed"),
        new("Y5", AttendanceCategory.UnableToAttend, "in criminal justice detention"),
        new("Y6", AttendanceCategory.UnableToAttend, "in accordance with public health guidance or law"),
        new("Y7", AttendanceCategory.UnableToAttend, "any other unavoidable cause"),
        new("Z", AttendanceCategory.Administrative, "prospective pupil not on the admission register"),
        new("#", AttendanceCategory.Administrative, "planned whole or partial school closure"),
    ];

    /// <summary>
    /// Codes withdrawn on 19 August 2024, and what replaced each: <c>H</c> (agreed holiday) became leave of absence
    /// for exceptional circumstances, <c>C</c>; <c>J</c> (interview) became <c>J1</c>, now an authorised absence;
    /// the bare <c>Y</c> was split into <c>Y1</c> to <c>Y7</c>.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string> Withdrawn = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["H"] = "C",
        ["J"] = "J1",
        ["Y"] = "Y1-Y7",
    }.ToFrozenDictionary(StringComparer.Ordinal);

    private static readonly FrozenDictionary<string, AttendanceCode> ByCode = All.ToFrozenDictionary(c => c.Code, StringComparer.Ordinal);

    public static AttendanceCode? Find(string? code) => code is not null && ByCode.TryGetValue(code, out var found) ? found : null;

    public static bool IsSession(string? session) => session is Morning or Afternoon;
}
