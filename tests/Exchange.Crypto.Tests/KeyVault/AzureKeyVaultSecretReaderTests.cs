using System.Security.Cryptography;
using System.Text.Json;
using Exchange.Crypto.KeyVault;
using Exchange.Crypto.Keys;
using WireMock.RequestBuilders;

namespace Exchange.Crypto.Tests.KeyVault;

public sealed class AzureKeyVaultSecretReaderTests : IDisposable
{
    private const string SecretName = "blind-index-secret";
    private const string Version = "5d4c3b2a19080706f5e4d3c2b1a09f8e";
    private readonly KeyVaultStub _stub = new();
    private readonly byte[] _secret = RandomNumberGenerator.GetBytes(32);

    public AzureKeyVaultSecretReaderTests()
    {
        var body = JsonSerializer.Serialize(new
        {
            value = Convert.ToBase64String(_secret),
            id = $"{_stub.Authority}/secrets/{SecretName}/{Version}",
            attributes = new { enabled = true },
        });
        // With the token: the secret, whether the version is named or not.
        _stub.Server.Given(Request.Create()
                .WithPath($"/secrets/{SecretName}/{Version}", $"/secrets/{SecretName}", $"/secrets/{SecretName}/")
                .UsingGet()
                .WithHeader("Authorization", "Bearer " + _stub.AccessToken))
            .AtPriority(1)
            .RespondWith(KeyVaultStub.Json(200).WithBody(body));
        // Without it: Key Vault's challenge, as the real service answers SecretClient's first request.
        _stub.Server.Given(Request.Create().WithPath(new WireMock.Matchers.WildcardMatcher("/secrets/*")).UsingGet())
            .AtPriority(10)
            .RespondWith(KeyVaultStub.KeyVaultError(401, "Unauthorized").WithHeader(
                "WWW-Authenticate",
                $"Bearer authorization=\"{_stub.AuthorityHost.GetLeftPart(UriPartial.Authority)}/{KeyVaultStub.TenantId}\", resource=\"https://localhost\""));
    }

    public void Dispose() => _stub.Dispose();

    private AzureKeyVaultSecretReader CreateReader(Uri? vault = null) =>
        new(vault ?? _stub.Url, _stub.CreateCredential(), _stub.CreateClientOptions());

    [Fact]
    public async Task ReaderReturnsTheDecodedBytesAndVersionOfTheNamedVersion()
    {
        var (value, version) = await CreateReader().GetSecretBytesAsync(SecretName, Version);

        Assert.Equal(_secret, value);
        Assert.Equal(Version, version);
        // SecretClient's challenge flow: an anonymous first request draws the 401 challenge, then the
        // request is repeated with the token the credential got from the stub's token endpoint.
        Assert.Collection(
            _stub.VaultRequests,
            challenge =>
            {
                Assert.False(challenge.RequestMessage.Headers!.ContainsKey("Authorization"));
                Assert.Equal(401, Convert.ToInt32(challenge.ResponseMessage.StatusCode, System.Globalization.CultureInfo.InvariantCulture));
            },
            authorised =>
            {
                Assert.Equal("Bearer " + _stub.AccessToken, Assert.Single(authorised.RequestMessage.Headers!["Authorization"]));
                Assert.Equal(200, Convert.ToInt32(authorised.ResponseMessage.StatusCode, System.Globalization.CultureInfo.InvariantCulture));
            });
        Assert.Single(_stub.TokenRequests);
    }

    [Fact]
    public async Task ReaderWithoutAVersionReturnsTheCurrentVersion()
    {
        var (value, version) = await CreateReader().GetSecretBytesAsync(SecretName, version: null);

        Assert.Equal(_secret, value);
        Assert.Equal(Version, version);
    }

    [Fact]
    public async Task MissingSecretIsAPermanentFailure()
    {
        _stub.Server.Given(Request.Create().WithPath("/secrets/no-such-secret/").UsingGet()
                .WithHeader("Authorization", "Bearer " + _stub.AccessToken))
            .AtPriority(1)
            .RespondWith(KeyVaultStub.KeyVaultError(404, "SecretNotFound"));

        var ex = await Assert.ThrowsAsync<KeyProviderException>(() => CreateReader().GetSecretBytesAsync("no-such-secret", null));

        Assert.IsNotType<KeyProviderUnavailableException>(ex);
    }

    [Fact]
    public async Task ASecretWhoseValueIsNotBase64IsAPermanentFailureNamingTheSecret()
    {
        ServeSecret("not-base64", new { value = "not base64!", id = $"{_stub.Authority}/secrets/not-base64/{Version}" });

        var ex = await Assert.ThrowsAsync<KeyProviderException>(() => CreateReader().GetSecretBytesAsync("not-base64", null));

        Assert.IsNotType<KeyProviderUnavailableException>(ex);
        Assert.Contains("'not-base64' is not base64", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ASecretAnsweredWithoutAVersionIsAPermanentFailure()
    {
        // The version is what a blind index records beside each digest: without it nothing can be looked up later.
        ServeSecret("no-version", new { value = Convert.ToBase64String(_secret), id = $"{_stub.Authority}/secrets/no-version" });

        var ex = await Assert.ThrowsAsync<KeyProviderException>(() => CreateReader().GetSecretBytesAsync("no-version", null));

        Assert.Contains("without a secret version", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ASecretWithoutAValueReadsAsNoBytes()
    {
        ServeSecret("empty", new { id = $"{_stub.Authority}/secrets/empty/{Version}" });

        var (value, version) = await CreateReader().GetSecretBytesAsync("empty", null);

        Assert.Empty(value);
        Assert.Equal(Version, version);
    }

    private void ServeSecret(string name, object body) =>
        _stub.Server.Given(Request.Create().WithPath($"/secrets/{name}/").UsingGet()
                .WithHeader("Authorization", "Bearer " + _stub.AccessToken))
            .AtPriority(1)
            .RespondWith(KeyVaultStub.Json(200).WithBody(JsonSerializer.Serialize(body)));

    [Fact]
    public async Task UnreachableVaultMeansTheSecretIsUnavailable()
    {
        var reader = CreateReader(new Uri($"https://localhost:{KeyVaultStub.ClosedPort()}/"));

        await Assert.ThrowsAsync<KeyProviderUnavailableException>(() => reader.GetSecretBytesAsync(SecretName, Version));
    }
}
