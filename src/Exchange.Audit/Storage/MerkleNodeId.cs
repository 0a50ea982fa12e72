namespace Exchange.Audit.Storage;

/// <summary>
/// The position of a complete subtree in the Merkle tree: the node at level <see cref="Level"/> and
/// index <see cref="Index"/> covers leaves <c>[Index * 2^Level, (Index + 1) * 2^Level)</c>.
/// Level 0 is a leaf, whose hash is the leaf hash of entry <see cref="Index"/>.
/// </summary>
/// <param name="Level">The height of the subtree: 0 for a leaf, 1 for a pair of leaves, and so on (at most 62).</param>
/// <param name="Index">The zero-based position of the subtree among those of the same level.</param>
public readonly record struct MerkleNodeId(int Level, long Index)
{
    /// <summary>Gets the index of the first leaf the subtree covers.</summary>
    public long FirstLeaf => Index << Level;

    /// <summary>Gets the number of leaves the subtree covers.</summary>
    public long LeafCount => 1L << Level;
}
