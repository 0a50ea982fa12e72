using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Exchange.Crypto.Keys;

namespace Exchange.Crypto.Sealing;

/// <summary>
/// The sealed form of a field, format version 2:
/// <code>
/// offset  size  content
///      0     1  format version (0x02)
///      1     8  data key id
///      9     4  data key version (big-endian)
///     13    12  nonce (fresh and random for every seal)
///     25     n  ciphertext (AES-256-GCM)
///   25+n    16  tag
/// </code>
/// Overhead: <see cref="Overhead"/> = 41 bytes. The associated data is the 13-byte header
/// followed by the UTF-8 of the value's <see cref="FieldPlace"/>, so neither the header nor the
/// place can be altered without the tag failing.
/// </summary>
public static class SealedField
{
    /// <summary>The format version this code writes.</summary>
    public const byte FormatVersion = 2;

    /// <summary>Header bytes before the nonce.</summary>
    public const int HeaderSize = 1 + DataKey.KeyIdSize + 4;

    /// <summary>Nonce size: 96 bits.</summary>
    public const int NonceSize = 12;

    /// <summary>Tag size: 128 bits.</summary>
    public const int TagSize = 16;

    /// <summary>Bytes a sealed value adds to its plaintext.</summary>
    public const int Overhead = HeaderSize + NonceSize + TagSize;

    /// <summary>Seals <paramref name="plaintext"/> for <paramref name="place"/> under <paramref name="key"/>.</summary>
    /// <param name="key">The owner's data key.</param>
    /// <param name="place">Where the value will be stored.</param>
    /// <param name="plaintext">The value.</param>
    /// <returns>The sealed bytes.</returns>
    public static byte[] Seal(DataKey key, FieldPlace place, ReadOnlySpan<byte> plaintext)
    {
        ArgumentNullException.ThrowIfNull(key);
        var output = new byte[Overhead + plaintext.Length];
        output[0] = FormatVersion;
        key.KeyId.CopyTo(output.AsSpan(1, DataKey.KeyIdSize));
        BinaryPrimitives.WriteUInt32BigEndian(output.AsSpan(1 + DataKey.KeyIdSize, 4), (uint)key.Version);
        var nonce = output.AsSpan(HeaderSize, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        var length = HeaderSize + place.ByteCount;
        byte[]? rented = null;
        var ad = length <= StackLimit ? stackalloc byte[length] : (rented = ArrayPool<byte>.Shared.Rent(length)).AsSpan(0, length);
        try
        {
            WriteAssociatedData(output, place, ad);
            key.Encrypt(nonce, plaintext, output.AsSpan(HeaderSize + NonceSize, plaintext.Length),
                output.AsSpan(HeaderSize + NonceSize + plaintext.Length, TagSize), ad);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }

        return output;
    }

    /// <summary>Seals UTF-8 text.</summary>
    /// <param name="key">The owner's data key.</param>
    /// <param name="place">Where the value will be stored.</param>
    /// <param name="text">The value.</param>
    /// <returns>The sealed bytes.</returns>
    public static byte[] Seal(DataKey key, FieldPlace place, string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return Seal(key, place, Encoding.UTF8.GetBytes(text));
    }

    /// <summary>Opens a value sealed by <see cref="Seal(DataKey, FieldPlace, ReadOnlySpan{byte})"/> for the same place.</summary>
    /// <param name="key">The owner's data key.</param>
    /// <param name="place">Where the value was read from.</param>
    /// <param name="sealedValue">The sealed bytes.</param>
    /// <returns>The plaintext.</returns>
    /// <exception cref="SealedValueException">Unknown format, another key, moved, or tampered with.</exception>
    public static byte[] Open(DataKey key, FieldPlace place, ReadOnlySpan<byte> sealedValue)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (sealedValue.Length < Overhead)
        {
            throw new SealedValueException("The sealed value is too short.");
        }

        if (sealedValue[0] != FormatVersion)
        {
            throw new SealedValueException("The sealed value has an unknown format version.");
        }

        if (!sealedValue.Slice(1, DataKey.KeyIdSize).SequenceEqual(key.KeyId)
            || BinaryPrimitives.ReadUInt32BigEndian(sealedValue.Slice(1 + DataKey.KeyIdSize, 4)) != (uint)key.Version)
        {
            throw new SealedValueException("The sealed value was sealed under another data key.");
        }

        var length = sealedValue.Length - Overhead;
        var plaintext = new byte[length];
        var adLength = HeaderSize + place.ByteCount;
        byte[]? rented = null;
        var ad = adLength <= StackLimit ? stackalloc byte[adLength] : (rented = ArrayPool<byte>.Shared.Rent(adLength)).AsSpan(0, adLength);
        try
        {
            WriteAssociatedData(sealedValue, place, ad);
            key.Decrypt(sealedValue.Slice(HeaderSize, NonceSize), sealedValue.Slice(HeaderSize + NonceSize, length),
                sealedValue.Slice(HeaderSize + NonceSize + length, TagSize), plaintext, ad);
        }
        catch (CryptographicException ex)
        {
            CryptographicOperations.ZeroMemory(plaintext);
            throw new SealedValueException("The sealed value failed its integrity check.", ex);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }

        return plaintext;
    }

    // Associated data (header + place) is built on the stack: it is needed on every seal and open.
    private const int StackLimit = 512;

    private static void WriteAssociatedData(ReadOnlySpan<byte> sealedValue, FieldPlace place, Span<byte> destination)
    {
        sealedValue[..HeaderSize].CopyTo(destination);
        place.Write(destination[HeaderSize..]);
    }
}
