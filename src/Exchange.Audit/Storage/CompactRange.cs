using System.Numerics;
using Exchange.Audit.Merkle;

namespace Exchange.Audit.Storage;

/// <summary>
/// The right edge of a growing tree of <see cref="Size"/> leaves: one hash per set bit of the size, the
/// roots of the perfect subtrees that compose the tree. Appending a leaf merges equal-sized subtrees,
/// which is exactly when interior nodes become complete.
/// </summary>
internal sealed class CompactRange
{
    private const int MaxLevels = 63;

    // hashes[level] is set exactly when bit `level` of Size is set.
    private readonly byte[]?[] hashes = new byte[MaxLevels][];

    public long Size { get; private set; }

    /// <summary>Rebuilds the range from the hashes of <see cref="PerfectSubtrees(long, long)"/>(0, size).</summary>
    public static CompactRange FromSubtrees(long size, IReadOnlyList<MerkleNodeId> ids, IReadOnlyList<byte[]> subtreeHashes)
    {
        var range = new CompactRange { Size = size };
        for (var i = 0; i < ids.Count; i++)
        {
            range.hashes[ids[i].Level] = subtreeHashes[i];
        }

        return range;
    }

    /// <summary>
    /// The aligned perfect subtrees, largest first, that make up leaves <c>[start, start + count)</c>.
    /// The range must be one that RFC 6962's recursion produces (start aligned to the smallest power of
    /// two not below count), which holds for every prefix and for every range in a proof.
    /// </summary>
    public static List<MerkleNodeId> PerfectSubtrees(long start, long count)
    {
        var ids = new List<MerkleNodeId>(BitOperations.PopCount((ulong)count));
        var position = start;
        for (var level = MaxLevels - 1; level >= 0; level--)
        {
            if (((count >> level) & 1) == 0)
            {
                continue;
            }

            if ((position & ((1L << level) - 1)) != 0)
            {
                throw new InvalidOperationException($"Leaves [{start}, {start + count}) are not a right-edge range.");
            }

            ids.Add(new MerkleNodeId(level, position >> level));
            position += 1L << level;
        }

        return ids;
    }

    /// <summary>Hashes the subtrees of <see cref="PerfectSubtrees"/>, given largest first, into one root.</summary>
    public static byte[] FoldRight(IReadOnlyList<byte[]> subtreeHashes)
    {
        if (subtreeHashes.Count == 0)
        {
            return MerkleHash.EmptyRoot.ToArray();
        }

        var hash = subtreeHashes[^1];
        for (var i = subtreeHashes.Count - 2; i >= 0; i--)
        {
            hash = MerkleHash.NodeHash(subtreeHashes[i], hash);
        }

        return hash;
    }

    public CompactRange Clone()
    {
        var copy = new CompactRange { Size = Size };
        hashes.CopyTo(copy.hashes, 0);
        return copy;
    }

    /// <summary>Appends one leaf hash, adding the interior nodes it completes to <paramref name="completed"/>.</summary>
    public void Append(byte[] leafHash, List<MerkleNode>? completed)
    {
        var hash = leafHash;
        var level = 0;
        var newSize = Size + 1;
        while (((Size >> level) & 1) == 1)
        {
            hash = MerkleHash.NodeHash(hashes[level], hash);
            hashes[level] = null;
            level++;
            completed?.Add(new MerkleNode(level, (newSize >> level) - 1, hash));
        }

        hashes[level] = hash;
        Size = newSize;
    }

    /// <summary>The root hash of the first <see cref="Size"/> leaves.</summary>
    public byte[] Root()
    {
        byte[]? root = null;
        foreach (var hash in hashes)
        {
            if (hash is not null)
            {
                root = root is null ? hash : MerkleHash.NodeHash(hash, root);
            }
        }

        return root is null ? MerkleHash.EmptyRoot.ToArray() : (byte[])root.Clone();
    }
}
