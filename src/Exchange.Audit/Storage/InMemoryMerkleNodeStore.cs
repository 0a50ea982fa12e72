using Exchange.Audit.Merkle;

namespace Exchange.Audit.Storage;

/// <summary>
/// An <see cref="IMerkleNodeStore"/> held in memory, for the offline verifier, tools and tests. It counts the
/// hashes read so that tests can assert what a proof costs. Thread-safe; stored and returned arrays are copies.
/// </summary>
public sealed class InMemoryMerkleNodeStore : IMerkleNodeStore
{
    private readonly Lock gate = new();
    private readonly List<byte[]> leaves = [];
    private readonly List<byte[]> leafHashes = [];

    // interiorLevels[level - 1][index] is the hash of node (level, index), for level >= 1.
    private readonly List<List<byte[]>> interiorLevels = [];

    private long hashesRead;
    private long readBatches;
    private long appendBatches;

    /// <summary>Gets the number of hashes returned by <see cref="ReadHashesAsync"/> since the last reset.</summary>
    public long HashesRead
    {
        get
        {
            lock (gate)
            {
                return hashesRead;
            }
        }
    }

    /// <summary>Gets the number of <see cref="ReadHashesAsync"/> calls (round trips) since the last reset.</summary>
    public long ReadBatches
    {
        get
        {
            lock (gate)
            {
                return readBatches;
            }
        }
    }

    /// <summary>Gets the number of successful <see cref="AppendAsync"/> calls since the last reset.</summary>
    public long AppendBatches
    {
        get
        {
            lock (gate)
            {
                return appendBatches;
            }
        }
    }

    /// <summary>Sets <see cref="HashesRead"/>, <see cref="ReadBatches"/> and <see cref="AppendBatches"/> to zero.</summary>
    public void ResetCounters()
    {
        lock (gate)
        {
            hashesRead = 0;
            readBatches = 0;
            appendBatches = 0;
        }
    }

    /// <inheritdoc/>
    public Task<long> GetSizeAsync(CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<long>(cancellationToken);
        }

        lock (gate)
        {
            return Task.FromResult((long)leaves.Count);
        }
    }

    /// <inheritdoc/>
    public Task<IReadOnlyList<byte[]>> ReadHashesAsync(
        IReadOnlyList<MerkleNodeId> nodes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<IReadOnlyList<byte[]>>(cancellationToken);
        }

        lock (gate)
        {
            var result = new byte[nodes.Count][];
            for (var i = 0; i < nodes.Count; i++)
            {
                var hash = Find(nodes[i]);
                if (hash is null)
                {
                    return Task.FromException<IReadOnlyList<byte[]>>(new KeyNotFoundException(
                        $"No stored hash for node (level {nodes[i].Level}, index {nodes[i].Index})."));
                }

                result[i] = (byte[])hash.Clone();
            }

            hashesRead += nodes.Count;
            readBatches++;
            return Task.FromResult<IReadOnlyList<byte[]>>(result);
        }
    }

    /// <inheritdoc/>
    public Task<IReadOnlyList<MerkleLogEntry>> ReadEntriesAsync(
        long startIndex, long endIndex, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(startIndex);
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<IReadOnlyList<MerkleLogEntry>>(cancellationToken);
        }

        lock (gate)
        {
            var end = Math.Min(endIndex, leaves.Count);
            var result = new List<MerkleLogEntry>((int)Math.Max(0, end - startIndex));
            for (var i = startIndex; i < end; i++)
            {
                result.Add(new MerkleLogEntry(
                    i, (byte[])leaves[(int)i].Clone(), (byte[])leafHashes[(int)i].Clone()));
            }

            return Task.FromResult<IReadOnlyList<MerkleLogEntry>>(result);
        }
    }

    /// <inheritdoc/>
    public Task AppendAsync(MerkleAppendBatch batch, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled(cancellationToken);
        }

        lock (gate)
        {
            // Validate everything before changing anything, so a refused batch leaves no trace.
            if (batch.FirstIndex != leaves.Count)
            {
                return Task.FromException(new MerkleLogConflictException(
                    $"The batch starts at index {batch.FirstIndex} but the log has {leaves.Count} entries."));
            }

            var error = Validate(batch);
            if (error is not null)
            {
                return Task.FromException(new InvalidOperationException(error));
            }

            foreach (var entry in batch.Entries)
            {
                leaves.Add((byte[])entry.Leaf.Clone());
                leafHashes.Add((byte[])entry.LeafHash.Clone());
            }

            foreach (var node in batch.Nodes)
            {
                while (interiorLevels.Count < node.Level)
                {
                    interiorLevels.Add([]);
                }

                interiorLevels[node.Level - 1].Add((byte[])node.Hash.Clone());
            }

            appendBatches++;
            return Task.CompletedTask;
        }
    }

    private byte[]? Find(MerkleNodeId id)
    {
        if (id.Index < 0 || id.Index >= int.MaxValue || id.Level < 0)
        {
            return null;
        }

        var index = (int)id.Index;
        if (id.Level == 0)
        {
            return index < leafHashes.Count ? leafHashes[index] : null;
        }

        return id.Level <= interiorLevels.Count && index < interiorLevels[id.Level - 1].Count
            ? interiorLevels[id.Level - 1][index]
            : null;
    }

    private string? Validate(MerkleAppendBatch batch)
    {
        for (var i = 0; i < batch.Entries.Count; i++)
        {
            var entry = batch.Entries[i];
            if (entry is null || entry.Index != batch.FirstIndex + i || entry.Leaf is null
                || entry.LeafHash is not { Length: MerkleHash.Size })
            {
                return $"Entry {i} of the batch is malformed or out of sequence.";
            }
        }

        // Nodes must be complete at the new size and extend their level without gaps or overwrites.
        var nextPerLevel = new Dictionary<int, long>();
        foreach (var node in batch.Nodes)
        {
            if (node is null || node.Level < 1 || node.Level > 62 || node.Hash is not { Length: MerkleHash.Size })
            {
                return "A node of the batch is malformed.";
            }

            if (!nextPerLevel.TryGetValue(node.Level, out var expected))
            {
                expected = node.Level <= interiorLevels.Count ? interiorLevels[node.Level - 1].Count : 0;
            }

            if (node.Index != expected || (node.Index + 1) << node.Level > batch.NewSize)
            {
                return $"Node (level {node.Level}, index {node.Index}) is out of sequence or not complete.";
            }

            nextPerLevel[node.Level] = expected + 1;
        }

        return null;
    }
}
