using System.Security.Cryptography;
using System.Text;

namespace Exchange.Crypto;

/// <summary>
/// Seals field values with AES-256-GCM under one local key, with a fresh 96-bit nonce per
/// seal and associated data that binds the value to its place (for example
/// <c>entity|field|childId|recordId</c>). Sealed form:
/// <c>version (1 byte) || nonce (12) || ciphertext || tag (16)</c>, 29 bytes of overhead.
/// </summary>
/// <remarks>
/// This is the interim single-key protection; per-child envelope keys replace it. Safe to share
/// between threads: each operation uses its own <see cref="AesGcm"/>, because one instance must
/// not be used concurrently (dotnet/runtime#53320).
/// </remarks>
public sealed class LocalFieldCipher : IDisposable
{
    /// <summary>The format version written as the first byte of every sealed value.</summary>
    public const byte FormatVersion = 1;

    private const int NonceSize = 12;
    private const int TagSize = 16;

    /// <summary>Bytes a sealed value adds to its plaintext.</summary>
    public const int Overhead = 1 + NonceSize + TagSize;

    private readonly byte[] _key;

    /// <summary>Creates a cipher over a 32-byte key.</summary>
    /// <param name="key">The AES-256 key.</param>
    public LocalFieldCipher(byte[] key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (key.Length != 32)
        {
            throw new ArgumentException("An AES-256 key is 32 bytes.", nameof(key));
        }

        _key = (byte[])key.Clone();
    }

    /// <summary>Seals UTF-8 text for the place named by <paramref name="associatedData"/>.</summary>
    /// <param name="plaintext">The value to protect.</param>
    /// <param name="associatedData">The value's place, bound into the tag.</param>
    /// <returns>The sealed bytes.</returns>
    public byte[] Seal(string plaintext, string associatedData)
    {
        ArgumentNullException.ThrowIfNull(plaintext);
        ArgumentNullException.ThrowIfNull(associatedData);
        var input = Encoding.UTF8.GetBytes(plaintext);
        var output = new byte[Overhead + input.Length];
        output[0] = FormatVersion;
        var nonce = output.AsSpan(1, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(_key, TagSize);
        aes.Encrypt(nonce, input, output.AsSpan(1 + NonceSize, input.Length),
            output.AsSpan(1 + NonceSize + input.Length, TagSize), Encoding.UTF8.GetBytes(associatedData));
        return output;
    }

    /// <summary>Opens a value sealed by <see cref="Seal"/> for the same place.</summary>
    /// <param name="sealedValue">The sealed bytes.</param>
    /// <param name="associatedData">The place the value is read from.</param>
    /// <returns>The plaintext.</returns>
    /// <exception cref="SealedValueException">The value is malformed, tampered, from another place or key.</exception>
    public string Open(byte[] sealedValue, string associatedData)
    {
        ArgumentNullException.ThrowIfNull(sealedValue);
        ArgumentNullException.ThrowIfNull(associatedData);
        if (sealedValue.Length < Overhead)
        {
            throw new SealedValueException("The sealed value is too short.");
        }

        if (sealedValue[0] != FormatVersion)
        {
            throw new SealedValueException("The sealed value has an unknown format version.");
        }

        var length = sealedValue.Length - Overhead;
        var output = new byte[length];
        try
        {
            using var aes = new AesGcm(_key, TagSize);
            aes.Decrypt(sealedValue.AsSpan(1, NonceSize), sealedValue.AsSpan(1 + NonceSize, length),
                sealedValue.AsSpan(1 + NonceSize + length, TagSize), output, Encoding.UTF8.GetBytes(associatedData));
        }
        catch (CryptographicException ex)
        {
            // Tag mismatch (AuthenticationTagMismatchException) or any other failure: never a partial plaintext.
            CryptographicOperations.ZeroMemory(output);
            throw new SealedValueException("The sealed value failed its integrity check.", ex);
        }

        return Encoding.UTF8.GetString(output);
    }

    /// <inheritdoc />
    public void Dispose() => CryptographicOperations.ZeroMemory(_key);
}
