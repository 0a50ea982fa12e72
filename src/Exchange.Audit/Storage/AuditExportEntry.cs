namespace Exchange.Audit.Storage;

/// <summary>One entry of an audit log export, as the offline verifier reads it.</summary>
/// <param name="Index">The zero-based position of the entry in the log.</param>
/// <param name="Leaf">The exact leaf bytes as stored.</param>
/// <param name="StoredLeafHash">
/// The leaf hash the log stored for this entry, when the export carries it. It lets the verifier name an entry
/// whose leaf bytes were edited after it was written; it is never trusted for the root computation.
/// </param>
public sealed record AuditExportEntry(long Index, byte[] Leaf, byte[]? StoredLeafHash = null);
