namespace Exchange.Api.Storage;

// Stored types. Requests and responses are separate types; nothing binds a request onto these.

public enum OrganisationKind
{
    Operator = 0,
    Council = 1,
    School = 2,
    Health = 3,
}

public sealed class Organisation
{
    public required string Id { get; init; }
    public required OrganisationKind Kind { get; init; }
    public required string Name { get; set; }
    /// <summary>Councils: their own LA number. Schools: the LA they are in. Others: null.</summary>
    public string? LaNumber { get; init; }
    public bool Active { get; set; } = true;
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? DeactivatedAt { get; set; }
}

public sealed class Child
{
    public required string Id { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public required string CreatedByOrganisation { get; init; }
    /// <summary>Set when an identity review merged this child into another; the id keeps resolving to the survivor.</summary>
    public string? MergedIntoChildId { get; set; }
    public DateTimeOffset? MergedAt { get; set; }
    /// <summary>Set when the child was erased: its data key and identifiers are gone; the id answers 410.</summary>
    public DateTimeOffset? ErasedAt { get; set; }
}

/// <summary>A fingerprint of a local secret, so a service started with the wrong keys refuses to run.</summary>
public sealed class KeyCheck
{
    public required string Name { get; init; }
    public required string Fingerprint { get; init; }
}

/// <summary>A child's (or review case's) data key, stored only wrapped by a key-encryption key.</summary>
public sealed class DataKeyRecord
{
    public required string OwnerId { get; init; }
    public required byte[] KeyId { get; set; }
    public int Version { get; set; }
    /// <summary>The wrapping KEK's id with its version; rotation moves keys to the current one.</summary>
    public required string KekKeyId { get; set; }
    public required string Algorithm { get; set; }
    public required byte[] WrappedKey { get; set; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? RewrappedAt { get; set; }
    /// <summary>Set when the owner was crypto-shredded: the row stays as a tombstone with no key material.</summary>
    public DateTimeOffset? ErasedAt { get; set; }
}

/// <summary>One identifier of a child: a blind index for lookup and a sealed copy, never the plain value.</summary>
public sealed class ChildIdentifier
{
    public required Guid Id { get; init; }
    public required string ChildId { get; set; }
    /// <summary>Identifier type with, for council IDs, the LA number: <c>nhs</c>, <c>upn</c>, <c>la:202</c>.</summary>
    public required string Type { get; init; }
    public required byte[] BlindIndex { get; set; }
    /// <summary>Which blind-index secret made <see cref="BlindIndex"/>; re-indexing moves rows to the current one.</summary>
    public required string IndexKeyVersion { get; set; }
    public required byte[] Sealed { get; set; }
    public bool IsTemporary { get; init; }
    public DateTimeOffset LinkedAt { get; init; }
    public required string LinkedByOrganisation { get; init; }
}

/// <summary>A council's corporate-parent responsibility for a child over a date range.</summary>
public sealed class CareEpisode
{
    public required Guid Id { get; init; }
    public required string ChildId { get; set; }
    public required string ResponsibleLaNumber { get; init; }
    public required DateOnly StartDate { get; init; }
    public DateOnly? EndDate { get; set; }
    public DateTimeOffset RecordedAt { get; init; }

