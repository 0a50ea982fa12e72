namespace Exchange.Api.Peps;

/// <summary>
/// A PEP version as a reader sees it, with when the next one is due. Fields the caller's policy mask hides are absent
/// (the social worker sees status and dates; the designated teacher the health section only with consent).
/// </summary>
/// <param name="ReviewDue">By when the next PEP meeting must be held and its plan approved (null: the child is not in care now).</param>
/// <param name="ReviewDueReason"><c>entered-care</c>, <c>changed-school</c> or <c>termly-review</c>.</param>
/// <param name="LastReviewedOn">The meeting date of the latest approved plan.</param>
/// <param name="TermDates">Whose school-term dates the due date was computed with.</param>
public sealed record PepView(
    string ChildId, int Version, string Status, string StartedOn, string MeetingDate, string? NextReviewDate, string? ReviewDue, string? ReviewDueReason,
    bool? Overdue, string? LastReviewedOn, string? Quality, string? ReturnReason, string? DesignatedTeacher, IReadOnlyList<string>? Attendees,
    IReadOnlyList<PepTarget>? Targets, IReadOnlyList<PepPremiumSpend>? PupilPremiumPlus, string? SenStatus, string? Attainment, string? PupilVoice,
    string? CarerViews, string? HealthSection, string RecordedBy, DateTimeOffset RecordedAt, string TermDates);

/// <summary>One version in the plan's history: what changed, when and by whom (the content is read per version).</summary>
public sealed record PepVersionSummary(int Version, string Status, string MeetingDate, string? Quality, string RecordedBy, DateTimeOffset RecordedAt);

public sealed record PepVersionsView(IReadOnlyList<PepVersionSummary> Items);

/// <summary>What is sealed as one value: everything in the plan a person wrote about the child except the health section.</summary>
internal sealed record PepContent(
    string? DesignatedTeacher, IReadOnlyList<string>? Attendees, IReadOnlyList<PepTarget>? Targets, IReadOnlyList<PepPremiumSpend>? PupilPremiumPlus,
    string? SenStatus, string? Attainment, string? PupilVoice, string? CarerViews);
