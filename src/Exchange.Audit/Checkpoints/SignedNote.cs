using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Exchange.Audit.Checkpoints;

/// <summary>
/// Constants and rules of the C2SP signed-note format (https://c2sp.org/signed-note), as implemented
/// by the Go reference golang.org/x/mod/sumdb/note: a text ending in a newline, a blank line, then
/// one or more lines <c>— &lt;key name&gt; &lt;base64(key ID || signature)&gt;</c>.
/// </summary>
public static class SignedNote
{
    /// <summary>The signature type byte of Ed25519 in key IDs and verifier keys.</summary>
    public const byte Ed25519SignatureType = 0x01;

    /// <summary>The length in bytes of an Ed25519 public key and of a private key seed.</summary>
    public const int Ed25519KeySize = 32;

    /// <summary>The length in bytes of an Ed25519 signature.</summary>
    public const int Ed25519SignatureSize = 64;

    /// <summary>The length in bytes of the key ID that starts every signature.</summary>
    public const int KeyIdSize = 4;

    /// <summary>
    /// The most signature lines a note may carry; more make it malformed (the Go reference's limit,
    /// which is above the spec's minimum of 16).
    /// </summary>
    public const int MaxSignatures = 100;

    /// <summary>The start of every signature line: U+2014 EM DASH followed by a space.</summary>
    public const string SignatureLinePrefix = "\u2014 ";

    /// <summary>
    /// Computes the key ID of an Ed25519 key:
    /// the first four bytes of <c>SHA-256(name || 0x0A || 0x01 || public key)</c>, read big-endian.
    /// </summary>
    /// <param name="name">The key name.</param>
    /// <param name="ed25519PublicKey">The 32-byte Ed25519 public key.</param>
    /// <returns>The key ID; rendered as eight lower-case hex digits in verifier keys.</returns>
    /// <exception cref="ArgumentException">The public key is not 32 bytes.</exception>
    public static uint ComputeEd25519KeyId(string name, ReadOnlySpan<byte> ed25519PublicKey)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentOutOfRangeException.ThrowIfNotEqual(ed25519PublicKey.Length, Ed25519KeySize, nameof(ed25519PublicKey));
        Span<byte> typedKey = stackalloc byte[1 + Ed25519KeySize];
        typedKey[0] = Ed25519SignatureType;
        ed25519PublicKey.CopyTo(typedKey[1..]);
        return ComputeKeyId(name, typedKey);
    }

    /// <summary>
    /// Reports whether <paramref name="name"/> may name a key: non-empty, well-formed, without Unicode
    /// white space or <c>+</c> (as the spec and the Go reference require), and without control characters
    /// (which no note may contain, so a key so named could never sign one).
    /// </summary>
    /// <param name="name">The candidate key name.</param>
    /// <returns>Whether the name is valid.</returns>
    public static bool IsValidKeyName(string? name)
    {
        if (string.IsNullOrEmpty(name))
        {
            return false;
        }

        foreach (var status in EnumerateRunes(name))
        {
            if (status is not { } rune || Rune.IsWhiteSpace(rune) || rune.Value == '+' || rune.Value < 0x20)
            {
                return false;
            }
        }

        return true;
    }

    // SHA-256(name || '\n' || signature type || public key)[:4], big-endian; typedKey starts with the type byte.
    internal static uint ComputeKeyId(string name, ReadOnlySpan<byte> typedKey)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData(Encoding.UTF8.GetBytes(name));
        sha.AppendData("\n"u8);
        sha.AppendData(typedKey);
        Span<byte> hash = stackalloc byte[32];
        sha.GetHashAndReset(hash);
        return BinaryPrimitives.ReadUInt32BigEndian(hash);
    }

    // Whether text is well-formed UTF-16 with no control character other than newline: the rule
    // every note must meet. Returns a reason, or null when the text is acceptable.
    internal static string? CheckNoteCharacters(string text)
    {
        foreach (var status in EnumerateRunes(text))
        {
            if (status is not { } rune)
            {
                return "it is not well-formed Unicode (an unpaired surrogate)";
            }

            if (rune.Value < 0x20 && rune.Value != '\n')
            {
                return $"it contains the control character U+{rune.Value:X4}";
            }
        }

        return null;
    }

    // Yields each rune, or null for an unpaired surrogate.
    private static IEnumerable<Rune?> EnumerateRunes(string text)
    {
        for (var i = 0; i < text.Length;)
        {
            if (Rune.DecodeFromUtf16(text.AsSpan(i), out var rune, out var consumed) != System.Buffers.OperationStatus.Done)
            {
                yield return null;
                yield break;
            }

            yield return rune;
            i += consumed;
        }
    }
}
