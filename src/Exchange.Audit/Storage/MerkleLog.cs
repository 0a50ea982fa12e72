using System.Numerics;
using Exchange.Audit.Merkle;

namespace Exchange.Audit.Storage;

/// <summary>
/// An append-only RFC 6962 / RFC 9162 Merkle log over an <see cref="IMerkleNodeStore"/>. Roots, inclusion
/// proofs and consistency proofs at any tree size are byte-identical to <see cref="MerkleTree"/>'s, but are
/// assembled from stored complete-subtree hashes: each costs one batched read of O(log n) hashes
/// (at most about 2·log2(n)), never a rescan of the leaves.
/// </summary>
/// <remarks>
/// Appends through one instance are serialised, and the instance remembers the right edge of the tree
/// between appends, so it should be the only writer of its store (register it as a singleton). If the
/// store refuses or fails a batch, the next append reloads the right edge from the store. Reads may run
/// concurrently with appends and with each other.
/// </remarks>
public sealed class MerkleLog : IDisposable
{
    private readonly IMerkleNodeStore store;
    private readonly SemaphoreSlim appendGate = new(1, 1);

    // The right edge after the last append this instance made; null until loaded or after a failed append.
    private CompactRange? rightEdge;

    // The largest size this instance has seen the store at: the log only grows, so a proof or root at or
    // below it needs no size query first.
    private long knownSize;

    /// <summary>Creates a log over <paramref name="store"/>.</summary>
    /// <param name="store">Where entries and node hashes are kept.</param>
    public MerkleLog(IMerkleNodeStore store)
    {
        ArgumentNullException.ThrowIfNull(store);
        this.store = store;
    }

    /// <summary>Gets the number of entries in the log.</summary>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The current tree size.</returns>
    public Task<long> GetSizeAsync(CancellationToken cancellationToken = default) => store.GetSizeAsync(cancellationToken);

