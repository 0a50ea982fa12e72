namespace Exchange.Api.Auditing.Storage;

/// <summary>
/// One audit log entry: its exact leaf bytes (canonical JSON) and leaf hash, which are what the Merkle
/// tree covers, plus copies of a few of the leaf's fields so that a DPO's search need not parse every
/// leaf. The copies are derived from the leaf when it is stored and are never trusted for verification.
/// Append-only (triggers).
/// </summary>
public sealed class AuditEntryRecord
{
    public long Index { get; init; }
    public required byte[] Leaf { get; init; }
    public required byte[] LeafHash { get; init; }

    /// <summary>The event's time in Unix milliseconds (UTC).</summary>
    public long TimeMs { get; init; }
    public string? ActorOrganisation { get; init; }
    public string? ActorSubject { get; init; }
    public string? ChildId { get; init; }
    public string? Purpose { get; init; }
    public string? Decision { get; init; }
}

/// <summary>The hash of a complete subtree of the audit log (level 1 and up). Append-only (triggers).</summary>
public sealed class AuditNodeRecord
{
    public int Level { get; init; }
    public long Index { get; init; }
    public required byte[] Hash { get; init; }
}

/// <summary>
/// A checkpoint the service signed: the tree size, its root and the signed note as published. The
/// start-up check holds the log to the newest of these. Append-only (triggers).
/// </summary>
public sealed class AuditCheckpointRecord
{
    public long TreeSize { get; init; }
    public required byte[] RootHash { get; init; }
    public required string SignedNote { get; init; }
    public long SignedAtMs { get; init; }
}
