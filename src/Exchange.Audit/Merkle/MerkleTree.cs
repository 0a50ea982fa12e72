using System.Numerics;

namespace Exchange.Audit.Merkle;

/// <summary>
/// Computes the Merkle Tree Hash (MTH), inclusion proofs (PATH) and consistency proofs (PROOF)
/// of RFC 6962 section 2.1 over a list of leaf hashes (see <see cref="MerkleHash.LeafHash(ReadOnlySpan{byte})"/>).
/// Proof hashes are ordered from the leaves up, as RFC 9162 verifiers expect.
/// </summary>
public static class MerkleTree
{
    /// <summary>Computes the root hash of the tree whose leaves have the given hashes.</summary>
    /// <param name="leafHashes">The leaf hashes, in log order; each <see cref="MerkleHash.Size"/> bytes.</param>
    /// <returns>The root hash; <see cref="MerkleHash.EmptyRoot"/> for no leaves.</returns>
    /// <exception cref="ArgumentException">A leaf hash is null or not <see cref="MerkleHash.Size"/> bytes.</exception>
    public static byte[] RootHash(IReadOnlyList<byte[]> leafHashes)
    {
        ValidateLeafHashes(leafHashes);
        if (leafHashes.Count == 0)
        {
            return MerkleHash.EmptyRoot.ToArray();
        }

        var root = new byte[MerkleHash.Size];
        SubtreeHash(leafHashes, 0, leafHashes.Count, root);
        return root;
    }

    /// <summary>
    /// Builds the audit path (RFC 6962 section 2.1.1) proving that leaf <paramref name="index"/>
    /// is in the tree of all <paramref name="leafHashes"/>.
    /// </summary>
    /// <param name="leafHashes">The leaf hashes of the tree, in log order.</param>
    /// <param name="index">The zero-based index of the leaf; less than the tree size.</param>
    /// <returns>The sibling hashes from the leaf up to the root; empty for a one-leaf tree.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is not a leaf of the tree.</exception>
    /// <exception cref="ArgumentException">A leaf hash is null or not <see cref="MerkleHash.Size"/> bytes.</exception>
    public static IReadOnlyList<byte[]> InclusionProof(IReadOnlyList<byte[]> leafHashes, long index)
    {
        ValidateLeafHashes(leafHashes);
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, leafHashes.Count);

        var proof = new List<byte[]>();
        AuditPath(leafHashes, (int)index, 0, leafHashes.Count, proof);
        return proof;
    }

    /// <summary>
    /// Builds the consistency proof (RFC 6962 section 2.1.2) that the tree of the first
    /// <paramref name="oldSize"/> leaves is a prefix of the tree of all <paramref name="leafHashes"/>.
    /// </summary>
    /// <param name="leafHashes">The leaf hashes of the newer tree, in log order.</param>
    /// <param name="oldSize">The size of the older tree: at least 1 and at most the newer tree's size.</param>
    /// <returns>The proof hashes; empty when both sizes are equal.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="oldSize"/> is out of range
    /// (a proof from the empty tree is meaningless, RFC 9162 section 2.1.4).</exception>
    /// <exception cref="ArgumentException">A leaf hash is null or not <see cref="MerkleHash.Size"/> bytes.</exception>
    public static IReadOnlyList<byte[]> ConsistencyProof(IReadOnlyList<byte[]> leafHashes, long oldSize)
    {
        ValidateLeafHashes(leafHashes);
        ArgumentOutOfRangeException.ThrowIfLessThan(oldSize, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(oldSize, leafHashes.Count);

        var proof = new List<byte[]>();
        SubProof(leafHashes, (int)oldSize, 0, leafHashes.Count, startsFromOldRoot: true, proof);
        return proof;
    }

    // PATH(m, D[start:start+count]), appended bottom-up.
    private static void AuditPath(IReadOnlyList<byte[]> leaves, int m, int start, int count, List<byte[]> proof)
    {
        if (count <= 1)
        {
            return;
        }

        var k = SplitPoint(count);
        if (m < k)
        {
            AuditPath(leaves, m, start, k, proof);
            proof.Add(SubtreeHash(leaves, start + k, count - k));
        }
        else
        {
            AuditPath(leaves, m - k, start + k, count - k, proof);
            proof.Add(SubtreeHash(leaves, start, k));
        }
    }

    // SUBPROOF(m, D[start:start+count], b), appended bottom-up.
    private static void SubProof(
        IReadOnlyList<byte[]> leaves, int m, int start, int count, bool startsFromOldRoot, List<byte[]> proof)
    {
        if (m == count)
        {
            if (!startsFromOldRoot)
            {
                proof.Add(SubtreeHash(leaves, start, count));
            }

            return;
        }

        var k = SplitPoint(count);
        if (m <= k)
        {
            SubProof(leaves, m, start, k, startsFromOldRoot, proof);
            proof.Add(SubtreeHash(leaves, start + k, count - k));
        }
        else
        {
            SubProof(leaves, m - k, start + k, count - k, startsFromOldRoot: false, proof);
            proof.Add(SubtreeHash(leaves, start, k));
        }
    }

    private static byte[] SubtreeHash(IReadOnlyList<byte[]> leaves, int start, int count)
    {
        var hash = new byte[MerkleHash.Size];
        SubtreeHash(leaves, start, count, hash);
        return hash;
    }

    // MTH(D[start:start+count]) for count >= 1, written to destination without heap allocation.
    private static void SubtreeHash(IReadOnlyList<byte[]> leaves, int start, int count, Span<byte> destination)
    {
        if (count == 1)
        {
            leaves[start].CopyTo(destination);
            return;
        }

        var k = SplitPoint(count);
        Span<byte> children = stackalloc byte[2 * MerkleHash.Size];
        SubtreeHash(leaves, start, k, children[..MerkleHash.Size]);
        SubtreeHash(leaves, start + k, count - k, children[MerkleHash.Size..]);
        MerkleHash.NodeHash(children[..MerkleHash.Size], children[MerkleHash.Size..], destination);
    }

    private static void ValidateLeafHashes(IReadOnlyList<byte[]> leafHashes)
    {
        ArgumentNullException.ThrowIfNull(leafHashes);
        for (var i = 0; i < leafHashes.Count; i++)
        {
            if (leafHashes[i] is not { Length: MerkleHash.Size })
            {
                throw new ArgumentException(
                    $"Every leaf hash must be {MerkleHash.Size} bytes; the one at index {i} is not.",
                    nameof(leafHashes));
            }
        }
    }

    // The largest power of two smaller than n, for n >= 2.
    private static int SplitPoint(int n) => 1 << BitOperations.Log2((uint)(n - 1));
}
