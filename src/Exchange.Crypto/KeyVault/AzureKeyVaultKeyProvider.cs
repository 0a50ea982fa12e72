using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using Azure;
using Azure.Core;
using Azure.Core.Cryptography;
using Azure.Core.Pipeline;
using Exchange.Crypto.Keys;

namespace Exchange.Crypto.KeyVault;

/// <summary>
/// Key-encryption keys held in Azure Key Vault: data keys are wrapped and unwrapped by the vault
/// (<c>wrapkey</c>/<c>unwrapkey</c>, RSA-OAEP-256), so the RSA private key never leaves it.
/// Talks to the Key Vault REST API (api-version 7.4) through Azure.Core's HTTP pipeline, with a
/// bearer token from an Azure.Identity <see cref="TokenCredential"/>; retries, including
/// <c>Retry-After</c> on 429, come from the pipeline's retry policy.
/// </summary>
/// <remarks>
/// Failures: 401/403 (not authorised), 400/404 (wrong key id, key not found) and malformed answers
/// raise <see cref="KeyProviderException"/>; 429 and 5xx after the retries, network failures and
/// timeouts raise <see cref="KeyProviderUnavailableException"/>.
/// </remarks>
public sealed class AzureKeyVaultKeyProvider : IKeyEncryptionKeyProvider
{
    /// <summary>The only key-wrap algorithm this provider uses.</summary>
    public const string RsaOaep256 = "RSA-OAEP-256";

    /// <summary>The Key Vault REST API version requested.</summary>
    public const string ApiVersion = "7.4";

    /// <summary>The token scope for Key Vault in the Azure public cloud.</summary>
    public const string TokenScope = "https://vault.azure.net/.default";

    private readonly HttpPipeline _pipeline;
    private readonly Uri _vault;
    private readonly string _keyName;
    private readonly TimeSpan _currentCacheDuration;
    private readonly TimeProvider _timeProvider;
    private readonly AzureKeyVaultKey? _configuredCurrent;
    private CachedCurrent? _cachedCurrent;

