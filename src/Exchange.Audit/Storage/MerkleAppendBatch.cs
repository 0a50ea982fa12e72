namespace Exchange.Audit.Storage;

/// <summary>
/// What one append writes, all or nothing: a run of new entries and the interior node hashes
/// whose subtrees those entries complete.
/// </summary>
/// <param name="FirstIndex">
/// The index of the first new entry; the store must refuse the batch unless this equals its current size
/// (another writer got there first).
/// </param>
/// <param name="Entries">The new entries, with consecutive indexes from <paramref name="FirstIndex"/>.</param>
/// <param name="Nodes">
/// The interior nodes (level at least 1) that became complete, each exactly once over the life of the log.
/// Within a level they are in ascending index order.
/// </param>
public sealed record MerkleAppendBatch(
    long FirstIndex, IReadOnlyList<MerkleLogEntry> Entries, IReadOnlyList<MerkleNode> Nodes)
{
    /// <summary>Gets the size of the log once the batch is written.</summary>
    public long NewSize => FirstIndex + Entries.Count;
}
