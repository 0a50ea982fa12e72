using Azure.Core.Cryptography;

namespace Exchange.Crypto.KeyVault;

/// <summary>One version of a Key Vault RSA key; wrapping and unwrapping happen in the vault.</summary>
internal sealed class AzureKeyVaultKey : IKeyEncryptionKey
{
    private const string WrapOperation = "wrapkey";
    private const string UnwrapOperation = "unwrapkey";

    private readonly AzureKeyVaultKeyProvider _provider;
    private readonly KeyVaultKeyId _id;

    internal AzureKeyVaultKey(AzureKeyVaultKeyProvider provider, KeyVaultKeyId id)
    {
        _provider = provider;
        _id = id;
    }

    public string KeyId => _id.Original;

    public byte[] WrapKey(string algorithm, ReadOnlyMemory<byte> key, CancellationToken cancellationToken = default) =>
        RunSynchronously(_provider.TransformAsync(_id, WrapOperation, algorithm, key, async: false, cancellationToken));

    public Task<byte[]> WrapKeyAsync(string algorithm, ReadOnlyMemory<byte> key, CancellationToken cancellationToken = default) =>
        _provider.TransformAsync(_id, WrapOperation, algorithm, key, async: true, cancellationToken).AsTask();

    public byte[] UnwrapKey(string algorithm, ReadOnlyMemory<byte> encryptedKey, CancellationToken cancellationToken = default) =>
        RunSynchronously(_provider.TransformAsync(_id, UnwrapOperation, algorithm, encryptedKey, async: false, cancellationToken));

    public Task<byte[]> UnwrapKeyAsync(string algorithm, ReadOnlyMemory<byte> encryptedKey, CancellationToken cancellationToken = default) =>
        _provider.TransformAsync(_id, UnwrapOperation, algorithm, encryptedKey, async: true, cancellationToken).AsTask();

    /// <summary>The sync path sends with the pipeline's synchronous API, so the task is already complete.</summary>
    private static byte[] RunSynchronously(ValueTask<byte[]> task)
    {
        if (!task.IsCompleted)
        {
            throw new InvalidOperationException("The synchronous Key Vault call did not complete synchronously.");
        }

        return task.GetAwaiter().GetResult();
    }
}
