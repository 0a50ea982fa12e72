using System.Diagnostics;
using System.Security.Cryptography;
using Exchange.Crypto.KeyVault;
using Exchange.Crypto.Keys;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Exchange.Crypto.Tests.KeyVault;

public sealed class AzureKeyVaultKeyProviderTests : IDisposable
{
    private const string Alg = "RSA-OAEP-256";
    private readonly KeyVaultStub _stub = new();

    public void Dispose() => _stub.Dispose();

    [Fact]
    public async Task WrappedDataKeyRoundTripsAndReallyDecryptsWithTheVaultsPrivateKey()
    {
        _stub.ServeKeyOperations();
        var provider = _stub.CreateProvider();
        var dataKey = RandomNumberGenerator.GetBytes(32);

        var kek = await provider.ResolveAsync(_stub.KeyId);
        var wrapped = await kek.WrapKeyAsync(Alg, dataKey);
        var unwrapped = await kek.UnwrapKeyAsync(Alg, wrapped);

        Assert.Equal(_stub.KeyId, kek.KeyId);
        Assert.Equal(256, wrapped.Length);
        Assert.Equal(dataKey, _stub.Rsa.Decrypt(wrapped, RSAEncryptionPadding.OaepSHA256));
        Assert.Equal(dataKey, unwrapped);
        Assert.All(_stub.ReceivedAlgorithms, alg => Assert.Equal(Alg, alg));
        Assert.Equal(2, _stub.VaultRequests.Count);
    }

    [Fact]
    public void SynchronousWrapAndUnwrapRoundTrip()
    {
        _stub.ServeKeyOperations();
        var kek = _stub.CreateProvider().Resolve(_stub.KeyId);
        var dataKey = RandomNumberGenerator.GetBytes(32);

        var wrapped = kek.WrapKey(Alg, dataKey);

        Assert.Equal(dataKey, _stub.Rsa.Decrypt(wrapped, RSAEncryptionPadding.OaepSHA256));
        Assert.Equal(dataKey, kek.UnwrapKey(Alg, wrapped));
    }

