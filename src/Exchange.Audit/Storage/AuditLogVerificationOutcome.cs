namespace Exchange.Audit.Storage;

/// <summary>What the offline verifier concluded about an export.</summary>
public enum AuditLogVerificationOutcome
{
    /// <summary>Every entry is present and the recomputed roots equal every trusted root.</summary>
    Verified = 0,

    /// <summary>
    /// The entry at <see cref="AuditLogVerificationResult.EntryIndex"/> is the first that does not match: its leaf
    /// bytes differ from the log's own stored leaf hash (and the root does not match, or could not be checked),
    /// or two consecutive trusted roots isolate it.
    /// </summary>
    LeafMismatch,

    /// <summary>
    /// The leaf bytes verify against a trusted root, but the stored leaf hash exported for the entry at
    /// <see cref="AuditLogVerificationResult.EntryIndex"/> does not match them: the hash column was altered or
    /// the export is faulty.
    /// </summary>
    StoredLeafHashMismatch,

    /// <summary>
    /// A recomputed root differs from the trusted one but no single entry can be named (leaf bytes and stored
    /// hashes were rewritten together). The first altered entry lies in
    /// [<see cref="AuditLogVerificationResult.SuspectStart"/>, <see cref="AuditLogVerificationResult.SuspectEnd"/>).
    /// </summary>
    RootMismatch,

    /// <summary>The entry at <see cref="AuditLogVerificationResult.EntryIndex"/> is absent: a gap, or the export ends early.</summary>
    MissingEntry,

    /// <summary>
    /// Where entry <see cref="AuditLogVerificationResult.EntryIndex"/> was expected the export repeats an earlier
    /// index or goes backwards (a duplicated or inserted entry).
    /// </summary>
    UnexpectedEntry,

    /// <summary>
    /// The export has entries beyond the largest trusted tree size, from
    /// <see cref="AuditLogVerificationResult.EntryIndex"/> on.
    /// </summary>
    ExtraEntry,
}
