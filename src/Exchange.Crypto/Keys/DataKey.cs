using System.Security.Cryptography;

namespace Exchange.Crypto.Keys;

/// <summary>
/// An unwrapped per-owner AES-256 data key, held only in memory. Its AES-GCM context is reused
/// (creating one per field would cost more than the encryption) behind a lock, because one
/// <see cref="AesGcm"/> must not be used by two threads at once. Disposing zeroes the key.
/// </summary>
public sealed class DataKey : IDisposable
{
    /// <summary>The size of <see cref="KeyId"/>.</summary>
    public const int KeyIdSize = 8;

    private readonly byte[] _material;
    private readonly byte[] _keyId;
    private readonly AesGcm _aes;
    private readonly Lock _gate = new();
    private volatile bool _disposed;

    /// <summary>Takes ownership of <paramref name="material"/> (zeroed on dispose).</summary>
    /// <param name="ownerId">The owner (child id).</param>
    /// <param name="keyId">The 8-byte key id.</param>
    /// <param name="version">The key's version.</param>
    /// <param name="material">The 32 key bytes.</param>
    public DataKey(string ownerId, byte[] keyId, int version, byte[] material)
    {
        ArgumentNullException.ThrowIfNull(keyId);
        ArgumentNullException.ThrowIfNull(material);
        if (keyId.Length != KeyIdSize || material.Length != 32)
        {
            throw new ArgumentException("A data key is 32 bytes with an 8-byte id.");
        }

        OwnerId = ownerId;
        _keyId = (byte[])keyId.Clone();
        Version = version;
        _material = material;
        _aes = new AesGcm(_material, 16);
    }

    /// <summary>The owner whose fields this key seals.</summary>
    public string OwnerId { get; }

    /// <summary>The key's version for its owner.</summary>
    public int Version { get; }

    /// <summary>The 8-byte key id written into every sealed value.</summary>
    public ReadOnlySpan<byte> KeyId => _keyId;

    /// <summary>True once the key has been evicted or erased; callers fetch it again.</summary>
    public bool IsDisposed => _disposed;

    internal void Encrypt(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> plaintext, Span<byte> ciphertext, Span<byte> tag, ReadOnlySpan<byte> associatedData)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _aes.Encrypt(nonce, plaintext, ciphertext, tag, associatedData);
        }
    }

    internal void Decrypt(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> ciphertext, ReadOnlySpan<byte> tag, Span<byte> plaintext, ReadOnlySpan<byte> associatedData)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _aes.Decrypt(nonce, ciphertext, tag, plaintext, associatedData);
        }
    }

    /// <summary>Zeroes the key and frees the AES context; in-flight operations finish first.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            _aes.Dispose();
            CryptographicOperations.ZeroMemory(_material);
        }
    }
}
