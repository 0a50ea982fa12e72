namespace Exchange.Api.Storage;

/// <summary>
/// One roll check a school made: when and how large. The identifiers it presented are never kept (they were only
/// looked up); the children found are its <see cref="RollCheckMatch"/> rows. Counting these rows is the per-school
/// limit on roll checks, so the limit holds across restarts and across instances.
/// </summary>
public sealed class RollCheck
{
    public required Guid Id { get; init; }

    /// <summary>The school that checked (<c>school:&lt;URN&gt;</c>).</summary>
    public required string SchoolId { get; init; }
    public int Pupils { get; init; }
    public int Matches { get; init; }
    public DateTimeOffset CheckedAt { get; init; }
}

/// <summary>
/// A child in care a school's roll check found: for 30 days it lets the school declare the child's enrolment
/// (the <c>roll-check-match</c> relationship of the policy). A merge moves it to the surviving child.
/// </summary>
public sealed class RollCheckMatch
{
    /// <summary>How long a match lets the school declare the enrolment: the day of the check and the days after it.</summary>
    public const int DaysValid = 30;

    public required Guid Id { get; init; }
    public required Guid RollCheckId { get; init; }
    public required string SchoolId { get; init; }
    public required string ChildId { get; set; }
    public required DateOnly CheckedOn { get; init; }
}

/// <summary>
/// Something an organisation should be told about a child (<c>pupil-enrolled</c>, <c>exclusion-recorded</c>...),
/// written in the same transaction as the change it reports, so no change goes untold and nothing is told that did
/// not happen. It carries only the event type, the child's pseudonymous id and the time: a receiver fetches the
/// detail through the API, where the policy and the audit log decide what it sees. Delivery (webhooks, the event
/// feed) reads these rows; who receives an item is decided then, by the policy in force.
/// </summary>
public sealed class OutboxItem
{
    public const string PupilEnrolled = "pupil-enrolled";
    public const string ExclusionRecorded = "exclusion-recorded";
    public const string PepSubmitted = "pep-submitted";
    public const string PepReturned = "pep-returned";
    public const string PepApproved = "pep-approved";
    public const string PupilLeft = "pupil-left";
    public const string PlacementChanged = "placement-changed";
    public const string MissingEducation = "missing-education";
    public const string PepOverdue = "pep-overdue";
    public const string AbsenceThresholdCrossed = "absence-threshold-crossed";

    /// <summary>Who raises what the scheduled checks find (no person did): the exchange operator.</summary>
    public const string RaisedByChecks = "operator:exchange";

    /// <summary>
    /// The item's place in the feed, given by the database as it is written (SQLite's integer key, a PostgreSQL
    /// identity): the event feed's cursor, so a reader never misses an item that shares another's millisecond.
    /// </summary>
    public long Sequence { get; init; }

    /// <summary>The event id a receiver sees (and de-duplicates deliveries on).</summary>
    public required Guid Id { get; init; }
    public required string Type { get; init; }
    public required string ChildId { get; init; }

    /// <summary>The organisation whose change it reports (the school that enrolled the child, the council...).</summary>
    public required string RaisedBy { get; init; }
    public DateTimeOffset OccurredAt { get; init; }
}

/// <summary>
/// One attendance mark a school sent for a pupil's session. A later mark for the same child, school, day and session
/// replaces it: this row then records when (<see cref="ReplacedAt"/>) and by which mark, and stays as history.
/// </summary>
public sealed class AttendanceMark
{
    public required Guid Id { get; init; }
    public required string ChildId { get; set; }

    /// <summary>The school that recorded it (<c>school:&lt;URN&gt;</c>).</summary>
    public required string SchoolId { get; init; }
    public required DateOnly Date { get; init; }

    /// <summary><c>AM</c> or <c>PM</c>.</summary>
    public required string Session { get; init; }

    /// <summary>A national attendance code (DATA.md, from August 2024).</summary>
    public required string Code { get; init; }
    public int? MinutesLate { get; init; }

