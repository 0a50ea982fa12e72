using Exchange.Audit.Checkpoints;
using Exchange.Audit.Storage;

namespace Exchange.Audit.Offline;

/// <summary>The outcome of an offline verification, for people: whether it held, and what failed where.</summary>
/// <param name="IsValid">The export matches the signed checkpoint.</param>
/// <param name="Message">One line saying what was verified, or what failed and at which entry.</param>
/// <param name="EntryIndex">The first entry that does not match, when one can be named.</param>
public sealed record OfflineVerificationResult(bool IsValid, string Message, long? EntryIndex);

/// <summary>
/// Checks an audit export against a signed checkpoint with only the published verifier key: no
/// database, no server. The checkpoint's signature is verified first; then every exported leaf is
/// hashed and the tree is rebuilt to the checkpoint's size, naming the first entry that differs.
/// </summary>
public static class OfflineAuditVerifier
{
    /// <summary>Verifies.</summary>
    /// <param name="export">The export (JSON Lines, see <see cref="AuditExportFile"/>).</param>
    /// <param name="signedCheckpoint">The signed note holding the checkpoint.</param>
    /// <param name="verifierKey">The published verifier key (<c>name+keyid+base64</c>).</param>
    /// <returns>The outcome.</returns>
    public static OfflineVerificationResult Verify(TextReader export, string signedCheckpoint, string verifierKey)
    {
        ArgumentNullException.ThrowIfNull(export);
        ArgumentNullException.ThrowIfNull(signedCheckpoint);
        ArgumentNullException.ThrowIfNull(verifierKey);
        CheckpointVerifier verifier;
        try
        {
            verifier = CheckpointVerifier.Parse(verifierKey);
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException)
        {
            return new OfflineVerificationResult(false, "The verifier key is malformed: " + ex.Message, null);
        }

        var checkpoint = verifier.Verify(signedCheckpoint);
        if (!checkpoint.IsValid)
        {
            return new OfflineVerificationResult(false, "The checkpoint does not verify with this key: " + checkpoint, null);
        }

        var size = checkpoint.Checkpoint!.TreeSize;
        List<AuditExportEntry> entries;
        try
        {
            // Entries beyond the checkpoint were appended after it and are not covered by it.
            entries = AuditExportFile.Read(export).TakeWhile(e => e.Index < size).ToList();
        }
        catch (FormatException ex)
        {
            return new OfflineVerificationResult(false, ex.Message, null);
        }

        var result = AuditLogVerifier.Verify(entries, size, checkpoint.Checkpoint.RootHash.ToArray());
        var withheld = entries.Count(e => e.Withheld);
        return result.IsValid
            ? new OfflineVerificationResult(true, withheld == 0
                ? $"Verified: {size} entries match the checkpoint signed by {verifier.Origin}."
                : $"Verified: {size} entries match the checkpoint signed by {verifier.Origin}; {withheld} were withheld from this export and were checked by their leaf hashes only.", null)
            : new OfflineVerificationResult(false, $"{result.Outcome}: {result.Detail}", result.EntryIndex);
    }
}
