namespace Exchange.Audit.Storage;

/// <summary>
/// Durable storage behind <see cref="MerkleLog"/>: the entries of an append-only log and the hashes of its
/// complete subtrees. Designed to map onto two append-only tables,
/// <c>entries(index PK, leaf, leaf_hash)</c> and <c>nodes(level, index, hash, PK(level, index))</c>,
/// with every call one round trip.
/// </summary>
/// <remarks>
/// <para>
/// Rows are only ever inserted. A node <c>(level, index)</c> is written once, in the same transaction as
/// the entry that completes its subtree, so at any committed size every complete subtree has its hash
/// stored and a root or proof needs only O(log n) hash reads.
/// </para>
/// <para>
/// Implementations must be safe to call concurrently for reads. <see cref="MerkleLog"/> serialises its own
/// appends; a store shared by several writers must still refuse a batch whose
/// <see cref="MerkleAppendBatch.FirstIndex"/> is not its current size (a primary key on
/// <c>entries.index</c> does this naturally).
/// </para>
/// </remarks>
public interface IMerkleNodeStore
{
    /// <summary>Gets the number of entries committed so far (the index the next entry will get).</summary>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The current size of the log.</returns>
    Task<long> GetSizeAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Reads the hashes of the given complete subtrees in one batch. Level 0 means the leaf hash of the entry
    /// with that index (<c>entries.leaf_hash</c>); higher levels come from the nodes table.
    /// </summary>
    /// <param name="nodes">The subtrees to read; distinct, in no particular order.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>One hash per requested node, in the order requested.</returns>
    /// <exception cref="KeyNotFoundException">A requested node is not stored (the store is incomplete or corrupt).</exception>
    Task<IReadOnlyList<byte[]>> ReadHashesAsync(
        IReadOnlyList<MerkleNodeId> nodes, CancellationToken cancellationToken = default);

    /// <summary>Reads the stored entries with indexes in <c>[startIndex, endIndex)</c>, in index order.</summary>
    /// <param name="startIndex">The first index to read.</param>
    /// <param name="endIndex">One past the last index to read; clipped to the size of the log.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The entries, with their exact leaf bytes and stored leaf hashes.</returns>
    Task<IReadOnlyList<MerkleLogEntry>> ReadEntriesAsync(
        long startIndex, long endIndex, CancellationToken cancellationToken = default);

    /// <summary>
    /// Writes a batch of entries and completed node hashes atomically (one transaction: the group commit).
    /// When the returned task completes successfully the batch must be durable; if it fails, nothing of the
    /// batch may be visible.
    /// </summary>
    /// <param name="batch">The entries and nodes to write.</param>
    /// <param name="cancellationToken">Cancels the write (which then must leave nothing behind).</param>
    /// <returns>A task that completes when the batch is durable.</returns>
    /// <exception cref="MerkleLogConflictException">
    /// <see cref="MerkleAppendBatch.FirstIndex"/> is not the current size (a concurrent writer appended first);
    /// nothing was written, and <see cref="GroupCommitAppender"/> retries the batch on the new right edge.
    /// </exception>
    /// <exception cref="InvalidOperationException">The batch would overwrite a stored row.</exception>
    Task AppendAsync(MerkleAppendBatch batch, CancellationToken cancellationToken = default);
}
