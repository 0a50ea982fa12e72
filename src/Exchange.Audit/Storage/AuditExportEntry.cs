namespace Exchange.Audit.Storage;

/// <summary>One entry of an audit log export, as the offline verifier reads it.</summary>
/// <param name="Index">The zero-based position of the entry in the log.</param>
/// <param name="Leaf">The exact leaf bytes as stored.</param>
/// <param name="StoredLeafHash">
/// The leaf hash the log stored for this entry, when the export carries it. It lets the verifier name an entry
/// whose leaf bytes were edited after it was written; it is never trusted for the root computation.
/// </param>
/// <param name="Withheld">
/// The entry's content was withheld from this export (it concerns another organisation): <paramref name="Leaf"/>
/// is empty and <paramref name="StoredLeafHash"/> stands in for it, so the roots can still be recomputed. A
/// withheld entry's content is not checked, but its hash is: any change to it changes the root.
/// </param>
public sealed record AuditExportEntry(long Index, byte[] Leaf, byte[]? StoredLeafHash = null, bool Withheld = false)
{
    /// <summary>An entry whose content is withheld and only its leaf hash exported.</summary>
    /// <param name="index">The entry's index.</param>
    /// <param name="leafHash">Its stored leaf hash.</param>
    /// <returns>The entry.</returns>
    public static AuditExportEntry WithheldEntry(long index, byte[] leafHash) => new(index, [], leafHash, Withheld: true);
}