    /// <summary>
    /// Appends <paramref name="leaves"/> as one atomic batch (a single <see cref="IMerkleNodeStore.AppendAsync"/>
    /// call writing the entries, their leaf hashes and every node hash they complete). The task completes
    /// only once the store reports the batch durable.
    /// </summary>
    /// <param name="leaves">The exact leaf bytes, in order; not modified while the call runs.</param>
    /// <param name="cancellationToken">Cancels the append.</param>
    /// <returns>The index assigned to each leaf, in the same order (consecutive).</returns>
    /// <exception cref="ArgumentException">A leaf is null.</exception>
    public async Task<IReadOnlyList<long>> AppendAsync(
        IReadOnlyList<byte[]> leaves, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(leaves);
        if (leaves.Count == 0)
        {
            return [];
        }

        // Hashing is the CPU-heavy part and needs no ordering, so it happens outside the gate.
        var leafHashes = new byte[leaves.Count][];
        for (var i = 0; i < leaves.Count; i++)
        {
            var leaf = leaves[i] ?? throw new ArgumentException($"The leaf at position {i} is null.", nameof(leaves));
            leafHashes[i] = MerkleHash.LeafHash(leaf);
        }

        await appendGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var edge = (rightEdge ?? await LoadRightEdgeAsync(cancellationToken).ConfigureAwait(false)).Clone();
            var firstIndex = edge.Size;
            var entries = new MerkleLogEntry[leaves.Count];
            var nodes = new List<MerkleNode>(leaves.Count + 64);
            var indexes = new long[leaves.Count];
            for (var i = 0; i < leaves.Count; i++)
            {
                indexes[i] = firstIndex + i;
                entries[i] = new MerkleLogEntry(indexes[i], leaves[i], leafHashes[i]);
                edge.Append(leafHashes[i], nodes);
            }

            // Forget the edge until the store confirms: a failed or cancelled write may or may not have landed.
            rightEdge = null;
            await store.AppendAsync(new MerkleAppendBatch(firstIndex, entries, nodes), cancellationToken)
                .ConfigureAwait(false);
            rightEdge = edge;
            NoteSize(edge.Size);
            return indexes;
        }
        finally
        {
            appendGate.Release();
        }
    }

    /// <summary>Computes the root hash of the first <paramref name="treeSize"/> entries (RFC 6962 MTH).</summary>
    /// <param name="treeSize">The tree size, from 0 to the current size.</param>
    /// <param name="cancellationToken">Cancels the reads.</param>
    /// <returns>The root hash; <see cref="MerkleHash.EmptyRoot"/> for size 0.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="treeSize"/> is negative or beyond the log.</exception>
    public async Task<byte[]> RootAsync(long treeSize, CancellationToken cancellationToken = default)
    {
        await EnsureWithinLogAsync(treeSize, nameof(treeSize), cancellationToken).ConfigureAwait(false);
        if (treeSize == 0)
        {
            return MerkleHash.EmptyRoot.ToArray();
        }

        var hashes = await ResolveAsync([new LeafRange(0, treeSize)], cancellationToken).ConfigureAwait(false);
        return hashes[0];
    }

    /// <summary>
    /// Builds the inclusion proof (RFC 6962 PATH, ordered from the leaf up as RFC 9162 verifiers expect) that
    /// entry <paramref name="index"/> is in the tree of the first <paramref name="treeSize"/> entries.
    /// </summary>
    /// <param name="index">The zero-based index of the entry; below <paramref name="treeSize"/>.</param>
    /// <param name="treeSize">The tree size, at most the current size.</param>
    /// <param name="cancellationToken">Cancels the reads.</param>
    /// <returns>The sibling hashes; empty for a one-entry tree.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The index or tree size is out of range.</exception>
    public async Task<IReadOnlyList<byte[]>> InclusionProofAsync(
        long index, long treeSize, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, treeSize);
        await EnsureWithinLogAsync(treeSize, nameof(treeSize), cancellationToken).ConfigureAwait(false);

        // PATH(m, D[start:start+count]) walked top-down; each step contributes its sibling range.
        var siblings = new List<LeafRange>();
        long m = index, start = 0, count = treeSize;
        while (count > 1)
        {
            var k = SplitPoint(count);
            if (m < k)
            {
                siblings.Add(new LeafRange(start + k, count - k));
                count = k;
            }
            else
            {
                siblings.Add(new LeafRange(start, k));
                m -= k;
                start += k;
                count -= k;
            }
        }

        siblings.Reverse();
        return await ResolveAsync(siblings, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Builds the consistency proof (RFC 6962 PROOF) that the tree of the first <paramref name="oldSize"/>
    /// entries is a prefix of the tree of the first <paramref name="newSize"/>.
    /// </summary>
    /// <param name="oldSize">The older size: at least 1 (a proof from the empty tree is meaningless).</param>
    /// <param name="newSize">The newer size: at least <paramref name="oldSize"/> and at most the current size.</param>
    /// <param name="cancellationToken">Cancels the reads.</param>
    /// <returns>The proof hashes; empty when the sizes are equal.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A size is out of range.</exception>
    public async Task<IReadOnlyList<byte[]>> ConsistencyProofAsync(
        long oldSize, long newSize, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(oldSize, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(oldSize, newSize);
        await EnsureWithinLogAsync(newSize, nameof(newSize), cancellationToken).ConfigureAwait(false);

        // SUBPROOF(m, D[start:start+count], b) walked top-down.
        var parts = new List<LeafRange>();
        long m = oldSize, start = 0, count = newSize;
        var startsFromOldRoot = true;
        while (m != count)
        {
            var k = SplitPoint(count);
            if (m <= k)
            {
                parts.Add(new LeafRange(start + k, count - k));
                count = k;
            }
            else
            {
                parts.Add(new LeafRange(start, k));
                m -= k;
                start += k;
                count -= k;
                startsFromOldRoot = false;
            }
        }

        if (!startsFromOldRoot)
        {
            parts.Add(new LeafRange(start, count));
        }

        parts.Reverse();
        return await ResolveAsync(parts, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public void Dispose() => appendGate.Dispose();

    private void NoteSize(long size)
    {
        var seen = Interlocked.Read(ref knownSize);
        while (size > seen)
        {
            var previous = Interlocked.CompareExchange(ref knownSize, size, seen);
            if (previous == seen)
            {
                return;
            }

            seen = previous;
        }
    }

    // The largest power of two smaller than n, for n >= 2.
    private static long SplitPoint(long n) => 1L << BitOperations.Log2((ulong)(n - 1));

    private async Task EnsureWithinLogAsync(long treeSize, string paramName, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(treeSize, paramName);
        if (treeSize <= Interlocked.Read(ref knownSize))
        {
            return;
        }

        var size = await store.GetSizeAsync(cancellationToken).ConfigureAwait(false);
        NoteSize(size);
        if (treeSize > size)
        {
            throw new ArgumentOutOfRangeException(paramName, treeSize, $"The log has only {size} entries.");
        }
    }

    private async Task<CompactRange> LoadRightEdgeAsync(CancellationToken cancellationToken)
    {
        var size = await store.GetSizeAsync(cancellationToken).ConfigureAwait(false);
        var ids = CompactRange.PerfectSubtrees(0, size);
        var hashes = await ReadHashesAsync(ids, cancellationToken).ConfigureAwait(false);
        return CompactRange.FromSubtrees(size, ids, hashes);
    }

    // Hashes MTH of each range with one batched read of the distinct complete subtrees they decompose into.
    private async Task<IReadOnlyList<byte[]>> ResolveAsync(List<LeafRange> ranges, CancellationToken cancellationToken)
    {
        if (ranges.Count == 0)
        {
            return [];
        }

        var decomposed = new List<MerkleNodeId>[ranges.Count];
        var distinct = new List<MerkleNodeId>();
        var positions = new Dictionary<MerkleNodeId, int>();
        for (var i = 0; i < ranges.Count; i++)
        {
            decomposed[i] = CompactRange.PerfectSubtrees(ranges[i].Start, ranges[i].Count);
            foreach (var id in decomposed[i])
            {
                if (positions.TryAdd(id, distinct.Count))
                {
                    distinct.Add(id);
                }
            }
        }

        var hashes = await ReadHashesAsync(distinct, cancellationToken).ConfigureAwait(false);
        var result = new byte[ranges.Count][];
        for (var i = 0; i < ranges.Count; i++)
        {
            result[i] = CompactRange.FoldRight(decomposed[i].ConvertAll(id => hashes[positions[id]]));
        }

        return result;
    }

    private async Task<IReadOnlyList<byte[]>> ReadHashesAsync(List<MerkleNodeId> ids, CancellationToken cancellationToken)
    {
        if (ids.Count == 0)
        {
            return [];
        }

        var hashes = await store.ReadHashesAsync(ids, cancellationToken).ConfigureAwait(false);
        if (hashes is null || hashes.Count != ids.Count)
        {
            throw new InvalidOperationException(
                $"The store returned {hashes?.Count ?? 0} hashes for {ids.Count} requested nodes.");
        }

        for (var i = 0; i < hashes.Count; i++)
        {
            if (hashes[i] is not { Length: MerkleHash.Size })
            {
                throw new InvalidOperationException(
                    $"The store returned a malformed hash for node (level {ids[i].Level}, index {ids[i].Index}).");
            }
        }

        return hashes;
    }

    // Leaves [Start, Start + Count).
    private readonly record struct LeafRange(long Start, long Count);
}
