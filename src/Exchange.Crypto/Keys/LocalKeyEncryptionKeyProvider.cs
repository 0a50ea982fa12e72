using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Azure.Core.Cryptography;

namespace Exchange.Crypto.Keys;

/// <summary>
/// Key-encryption keys kept as files in the data directory (<c>keys/kek-v1.key</c>,
/// <c>kek-v2.key</c>, ...): the embedded default. Data keys are wrapped with AES-256-GCM
/// (<see cref="Algorithm"/>), the wrap bound to the KEK id. Not suitable for production: the
/// KEK sits on the same disk as the data it protects.
/// </summary>
public sealed class LocalKeyEncryptionKeyProvider : IKeyEncryptionKeyProvider
{
    /// <summary>The wrap algorithm: AES-256-GCM key wrap (JWA name).</summary>
    public const string Algorithm = "A256GCMKW";

    /// <summary>Prefix of every local KEK id; the version follows: <c>local:exchange-kek/v1</c>.</summary>
    public const string KeyIdPrefix = "local:exchange-kek/v";

    private readonly string _directory;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<int, LocalKek> _loaded = new();

    /// <summary>Creates the provider over <c>{dataDirectory}/keys</c>, creating version 1 when no KEK exists.</summary>
    /// <param name="dataDirectory">The service's data directory.</param>
    public LocalKeyEncryptionKeyProvider(string dataDirectory)
    {
        ArgumentException.ThrowIfNullOrEmpty(dataDirectory);
        _directory = Path.Combine(dataDirectory, "keys");
        if (Versions().Count == 0)
        {
            LocalKeyFile.LoadOrCreate(PathOf(1), 32);
        }
    }

    /// <inheritdoc />
    public string WrapAlgorithm => Algorithm;

    /// <inheritdoc />
    public bool IsProductionGrade => false;

    /// <summary>The versions present, oldest first.</summary>
    /// <returns>Version numbers.</returns>
    public IReadOnlyList<int> Versions() =>
        Directory.Exists(_directory)
            ? Directory.GetFiles(_directory, "kek-v*.key")
                .Select(f => Path.GetFileNameWithoutExtension(f)["kek-v".Length..])
                .Select(v => int.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : 0)
                .Where(n => n > 0).Order().ToList()
            : [];

    /// <summary>Creates the next KEK version; new data keys are wrapped with it and rotation moves old ones to it.</summary>
    /// <returns>The new KEK's id.</returns>
    public string CreateNextVersion()
    {
        var versions = Versions();
        var next = (versions.Count == 0 ? 0 : versions[^1]) + 1;
        LocalKeyFile.LoadOrCreate(PathOf(next), 32);
        return KeyIdPrefix + next.ToString(CultureInfo.InvariantCulture);
    }

    /// <inheritdoc />
    public Task<IKeyEncryptionKey> GetCurrentAsync(CancellationToken cancellationToken = default) =>
        Task.FromResult<IKeyEncryptionKey>(Load(Versions()[^1]));

    /// <inheritdoc />
    public IKeyEncryptionKey Resolve(string keyId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(keyId);
        if (!keyId.StartsWith(KeyIdPrefix, StringComparison.Ordinal)
            || !int.TryParse(keyId.AsSpan(KeyIdPrefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var version)
            || !File.Exists(PathOf(version)))
        {
            throw new KeyProviderException("The key-encryption key is not one this provider holds.");
        }

        return Load(version);
    }

    /// <inheritdoc />
    public Task<IKeyEncryptionKey> ResolveAsync(string keyId, CancellationToken cancellationToken = default) =>
        Task.FromResult(Resolve(keyId, cancellationToken));

    private string PathOf(int version) => Path.Combine(_directory, $"kek-v{version.ToString(CultureInfo.InvariantCulture)}.key");

    // Each version's file is read once; a KEK file never changes once written.
    private LocalKek Load(int version) =>
        _loaded.GetOrAdd(version, v => new LocalKek(KeyIdPrefix + v.ToString(CultureInfo.InvariantCulture), LocalKeyFile.LoadOrCreate(PathOf(v), 32)));

    private sealed class LocalKek(string keyId, byte[] key) : IKeyEncryptionKey
    {
        private const int NonceSize = 12;
        private const int TagSize = 16;

        public string KeyId => keyId;

        public byte[] WrapKey(string algorithm, ReadOnlyMemory<byte> key1, CancellationToken cancellationToken = default)
        {
            Check(algorithm);
            var output = new byte[NonceSize + key1.Length + TagSize];
            var nonce = output.AsSpan(0, NonceSize);
            RandomNumberGenerator.Fill(nonce);
            using var aes = new AesGcm(key, TagSize);
            aes.Encrypt(nonce, key1.Span, output.AsSpan(NonceSize, key1.Length), output.AsSpan(NonceSize + key1.Length), Encoding.UTF8.GetBytes(keyId));
            return output;
        }

        public byte[] UnwrapKey(string algorithm, ReadOnlyMemory<byte> encryptedKey, CancellationToken cancellationToken = default)
        {
            Check(algorithm);
            var wrapped = encryptedKey.Span;
            if (wrapped.Length <= NonceSize + TagSize)
            {
                throw new WrappedKeyIntegrityException("The wrapped key is malformed.");
            }

            var output = new byte[wrapped.Length - NonceSize - TagSize];
            try
            {
                using var aes = new AesGcm(key, TagSize);
                aes.Decrypt(wrapped[..NonceSize], wrapped[NonceSize..^TagSize], wrapped[^TagSize..], output, Encoding.UTF8.GetBytes(keyId));
            }
            catch (CryptographicException ex)
            {
                throw new WrappedKeyIntegrityException("The wrapped key failed to unwrap under this key-encryption key.", ex);
            }

            return output;
        }

        public Task<byte[]> WrapKeyAsync(string algorithm, ReadOnlyMemory<byte> key1, CancellationToken cancellationToken = default) =>
            Task.FromResult(WrapKey(algorithm, key1, cancellationToken));

        public Task<byte[]> UnwrapKeyAsync(string algorithm, ReadOnlyMemory<byte> encryptedKey, CancellationToken cancellationToken = default) =>
            Task.FromResult(UnwrapKey(algorithm, encryptedKey, cancellationToken));

        private static void Check(string algorithm)
        {
            if (algorithm != Algorithm)
            {
                throw new ArgumentException($"The local key-encryption key wraps with {Algorithm} only.", nameof(algorithm));
            }
        }
    }
}