    [Fact]
    public async Task VaultCallsCarryTheBearerTokenIssuedByTheTokenEndpoint()
    {
        _stub.ServeKeyOperations();
        var kek = await _stub.CreateProvider().ResolveAsync(_stub.KeyId);

        var wrapped = await kek.WrapKeyAsync(Alg, RandomNumberGenerator.GetBytes(32));
        await kek.UnwrapKeyAsync(Alg, wrapped);

        var tokenRequest = Assert.Single(_stub.TokenRequests);
        Assert.Contains("client_id=" + KeyVaultStub.ClientId, tokenRequest.RequestMessage.Body, StringComparison.Ordinal);
        Assert.Contains("scope=" + Uri.EscapeDataString("https://vault.azure.net/.default"), tokenRequest.RequestMessage.Body, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(2, _stub.VaultRequests.Count);
        Assert.All(_stub.VaultRequests, entry =>
        {
            Assert.Equal("Bearer " + _stub.AccessToken, Assert.Single(entry.RequestMessage.Headers!["Authorization"]));
            Assert.Equal("7.4", entry.RequestMessage.Query!["api-version"][0]);
        });
        Assert.All(_stub.Server.LogEntries, entry => Assert.NotNull(entry.MappingGuid)); // MSAL needed only the token endpoint
    }

    [Theory]
    [InlineData(401)]
    [InlineData(403)]
    public async Task UnauthorisedAnswerFromTheVaultIsAPermanentFailureNotUnavailability(int status)
    {
        _stub.Server.Given(Request.Create().WithPath(_stub.KeyPath("wrapkey")).UsingPost())
            .RespondWith(KeyVaultStub.KeyVaultError(status, status == 401 ? "Unauthorized" : "Forbidden"));
        var kek = await _stub.CreateProvider().ResolveAsync(_stub.KeyId);
        var dataKey = RandomNumberGenerator.GetBytes(32);

        var ex = await Assert.ThrowsAsync<KeyProviderException>(() => kek.WrapKeyAsync(Alg, dataKey));

        Assert.IsNotType<KeyProviderUnavailableException>(ex);
        Assert.Contains("not authorised", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(_stub.AccessToken, ex.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(Convert.ToBase64String(dataKey), ex.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(System.Buffers.Text.Base64Url.EncodeToString(dataKey), ex.ToString(), StringComparison.Ordinal);
        Assert.Single(_stub.VaultRequests); // a refusal is not retried
    }

    [Fact]
    public async Task ThrottledRequestWaitsForRetryAfterThenSucceeds()
    {
        _stub.Server.Given(Request.Create().WithPath(_stub.KeyPath("wrapkey")).UsingPost())
            .InScenario("throttled")
            .WillSetStateTo("served")
            .RespondWith(KeyVaultStub.KeyVaultError(429, "Throttled").WithHeader("Retry-After", "1"));
        _stub.Server.Given(Request.Create().WithPath(_stub.KeyPath("wrapkey")).UsingPost())
            .InScenario("throttled")
            .WhenStateIs("served")
            .RespondWith(_stub.WrapResponse());
        var kek = await _stub.CreateProvider().ResolveAsync(_stub.KeyId);
        var dataKey = RandomNumberGenerator.GetBytes(32);

        var clock = Stopwatch.StartNew();
        var wrapped = await kek.WrapKeyAsync(Alg, dataKey);
        clock.Stop();

        Assert.Equal(dataKey, _stub.Rsa.Decrypt(wrapped, RSAEncryptionPadding.OaepSHA256));
        Assert.Equal([429, 200], _stub.VaultRequests.Select(e => Convert.ToInt32(e.ResponseMessage.StatusCode, System.Globalization.CultureInfo.InvariantCulture)));
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(950), $"Retry-After: 1 was not honoured ({clock.Elapsed.TotalMilliseconds:F0} ms).");
    }

    [Fact]
    public async Task PersistentServerErrorMeansTheVaultIsUnavailable()
    {
        _stub.Server.Given(Request.Create().WithPath(_stub.KeyPath("unwrapkey")).UsingPost())
            .RespondWith(KeyVaultStub.KeyVaultError(500, "InternalServerError"));
        var kek = await _stub.CreateProvider().ResolveAsync(_stub.KeyId);

        await Assert.ThrowsAsync<KeyProviderUnavailableException>(() => kek.UnwrapKeyAsync(Alg, new byte[256]));

        Assert.Equal(3, _stub.VaultRequests.Count); // the first try and the two retries configured for tests
    }

    [Fact]
    public async Task KeyIdTheVaultDoesNotKnowIsAPermanentFailure()
    {
        _stub.Server.Given(Request.Create().WithPath("/keys/no-such-key/0123456789abcdef0123456789abcdef/wrapkey").UsingPost())
            .RespondWith(KeyVaultStub.KeyVaultError(404, "KeyNotFound"));
        var kek = await _stub.CreateProvider().ResolveAsync($"{_stub.Authority}/keys/no-such-key/0123456789abcdef0123456789abcdef");

        var ex = await Assert.ThrowsAsync<KeyProviderException>(() => kek.WrapKeyAsync(Alg, RandomNumberGenerator.GetBytes(32)));

        Assert.IsNotType<KeyProviderUnavailableException>(ex);
        Assert.Contains("not found", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task KeyIdOnAnotherHostIsRefusedWithoutAnyRequest()
    {
        var provider = _stub.CreateProvider();

        var ex = await Assert.ThrowsAsync<KeyProviderException>(
            () => provider.ResolveAsync($"https://attacker.example/keys/{KeyVaultStub.KeyName}/{KeyVaultStub.KeyVersion}"));

        Assert.IsNotType<KeyProviderUnavailableException>(ex);
        Assert.Empty(_stub.Server.LogEntries);
    }

    [Theory]
    [InlineData("not a uri")]
    [InlineData("/keys/exchange-kek/0f3c6b8e2d9a4c71b5e8a3d2c1f0e9b7")]
    [InlineData("{0}/secrets/exchange-kek/0f3c6b8e2d9a4c71b5e8a3d2c1f0e9b7")]
    [InlineData("{0}/keys/exchange-kek")]
    [InlineData("{0}/keys/exchange-kek/0f3c6b8e2d9a4c71b5e8a3d2c1f0e9b7/extra")]
    [InlineData("{0}/keys/exchange-kek/0f3c6b8e2d9a4c71b5e8a3d2c1f0e9b7?api-version=1")]
    [InlineData("{0}/keys/exchange_kek/0f3c6b8e2d9a4c71b5e8a3d2c1f0e9b7")]
    [InlineData("{0}/keys/exchange-kek/0f3c%2F..")]
    public void KeyIdsNotOfTheFormVaultKeysNameVersionAreRefused(string template)
    {
        var provider = _stub.CreateProvider();
        var keyId = string.Format(System.Globalization.CultureInfo.InvariantCulture, template, _stub.Authority);

        Assert.Throws<KeyProviderException>(() => provider.Resolve(keyId));
    }

    [Fact]
    public void KeyIdOverPlainHttpIsRefused()
    {
        var provider = _stub.CreateProvider();

        Assert.Throws<KeyProviderException>(() => provider.Resolve(_stub.KeyId.Replace("https://", "http://", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task UnreachableVaultMeansTheVaultIsUnavailable()
    {
        var closedVault = new Uri($"https://localhost:{KeyVaultStub.ClosedPort()}/");
        var provider = _stub.CreateProvider(vaultUri: closedVault);
        var kek = await provider.ResolveAsync($"{closedVault.GetLeftPart(UriPartial.Authority)}/keys/{KeyVaultStub.KeyName}/{KeyVaultStub.KeyVersion}");

        await Assert.ThrowsAsync<KeyProviderUnavailableException>(() => kek.WrapKeyAsync(Alg, RandomNumberGenerator.GetBytes(32)));
    }

    [Fact]
    public async Task UnreachableTokenEndpointMeansTheVaultIsUnavailable()
    {
        _stub.ServeKeyOperations();
        var provider = _stub.CreateProvider(authorityHost: new Uri($"https://localhost:{KeyVaultStub.ClosedPort()}/"));
        var kek = await provider.ResolveAsync(_stub.KeyId);

        await Assert.ThrowsAsync<KeyProviderUnavailableException>(() => kek.WrapKeyAsync(Alg, RandomNumberGenerator.GetBytes(32)));

        Assert.Empty(_stub.VaultRequests);
    }

    [Fact]
    public async Task CurrentKeyWithoutConfiguredVersionIsTheKidTheVaultReportsAndIsCached()
    {
        const string latest = "9a8b7c6d5e4f30211203f4e5d6c7b8a9";
        var latestId = $"{_stub.Authority}/keys/{KeyVaultStub.KeyName}/{latest}";
        _stub.Server.Given(Request.Create().WithPath($"/keys/{KeyVaultStub.KeyName}").UsingGet())
            .RespondWith(KeyVaultStub.Json(200).WithBody(System.Text.Json.JsonSerializer.Serialize(new
            {
                key = new { kid = latestId, kty = "RSA", key_ops = new[] { "wrapKey", "unwrapKey" }, n = "AQAB", e = "AQAB" },
                attributes = new { enabled = true },
            })));
        var provider = _stub.CreateProvider(keyVersion: null);

        var first = await provider.GetCurrentAsync();
        var second = await provider.GetCurrentAsync();

        Assert.Equal(latestId, first.KeyId);
        Assert.Equal(latestId, second.KeyId);
        var lookup = Assert.Single(_stub.VaultRequests);
        Assert.Equal("GET", lookup.RequestMessage.Method);
        Assert.Equal("Bearer " + _stub.AccessToken, Assert.Single(lookup.RequestMessage.Headers!["Authorization"]));
    }

    [Fact]
    public async Task ConfiguredKeyVersionIsCurrentWithoutAskingTheVault()
    {
        var provider = _stub.CreateProvider();

        var current = await provider.GetCurrentAsync();

        Assert.Equal(_stub.KeyId, current.KeyId);
        Assert.Equal("RSA-OAEP-256", provider.WrapAlgorithm);
        Assert.True(provider.IsProductionGrade);
        Assert.Empty(_stub.Server.LogEntries);
    }

    [Theory]
    [InlineData("RSA1_5")]
    [InlineData("RSA-OAEP")]
    [InlineData("A256KW")]
    [InlineData("rsa-oaep-256")]
    [InlineData("")]
    public async Task AlgorithmsOtherThanRsaOaep256AreRefused(string algorithm)
    {
        _stub.ServeKeyOperations();
        var kek = await _stub.CreateProvider().ResolveAsync(_stub.KeyId);

        await Assert.ThrowsAnyAsync<ArgumentException>(() => kek.WrapKeyAsync(algorithm, RandomNumberGenerator.GetBytes(32)));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => kek.UnwrapKeyAsync(algorithm, new byte[256]));
        Assert.Empty(_stub.VaultRequests);
    }

    [Fact]
    public void VaultUriMustBeHttps()
    {
        Assert.Throws<ArgumentException>(() => new AzureKeyVaultKeyProvider(
            new AzureKeyVaultOptions { VaultUri = new Uri("http://vault.example/"), KeyName = KeyVaultStub.KeyName },
            _stub.CreateCredential()));
    }
}
