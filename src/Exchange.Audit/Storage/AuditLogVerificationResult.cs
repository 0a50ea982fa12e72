namespace Exchange.Audit.Storage;

/// <summary>The conclusion of <see cref="AuditLogVerifier"/> about an export.</summary>
/// <param name="Outcome">What was found.</param>
/// <param name="EntryIndex">The index of the entry named by the outcome, when one is named.</param>
/// <param name="VerifiedSize">
/// The largest trusted tree size whose root was recomputed successfully: entries <c>[0, VerifiedSize)</c> are
/// authentic even when a later check failed.
/// </param>
/// <param name="SuspectStart">For <see cref="AuditLogVerificationOutcome.RootMismatch"/>, the first index that may be altered.</param>
/// <param name="SuspectEnd">For <see cref="AuditLogVerificationOutcome.RootMismatch"/>, one past the last index that may hold the first alteration.</param>
/// <param name="Detail">A sentence for people: what failed and where.</param>
public sealed record AuditLogVerificationResult(
    AuditLogVerificationOutcome Outcome,
    long? EntryIndex,
    long VerifiedSize,
    long? SuspectStart,
    long? SuspectEnd,
    string Detail)
{
    /// <summary>Gets whether the export verified.</summary>
    public bool IsValid => Outcome == AuditLogVerificationOutcome.Verified;
}
