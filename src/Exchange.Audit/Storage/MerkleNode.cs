namespace Exchange.Audit.Storage;

/// <summary>
/// The stored hash of a complete interior subtree (one row of the <c>nodes(level, index, hash)</c> table).
/// </summary>
/// <param name="Level">The height of the subtree; at least 1 (level 0 hashes are the entries' leaf hashes).</param>
/// <param name="Index">The zero-based position of the subtree among those of the same level.</param>
/// <param name="Hash">The RFC 6962 hash of the subtree; <see cref="Merkle.MerkleHash.Size"/> bytes.</param>
public sealed record MerkleNode(int Level, long Index, byte[] Hash)
{
    /// <summary>Gets the position of this node in the tree.</summary>
    public MerkleNodeId Id => new(Level, Index);
}
