using System.Security.Cryptography;

namespace Exchange.Audit.Merkle;

/// <summary>
/// The RFC 6962 / RFC 9162 hashing of a Merkle tree over SHA-256: leaves and interior nodes
/// are hashed with different one-byte prefixes so that a leaf can never be passed off as a node.
/// </summary>
public static class MerkleHash
{
    /// <summary>The length in bytes of every hash in the tree (SHA-256).</summary>
    public const int Size = 32;

    private const byte LeafPrefix = 0x00;
    private const byte NodePrefix = 0x01;

    // Leaves up to this size are hashed from a stack buffer; larger ones are streamed.
    private const int MaxStackLeaf = 512;

    /// <summary>The root hash of the empty tree: SHA-256 of the empty string.</summary>
    public static ReadOnlySpan<byte> EmptyRoot =>
    [
        0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
        0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
    ];

    /// <summary>Computes the leaf hash <c>SHA-256(0x00 || leaf)</c>.</summary>
    /// <param name="leaf">The leaf bytes (for the audit log, the canonical JSON of an event).</param>
    /// <returns>The 32-byte leaf hash.</returns>
    public static byte[] LeafHash(ReadOnlySpan<byte> leaf)
    {
        var hash = new byte[Size];
        LeafHash(leaf, hash);
        return hash;
    }

    /// <summary>Computes the leaf hash <c>SHA-256(0x00 || leaf)</c> into <paramref name="destination"/>.</summary>
    /// <param name="leaf">The leaf bytes.</param>
    /// <param name="destination">Receives the hash; at least <see cref="Size"/> bytes.</param>
    public static void LeafHash(ReadOnlySpan<byte> leaf, Span<byte> destination)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(destination.Length, Size, nameof(destination));
        if (leaf.Length < MaxStackLeaf)
        {
            Span<byte> buffer = stackalloc byte[MaxStackLeaf];
            buffer[0] = LeafPrefix;
            leaf.CopyTo(buffer[1..]);
            SHA256.HashData(buffer[..(leaf.Length + 1)], destination);
            return;
        }

        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData([LeafPrefix]);
        sha.AppendData(leaf);
        sha.GetHashAndReset(destination);
    }

    /// <summary>Computes the interior node hash <c>SHA-256(0x01 || left || right)</c>.</summary>
    /// <param name="left">The hash of the left subtree.</param>
    /// <param name="right">The hash of the right subtree.</param>
    /// <returns>The 32-byte node hash.</returns>
    public static byte[] NodeHash(ReadOnlySpan<byte> left, ReadOnlySpan<byte> right)
    {
        var hash = new byte[Size];
        NodeHash(left, right, hash);
        return hash;
    }

    /// <summary>
    /// Computes the interior node hash <c>SHA-256(0x01 || left || right)</c> into
    /// <paramref name="destination"/>, which may overlap either input.
    /// </summary>
    /// <param name="left">The hash of the left subtree; <see cref="Size"/> bytes.</param>
    /// <param name="right">The hash of the right subtree; <see cref="Size"/> bytes.</param>
    /// <param name="destination">Receives the hash; at least <see cref="Size"/> bytes.</param>
    public static void NodeHash(ReadOnlySpan<byte> left, ReadOnlySpan<byte> right, Span<byte> destination)
    {
        ArgumentOutOfRangeException.ThrowIfNotEqual(left.Length, Size, nameof(left));
        ArgumentOutOfRangeException.ThrowIfNotEqual(right.Length, Size, nameof(right));
        ArgumentOutOfRangeException.ThrowIfLessThan(destination.Length, Size, nameof(destination));
        Span<byte> buffer = stackalloc byte[1 + (2 * Size)];
        buffer[0] = NodePrefix;
        left.CopyTo(buffer[1..]);
        right.CopyTo(buffer[(1 + Size)..]);
        SHA256.HashData(buffer, destination);
    }
}