    /// <summary>When the end was recorded, if after the episode itself: an end may be backdated, and an incremental pull must still see it.</summary>
    public DateTimeOffset? EndedAt { get; set; }
}

public enum ReviewStatus
{
    Open = 0,
    Merged = 1,
    Dismissed = 2,
}

/// <summary>A case for the exchange admin: presented identifiers that do not agree with the register.</summary>
public sealed class IdentityReview
{
    public required string Id { get; init; }
    public required string Reason { get; init; }
    /// <summary>A digest of the reason, candidates and presented blind indexes, so a retried request reuses the open case.</summary>
    public required string ConflictKey { get; init; }
    public ReviewStatus Status { get; set; }
    public required List<string> CandidateChildIds { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public required string RaisedByOrganisation { get; init; }
    public DateTimeOffset? ClosedAt { get; set; }
    public string? ClosedBy { get; set; }
    public string? SurvivorChildId { get; set; }
    /// <summary>Children merged into the survivor by this case (their details are in child_merges).</summary>
    public List<string> MergedChildIds { get; init; } = [];
    /// <summary>Identifiers the merge linked to the survivor from those presented with the case.</summary>
    public List<Guid> LinkedIdentifierIds { get; init; } = [];
    public List<IdentityReviewIdentifier> Identifiers { get; init; } = [];
}

/// <summary>An identifier as it was presented when the conflict arose, and which child (if any) it matched.</summary>
public sealed class IdentityReviewIdentifier
{
    public required Guid Id { get; init; }
    public required string ReviewId { get; init; }
    public required string Type { get; init; }
    public required byte[] BlindIndex { get; set; }
    public required string IndexKeyVersion { get; set; }
    public required byte[] Sealed { get; init; }
    public bool IsTemporary { get; init; }
    public string? MatchedChildId { get; init; }
}

/// <summary>The record of a merge, with what moved, so that it can be audited and reversed.</summary>
public sealed class ChildMerge
{
    public required Guid Id { get; init; }
    public required string ReviewId { get; init; }
    public required string SurvivorChildId { get; init; }
    public required string MergedChildId { get; init; }
    public required List<Guid> MovedIdentifierIds { get; init; }
    public required List<Guid> MovedCareEpisodeIds { get; init; }
    public DateTimeOffset MergedAt { get; init; }
    public required string MergedBy { get; init; }
}

/// <summary>
/// The newest audit checkpoint's size and root, kept in the main database as well as in the audit store,
/// so that restoring an older audit store or deleting its checkpoints is caught at start.
/// </summary>
public sealed class AuditHead
{
    public const string Latest = "latest";

    public required string Name { get; init; }
    public long TreeSize { get; set; }
    public required byte[] RootHash { get; set; }
    public DateTimeOffset RecordedAt { get; set; }
}

/// <summary>
/// A relationship of an organisation to a child as a dated fact (placement: host council; enrolment: school;
/// health responsibility: health body). Care episodes (the responsible council) have their own table.
/// </summary>
public sealed class ChildRelationship
{
    /// <summary>The care episode's relationship (its own table, <see cref="CareEpisode"/>).</summary>
    public const string ResponsibleCouncil = "responsible-council";
    public const string HostCouncil = "host-council";
    public const string EnrolledSchool = "enrolled-school";
    public const string HealthResponsibility = "health-responsibility";

    /// <summary>
    /// A school's roll check found the child: not stored here but derived from <see cref="RollCheckMatch"/> rows
    /// (the day of the check and the 29 after it), so the school may declare the enrolment.
    /// </summary>
    public const string RollCheckMatch = "roll-check-match";

    public required Guid Id { get; init; }
    public required string ChildId { get; set; }
    public required string Kind { get; init; }
    public required string OrganisationId { get; init; }
    public required DateOnly StartDate { get; init; }
    public DateOnly? EndDate { get; set; }
    public required string RecordedBy { get; init; }
    public DateTimeOffset RecordedAt { get; init; }

    /// <summary>When the end was recorded, if after the relationship itself: an end may be backdated, and an incremental pull must still see it.</summary>
    public DateTimeOffset? EndedAt { get; set; }
}

/// <summary>
/// A consent (UK GDPR Art. 7) to share categories of a child's data with recipients for purposes, from/until.
/// Withdrawal is recorded, never deleted: it takes effect on the next decision.
/// </summary>
public sealed class ConsentRecord
{
    public required Guid Id { get; init; }
    public required string ChildId { get; set; }

    /// <summary><c>young-person</c>, <c>parental-responsibility</c> or <c>corporate-parent</c>.</summary>
    public required string GivenBy { get; init; }
    public required List<string> Categories { get; init; }
    public required List<string> Recipients { get; init; }
    public required List<string> Purposes { get; init; }
    public required DateOnly From { get; init; }
    public DateOnly? Until { get; init; }
    public DateTimeOffset? WithdrawnAt { get; set; }
    public required string RecordedBy { get; init; }
    public DateTimeOffset RecordedAt { get; init; }
}

/// <summary>
/// A change to a child's processing state, kept as history (the newest of each kind is in force):
/// a restriction of processing (Art. 18) with the purposes it still allows, its lifting, or an objection
/// (Art. 21) to processing for some purposes.
/// </summary>
public sealed class ProcessingLimit
{
    public const string Restriction = "restriction";
    public const string Objection = "objection";

