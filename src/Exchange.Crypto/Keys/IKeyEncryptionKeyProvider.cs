using Azure.Core.Cryptography;

namespace Exchange.Crypto.Keys;

/// <summary>
/// A source of key-encryption keys (KEKs) in Azure.Core's shape: it resolves any version it has
/// ever issued (to unwrap old data keys) and names the current one (to wrap new data keys and
/// to rotate to).
/// </summary>
public interface IKeyEncryptionKeyProvider : IKeyEncryptionKeyResolver
{
    /// <summary>The key-wrap algorithm this provider's KEKs use (for example <c>RSA-OAEP-256</c>).</summary>
    string WrapAlgorithm { get; }

    /// <summary>True when the provider is suitable for production (a local key file is not).</summary>
    bool IsProductionGrade { get; }

    /// <summary>The KEK that new data keys are wrapped with; its <see cref="IKeyEncryptionKey.KeyId"/> includes the version.</summary>
    /// <param name="cancellationToken">Cancels the lookup.</param>
    /// <returns>The current KEK.</returns>
    /// <exception cref="KeyProviderUnavailableException">The provider cannot be reached.</exception>
    Task<IKeyEncryptionKey> GetCurrentAsync(CancellationToken cancellationToken = default);
}
