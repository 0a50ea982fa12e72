using Azure.Core.Cryptography;
using Exchange.Crypto.Keys;

namespace Exchange.Crypto.Bench;

/// <summary>
/// Decorates a KEK provider and counts unwraps on every KEK it hands out: what a key vault would
/// see (and bill, and throttle) as <c>/unwrapkey</c> calls.
/// </summary>
internal sealed class CountingKeyEncryptionKeyProvider(IKeyEncryptionKeyProvider inner) : IKeyEncryptionKeyProvider
{
    private long _unwraps;
    private long _wraps;

    public long Unwraps => Interlocked.Read(ref _unwraps);

    public long Wraps => Interlocked.Read(ref _wraps);

    public string WrapAlgorithm => inner.WrapAlgorithm;

    public bool IsProductionGrade => inner.IsProductionGrade;

    public void Reset()
    {
        Interlocked.Exchange(ref _unwraps, 0);
        Interlocked.Exchange(ref _wraps, 0);
    }

    public async Task<IKeyEncryptionKey> GetCurrentAsync(CancellationToken cancellationToken = default) =>
        new CountingKek(this, await inner.GetCurrentAsync(cancellationToken).ConfigureAwait(false));

    public IKeyEncryptionKey Resolve(string keyId, CancellationToken cancellationToken = default) =>
        new CountingKek(this, inner.Resolve(keyId, cancellationToken));

    public async Task<IKeyEncryptionKey> ResolveAsync(string keyId, CancellationToken cancellationToken = default) =>
        new CountingKek(this, await inner.ResolveAsync(keyId, cancellationToken).ConfigureAwait(false));

    private sealed class CountingKek(CountingKeyEncryptionKeyProvider owner, IKeyEncryptionKey kek) : IKeyEncryptionKey
    {
        public string KeyId => kek.KeyId;

        public byte[] WrapKey(string algorithm, ReadOnlyMemory<byte> key, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref owner._wraps);
            return kek.WrapKey(algorithm, key, cancellationToken);
        }

        public Task<byte[]> WrapKeyAsync(string algorithm, ReadOnlyMemory<byte> key, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref owner._wraps);
            return kek.WrapKeyAsync(algorithm, key, cancellationToken);
        }

        public byte[] UnwrapKey(string algorithm, ReadOnlyMemory<byte> encryptedKey, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref owner._unwraps);
            return kek.UnwrapKey(algorithm, encryptedKey, cancellationToken);
        }

        public Task<byte[]> UnwrapKeyAsync(string algorithm, ReadOnlyMemory<byte> encryptedKey, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref owner._unwraps);
            return kek.UnwrapKeyAsync(algorithm, encryptedKey, cancellationToken);
        }
    }
}
