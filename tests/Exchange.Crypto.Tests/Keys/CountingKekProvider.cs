using Azure.Core.Cryptography;
using Exchange.Crypto.Keys;

namespace Exchange.Crypto.Tests.Keys;

/// <summary>
/// Wraps a real KEK provider and counts what reaches it, the way a key vault's bill would:
/// every unwrap and wrap. <see cref="Unreachable"/> makes it fail as a vault that is down.
/// </summary>
public sealed class CountingKekProvider(IKeyEncryptionKeyProvider inner) : IKeyEncryptionKeyProvider
{
    private int _unwraps;
    private int _wraps;

    public int Unwraps => Volatile.Read(ref _unwraps);

    public int Wraps => Volatile.Read(ref _wraps);

    /// <summary>When true every call fails with <see cref="KeyProviderUnavailableException"/>.</summary>
    public bool Unreachable { get; set; }

    public string WrapAlgorithm => inner.WrapAlgorithm;

    public bool IsProductionGrade => inner.IsProductionGrade;

    public async Task<IKeyEncryptionKey> GetCurrentAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfUnreachable();
        return new CountingKek(this, await inner.GetCurrentAsync(cancellationToken));
    }

    public IKeyEncryptionKey Resolve(string keyId, CancellationToken cancellationToken = default)
    {
        ThrowIfUnreachable();
        return new CountingKek(this, inner.Resolve(keyId, cancellationToken));
    }

    public async Task<IKeyEncryptionKey> ResolveAsync(string keyId, CancellationToken cancellationToken = default)
    {
        ThrowIfUnreachable();
        return new CountingKek(this, await inner.ResolveAsync(keyId, cancellationToken));
    }

    private void ThrowIfUnreachable()
    {
        if (Unreachable)
        {
            throw new KeyProviderUnavailableException("The test key provider is switched off.");
        }
    }

    private sealed class CountingKek(CountingKekProvider owner, IKeyEncryptionKey inner) : IKeyEncryptionKey
    {
        public string KeyId => inner.KeyId;

        public byte[] WrapKey(string algorithm, ReadOnlyMemory<byte> key, CancellationToken cancellationToken = default)
        {
            owner.ThrowIfUnreachable();
            Interlocked.Increment(ref owner._wraps);
            return inner.WrapKey(algorithm, key, cancellationToken);
        }

        public Task<byte[]> WrapKeyAsync(string algorithm, ReadOnlyMemory<byte> key, CancellationToken cancellationToken = default)
        {
            owner.ThrowIfUnreachable();
            Interlocked.Increment(ref owner._wraps);
            return inner.WrapKeyAsync(algorithm, key, cancellationToken);
        }

        public byte[] UnwrapKey(string algorithm, ReadOnlyMemory<byte> encryptedKey, CancellationToken cancellationToken = default)
        {
            owner.ThrowIfUnreachable();
            Interlocked.Increment(ref owner._unwraps);
            return inner.UnwrapKey(algorithm, encryptedKey, cancellationToken);
        }

        public Task<byte[]> UnwrapKeyAsync(string algorithm, ReadOnlyMemory<byte> encryptedKey, CancellationToken cancellationToken = default)
        {
            owner.ThrowIfUnreachable();
            Interlocked.Increment(ref owner._unwraps);
            return inner.UnwrapKeyAsync(algorithm, encryptedKey, cancellationToken);
        }
    }
}