    /// <summary>The batch that brought it (one request).</summary>
    public required Guid BatchId { get; init; }
    public DateTimeOffset RecordedAt { get; init; }
    public DateTimeOffset? ReplacedAt { get; set; }
    public Guid? ReplacedBy { get; set; }
}

/// <summary>
/// How one school's current marks for one child in one academic year count (as <c>AttendanceSummary</c> counts them),
/// kept up to date in the unit of work that stores the marks (<see cref="AttendanceMark"/>): the cohort and the
/// scheduled checks read one row per child and school instead of counting a year of marks (380 per child) on every
/// request. A corrected mark moves its session from the old code's count to the new one's; the dates and the time are
/// those of every mark the row ever counted, which, as a correction keeps its mark's day, are the first and last day of
/// the school's current marks. Counts by how a code counts, not by code, so a day's batch adds one row per child, not
/// two: were a code's meaning to change, a migration would count the marks again. Derived data: counted again from the
/// marks when a merge moves them, deleted on erasure.
/// </summary>
public sealed class AttendanceYearCount
{
    public required string ChildId { get; init; }
    public required string SchoolId { get; init; }

    /// <summary>The 1st of September that starts the academic year of the marks.</summary>
    public required DateOnly YearStart { get; init; }
    public int Attended { get; init; }
    public int AuthorisedAbsence { get; init; }
    public int UnauthorisedAbsence { get; init; }

    /// <summary>Sessions whose code is not a possible session (dual registration elsewhere, not required to attend...).</summary>
    public int NotPossible { get; init; }
    public DateOnly FirstDate { get; init; }
    public DateOnly LastDate { get; init; }

    /// <summary>When the latest of the marks counted here was recorded (what <c>updatedSince</c> compares).</summary>
    public DateTimeOffset LastRecordedAt { get; init; }
}

/// <summary>
/// The first answer to a request sent with an <c>Idempotency-Key</c>: a retry with the same key and the same body
/// gets this answer again and changes nothing; the same key with another body is refused (422). Kept per organisation.
/// The answer holds counts, pseudonymous ids and problem codes, never an identifier a caller sent; the key itself is
/// kept only as its SHA-256 (a careless client could put anything in it).
/// </summary>
public sealed class IdempotencyRecord
{
    public required string OrganisationId { get; init; }

    /// <summary>SHA-256 of the <c>Idempotency-Key</c> as sent.</summary>
    public required byte[] KeyHash { get; init; }

    /// <summary>The operation the key was used for (<c>POST /v1/attendance</c>).</summary>
    public required string Operation { get; init; }

    /// <summary>SHA-256 of the content type and the body as sent.</summary>
    public required byte[] RequestHash { get; init; }
    public int Status { get; init; }
    public required string ResponseJson { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
}

/// <summary>
/// A suspension or permanent exclusion a school recorded for a pupil. The DfE reason category is plain (it is what
/// summaries count); the school's own words are sealed under the child's data key, so erasure shreds them. A merge
/// moves the row to the surviving child and seals its text again for it.
/// </summary>
public sealed class Exclusion
{
    public const string Suspension = "suspension";
    public const string Permanent = "permanent-exclusion";

    public required Guid Id { get; init; }
    public required string ChildId { get; set; }

    /// <summary>The school that excluded the pupil and recorded it (<c>school:&lt;URN&gt;</c>).</summary>
    public required string SchoolId { get; init; }

    /// <summary><see cref="Suspension"/> or <see cref="Permanent"/>.</summary>
    public required string Type { get; init; }
    public required DateOnly StartDate { get; init; }

    /// <summary>Suspensions: the sessions (half days) it lasts; null for a permanent exclusion.</summary>
    public int? Sessions { get; init; }

    /// <summary>The DfE reason category's census code.</summary>
    public required string ReasonCode { get; init; }

    /// <summary>The school's own words, sealed (see ExclusionsApi.ReasonPlace); empty when the school gave none.</summary>
    public required byte[] SealedReasonText { get; set; }
    public DateTimeOffset RecordedAt { get; init; }
}