    /// <summary>Who recorded it: the operator's DPO, above a council (see Restrictions.LimitAuthority).</summary>
    public const string OperatorDpoAuthority = "operator-dpo";
    public const string CouncilAuthority = "council";

    public required Guid Id { get; init; }
    public required string ChildId { get; set; }
    public required string Kind { get; init; }

    /// <summary>For a restriction: on or lifted. For an objection: upheld or withdrawn.</summary>
    public required bool Active { get; init; }

    /// <summary>Restriction: the purposes still allowed. Objection: the purposes objected to.</summary>
    public required List<string> Purposes { get; init; }

    /// <summary>The written reason, sealed with the child's data key (erasure shreds it); see ProcessingLimitsApi.ReasonPlace.</summary>
    public required byte[] SealedReason { get; set; }
    public required string RecordedBy { get; init; }

    /// <summary>The authority it was recorded with: changing a limit in force needs the same or a higher one.</summary>
    public required string Authority { get; init; }

    /// <summary>Lifting a restriction: the day the data subject was told it would be lifted (Art. 18(3)).</summary>
    public DateOnly? DataSubjectInformedOn { get; init; }
    public DateTimeOffset RecordedAt { get; init; }
}

/// <summary>
/// A break-glass grant: one person (subject) of one organisation may read a child's safeguarding data for a
/// short time without a relationship. The written reason is sealed with the child's data key (erasure shreds it).
/// </summary>
public sealed class BreakGlassGrant
{
    public required Guid Id { get; init; }
    public required string ChildId { get; set; }
    public required string OrganisationId { get; init; }
    public required string Subject { get; init; }
    public required byte[] SealedReason { get; set; }
    public required DateTimeOffset StartsAt { get; init; }
    public required DateTimeOffset ExpiresAt { get; init; }
}

/// <summary>
/// A handover of a child's history: the council that looked after the child (or the operator's DPO for it) lets
/// the receiving council read the facts of some categories dated within the handing-over council's care
/// episodes. Revocable: a revoked handover widens nothing from the next decision on; rows are never deleted.
/// </summary>
public sealed class CareHandover
{
    public required Guid Id { get; init; }
    public required string ChildId { get; set; }

    /// <summary>The LA number whose episodes' history is handed over.</summary>
    public required string FromLaNumber { get; init; }

    /// <summary>The LA number of the receiving council.</summary>
    public required string ToLaNumber { get; init; }
    public required List<string> Categories { get; init; }
    public required string RecordedBy { get; init; }
    public DateTimeOffset RecordedAt { get; init; }
    public DateTimeOffset? RevokedAt { get; set; }
    public string? RevokedBy { get; set; }
}

/// <summary>
/// An alert for DPOs other than a break-glass grant (those are their own rows): a council opened a care episode
/// for a child already known to the exchange, a merge gave an organisation a relationship it did not have, or a
/// school checked a roll far larger than any school's (no child then).
/// Holds the child's pseudonymous id and organisation ids only, never identifiers or staff ids.
/// </summary>
public sealed class DpoAlert
{
    public const string EpisodeOpened = "episode-opened";
    public const string MergeRelationship = "merge-relationship";
    public const string RollCheckOversize = "roll-check-oversize";

    public required Guid Id { get; init; }
    public required string Kind { get; init; }

    /// <summary>The child it concerns; null for an alert about an organisation's behaviour (an oversized roll check).</summary>
    public string? ChildId { get; set; }

    /// <summary>The organisation whose action raised it (the council opening the episode; the operator for a merge).</summary>
    public required string RaisedBy { get; init; }

    /// <summary>The organisations concerned: their DPOs see the alert.</summary>
    public required List<string> Organisations { get; init; }
    public DateTimeOffset RaisedAt { get; init; }
}