    /// <summary>Creates the provider.</summary>
    /// <param name="options">The vault, key name and optional key version.</param>
    /// <param name="credential">The identity used to obtain Key Vault tokens.</param>
    /// <param name="clientOptions">Transport and retry settings; production defaults when null.</param>
    /// <param name="timeProvider">The clock for the current-version cache; the system clock when null.</param>
    /// <exception cref="ArgumentException">The options are incomplete or invalid.</exception>
    public AzureKeyVaultKeyProvider(
        AzureKeyVaultOptions options,
        TokenCredential credential,
        AzureKeyVaultClientOptions? clientOptions = null,
        TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(credential);
        _vault = ValidateVaultUri(options.VaultUri);
        if (!KeyVaultKeyId.IsValidName(options.KeyName))
        {
            throw new ArgumentException("KeyName must be 1 to 127 letters, digits or dashes.", nameof(options));
        }

        if (options.KeyVersion is not null && !KeyVaultKeyId.IsValidVersion(options.KeyVersion))
        {
            throw new ArgumentException("KeyVersion must be letters and digits only.", nameof(options));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(options.CurrentVersionCacheDuration, TimeSpan.Zero, nameof(options));

        _keyName = options.KeyName;
        _currentCacheDuration = options.CurrentVersionCacheDuration;
        _timeProvider = timeProvider ?? TimeProvider.System;
        _pipeline = HttpPipelineBuilder.Build(
            clientOptions ?? new AzureKeyVaultClientOptions(),
            new BearerTokenAuthenticationPolicy(credential, TokenScope));
        if (options.KeyVersion is not null)
        {
            _configuredCurrent = new AzureKeyVaultKey(this, KeyVaultKeyId.Parse(KeyIdFor(_keyName, options.KeyVersion), _vault));
        }
    }

    /// <summary>The vault this provider uses (scheme, host and port only).</summary>
    public Uri VaultUri => _vault;

    /// <summary>The name of the key that new data keys are wrapped with.</summary>
    public string KeyName => _keyName;

    /// <inheritdoc />
    public string WrapAlgorithm => RsaOaep256;

    /// <inheritdoc />
    public bool IsProductionGrade => true;

    /// <summary>
    /// The configured key version if one was set; otherwise the key's current version as the vault
    /// reports it (<c>GET /keys/{name}</c>), remembered for a few minutes.
    /// </summary>
    /// <param name="cancellationToken">Cancels the lookup.</param>
    /// <returns>The current KEK; its <see cref="IKeyEncryptionKey.KeyId"/> is the full versioned key identifier.</returns>
    /// <exception cref="KeyProviderException">The vault refused the lookup or the key does not exist.</exception>
    /// <exception cref="KeyProviderUnavailableException">The vault cannot be reached now.</exception>
    public async Task<IKeyEncryptionKey> GetCurrentAsync(CancellationToken cancellationToken = default)
    {
        if (_configuredCurrent is not null)
        {
            return _configuredCurrent;
        }

        var cached = Volatile.Read(ref _cachedCurrent);
        var now = _timeProvider.GetUtcNow();
        if (cached is not null && now - cached.FetchedAt < _currentCacheDuration)
        {
            return cached.Key;
        }

        var key = await FetchCurrentAsync(cancellationToken).ConfigureAwait(false);
        Volatile.Write(ref _cachedCurrent, new CachedCurrent(key, now));
        return key;
    }

    /// <summary>
    /// The key named by <paramref name="keyId"/>, a full identifier
    /// <c>https://{vault-host}/keys/{name}/{version}</c> on this provider's vault. No request is made
    /// until the key is used.
    /// </summary>
    /// <param name="keyId">The versioned key identifier stored beside a wrapped data key.</param>
    /// <param name="cancellationToken">Not used; resolution is local.</param>
    /// <returns>The key, whose <see cref="IKeyEncryptionKey.KeyId"/> is <paramref name="keyId"/>.</returns>
    /// <exception cref="KeyProviderException">The id is malformed or names another vault.</exception>
    public IKeyEncryptionKey Resolve(string keyId, CancellationToken cancellationToken = default) =>
        new AzureKeyVaultKey(this, KeyVaultKeyId.Parse(keyId, _vault));

    /// <inheritdoc cref="Resolve(string, CancellationToken)" />
    public Task<IKeyEncryptionKey> ResolveAsync(string keyId, CancellationToken cancellationToken = default) =>
        Task.FromResult(Resolve(keyId, cancellationToken));

    /// <summary>Posts <paramref name="input"/> to the key's <c>wrapkey</c> or <c>unwrapkey</c> operation.</summary>
    internal async ValueTask<byte[]> TransformAsync(
        KeyVaultKeyId id, string operation, string algorithm, ReadOnlyMemory<byte> input, bool async, CancellationToken cancellationToken)
    {
        if (!string.Equals(algorithm, RsaOaep256, StringComparison.Ordinal))
        {
            throw new ArgumentException($"Only {RsaOaep256} is supported by the Key Vault key provider.", nameof(algorithm));
        }

        if (input.IsEmpty)
        {
            throw new ArgumentException("The key to transform is empty.", nameof(input));
        }

        var description = string.Create(CultureInfo.InvariantCulture, $"{operation} on key '{id.Name}' version '{id.Version}'");
        var body = CreateTransformBody(input.Span);
        try
        {
            using var message = _pipeline.CreateMessage();
            var request = message.Request;
            request.Method = RequestMethod.Post;
            request.Uri.Reset(_vault);
            request.Uri.AppendPath("/keys/", escape: false);
            request.Uri.AppendPath(id.Name, escape: true);
            request.Uri.AppendPath("/", escape: false);
            request.Uri.AppendPath(id.Version, escape: true);
            request.Uri.AppendPath("/" + operation, escape: false);
            request.Uri.AppendQuery("api-version", ApiVersion, escapeValue: true);
            request.Headers.Add(HttpHeader.Common.JsonContentType);
            request.Headers.Add(HttpHeader.Names.Accept, "application/json");
            request.Content = RequestContent.Create(body);

            await SendAsync(message, description, async, cancellationToken).ConfigureAwait(false);
            var response = message.Response;
            try
            {
                if (response.Status != 200)
                {
                    throw KeyVaultFailures.FromStatus(response.Status, description, ReadErrorCode(response));
                }

                return ReadBase64UrlValue(response.Content.ToMemory().Span, description);
            }
            finally
            {
                // The unwrap answer holds a plaintext data key: wipe the buffered body.
                if (response.ContentStream is MemoryStream buffered && buffered.TryGetBuffer(out var segment))
                {
                    CryptographicOperations.ZeroMemory(segment);
                }
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(body);
        }
    }

    private async Task<IKeyEncryptionKey> FetchCurrentAsync(CancellationToken cancellationToken)
    {
        var description = string.Create(CultureInfo.InvariantCulture, $"reading the current version of key '{_keyName}'");
        using var message = _pipeline.CreateMessage();
        var request = message.Request;
        request.Method = RequestMethod.Get;
        request.Uri.Reset(_vault);
        request.Uri.AppendPath("/keys/", escape: false);
        request.Uri.AppendPath(_keyName, escape: true);
        request.Uri.AppendQuery("api-version", ApiVersion, escapeValue: true);
        request.Headers.Add(HttpHeader.Names.Accept, "application/json");

        await SendAsync(message, description, async: true, cancellationToken).ConfigureAwait(false);
        var response = message.Response;
        if (response.Status != 200)
        {
            throw KeyVaultFailures.FromStatus(response.Status, description, ReadErrorCode(response));
        }

        string? kid = null;
        bool? enabled = null;
        try
        {
            using var document = JsonDocument.Parse(response.Content.ToMemory());
            var root = document.RootElement;
            if (root.ValueKind == JsonValueKind.Object
                && root.TryGetProperty("key", out var key) && key.ValueKind == JsonValueKind.Object
                && key.TryGetProperty("kid", out var kidElement) && kidElement.ValueKind == JsonValueKind.String)
            {
                kid = kidElement.GetString();
            }

            if (root.ValueKind == JsonValueKind.Object
                && root.TryGetProperty("attributes", out var attributes) && attributes.ValueKind == JsonValueKind.Object
                && attributes.TryGetProperty("enabled", out var enabledElement)
                && enabledElement.ValueKind is JsonValueKind.True or JsonValueKind.False)
            {
                enabled = enabledElement.GetBoolean();
            }
        }
        catch (JsonException ex)
        {
            throw new KeyProviderException($"Key Vault answered {description} with malformed JSON.", ex);
        }

        if (kid is null)
        {
            throw new KeyProviderException($"Key Vault answered {description} without a key.kid.");
        }

        if (enabled == false)
        {
            throw new KeyProviderException($"The current version of key '{_keyName}' is disabled in Key Vault.");
        }

        var id = KeyVaultKeyId.Parse(kid, _vault);
        if (!string.Equals(id.Name, _keyName, StringComparison.OrdinalIgnoreCase))
        {
            throw new KeyProviderException($"Key Vault answered {description} with a key of another name.");
        }

        return new AzureKeyVaultKey(this, id);
    }

    private async ValueTask SendAsync(HttpMessage message, string description, bool async, CancellationToken cancellationToken)
    {
        try
        {
            if (async)
            {
                await _pipeline.SendAsync(message, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                _pipeline.Send(message, cancellationToken);
            }
        }
        catch (Exception ex) when (KeyVaultFailures.FromException(ex, description, cancellationToken) is { } mapped)
        {
            throw mapped;
        }
    }

    private string KeyIdFor(string name, string version) =>
        string.Create(CultureInfo.InvariantCulture, $"{_vault.GetLeftPart(UriPartial.Authority)}/keys/{name}/{version}");

    private static Uri ValidateVaultUri(Uri? vaultUri)
    {
        if (vaultUri is null || !vaultUri.IsAbsoluteUri)
        {
            throw new ArgumentException("VaultUri must be an absolute https URI.", nameof(vaultUri));
        }

        if (vaultUri.Scheme != Uri.UriSchemeHttps)
        {
            throw new ArgumentException("VaultUri must use https.", nameof(vaultUri));
        }

        if (vaultUri.AbsolutePath != "/" || vaultUri.Query.Length > 0 || vaultUri.Fragment.Length > 0 || vaultUri.UserInfo.Length > 0)
        {
            throw new ArgumentException("VaultUri must name the vault only, for example https://my-vault.vault.azure.net/.", nameof(vaultUri));
        }

        return new Uri(vaultUri.GetLeftPart(UriPartial.Authority));
    }

    private static byte[] CreateTransformBody(ReadOnlySpan<byte> key)
    {
        ReadOnlySpan<byte> prefix = "{\"alg\":\"RSA-OAEP-256\",\"value\":\""u8;
        ReadOnlySpan<byte> suffix = "\"}"u8;
        var encodedLength = Base64Url.GetEncodedLength(key.Length);
        var body = new byte[prefix.Length + encodedLength + suffix.Length];
        prefix.CopyTo(body);
        Base64Url.EncodeToUtf8(key, body.AsSpan(prefix.Length, encodedLength));
        suffix.CopyTo(body.AsSpan(prefix.Length + encodedLength));
        return body;
    }

    /// <summary>Reads the top-level <c>value</c> (base64url) without making a string of it.</summary>
    private static byte[] ReadBase64UrlValue(ReadOnlySpan<byte> json, string description)
    {
        try
        {
            var reader = new Utf8JsonReader(json);
            if (reader.Read() && reader.TokenType == JsonTokenType.StartObject)
            {
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    var isValue = reader.ValueTextEquals("value"u8);
                    reader.Read();
                    if (isValue)
                    {
                        if (reader.TokenType == JsonTokenType.String && !reader.ValueIsEscaped && reader.ValueSpan.Length > 0)
                        {
                            return Base64Url.DecodeFromUtf8(reader.ValueSpan);
                        }

                        break;
                    }

                    reader.Skip();
                }
            }
        }
        catch (JsonException ex)
        {
            throw new KeyProviderException($"Key Vault answered {description} with malformed JSON.", ex);
        }
        catch (FormatException ex)
        {
            throw new KeyProviderException($"Key Vault answered {description} with a value that is not base64url.", ex);
        }

        throw new KeyProviderException($"Key Vault answered {description} without a value.");
    }

    /// <summary>The <c>error.code</c> of a Key Vault error body, if it is a short plain token.</summary>
    private static string? ReadErrorCode(Response response)
    {
        try
        {
            using var document = JsonDocument.Parse(response.Content.ToMemory());
            if (document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.Object
                && error.TryGetProperty("code", out var code) && code.ValueKind == JsonValueKind.String)
            {
                var text = code.GetString();
                return text is { Length: > 0 and <= 64 } && text.All(char.IsAsciiLetterOrDigit) ? text : null;
            }
        }
        catch (JsonException)
        {
            // Not a Key Vault error body; the status alone says enough.
        }

        return null;
    }

    private sealed record CachedCurrent(IKeyEncryptionKey Key, DateTimeOffset FetchedAt);
}
