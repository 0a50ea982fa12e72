namespace Exchange.Audit.Storage;

/// <summary>
/// One entry of the log as stored (one row of the <c>entries(index, leaf, leaf_hash)</c> table).
/// </summary>
/// <param name="Index">The zero-based position of the entry in the log.</param>
/// <param name="Leaf">The exact leaf bytes (for the audit log, the canonical JSON of an event).</param>
/// <param name="LeafHash">
/// The leaf hash <c>SHA-256(0x00 || leaf)</c>; stored so that proofs never rehash leaf bytes.
/// </param>
public sealed record MerkleLogEntry(long Index, byte[] Leaf, byte[] LeafHash);
