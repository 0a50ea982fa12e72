namespace Exchange.Api.Storage;

/// <summary>
/// One saved version of a child's Personal Education Plan. Every save and every change of status is a new row with the
/// next <see cref="Version"/>, so the plan's history is kept whole; the highest version is the current plan. Status,
/// dates and the quality rating are plain (pseudonymised operational: needed for due dates and the cohort); everything
/// a person wrote about the child is sealed under the child's key: the content, the health section on its own (the
/// designated teacher sees it only with consent), and a returned plan's reason.
/// </summary>
public sealed class PepVersion
{
    public const string Draft = "draft";
    public const string Submitted = "submitted";
    public const string Returned = "returned";
    public const string Approved = "approved";

    public required Guid Id { get; init; }
    public required string ChildId { get; set; }
    public required int Version { get; init; }

    /// <summary><see cref="Draft"/>, <see cref="Submitted"/>, <see cref="Returned"/> or <see cref="Approved"/>.</summary>
    public required string Status { get; init; }

    /// <summary>The PEP meeting this version records.</summary>
    public required DateOnly MeetingDate { get; init; }

    /// <summary>The next review the meeting agreed, if it set one.</summary>
    public DateOnly? NextReviewDate { get; init; }

    /// <summary>The virtual school's rating on approval: red, amber or green.</summary>
    public string? Quality { get; init; }

    /// <summary>The plan's content as JSON (targets, Pupil Premium Plus, attainment, voices...), sealed.</summary>
    public required byte[] SealedContent { get; set; }

    /// <summary>The health section, sealed on its own; empty when there is none.</summary>
    public required byte[] SealedHealth { get; set; }

    /// <summary>Why the virtual school returned the plan, sealed; empty unless this version returned it.</summary>
    public required byte[] SealedReturnReason { get; set; }

    /// <summary>The child's school when this version was saved (the designated teacher's school).</summary>
    public string? SchoolId { get; init; }

    /// <summary>The organisation that saved this version or changed its status.</summary>
    public required string RecordedBy { get; init; }
    public DateTimeOffset RecordedAt { get; init; }
}
