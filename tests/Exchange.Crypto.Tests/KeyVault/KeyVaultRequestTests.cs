using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text.Json;
using Exchange.Crypto.KeyVault;
using Exchange.Crypto.Keys;
using WireMock;
using WireMock.RequestBuilders;

namespace Exchange.Crypto.Tests.KeyVault;

/// <summary>
/// What the provider sends to Key Vault, read from the stub's request log: the stub answers any request
/// on the right path, so a request of the wrong shape (no JSON content type, no <c>Accept</c>, another
/// API version, a body with more or other fields) would pass every other test but fail against the
/// real service. Also the key ids and arguments refused before any request is made.
/// </summary>
public sealed class KeyVaultRequestTests : IDisposable
{
    private const string Alg = AzureKeyVaultKeyProvider.RsaOaep256;
    private readonly KeyVaultStub _stub = new();

    public void Dispose() => _stub.Dispose();

    [Theory]
    [InlineData("wrapkey")]
    [InlineData("unwrapkey")]
    public async Task AKeyOperationPostsTheKeyAsJsonToTheVersionedKeysOperation(string operation)
    {
        _stub.ServeKeyOperations();
        var kek = await _stub.CreateProvider().ResolveAsync(_stub.KeyId);
        var dataKey = RandomNumberGenerator.GetBytes(32);
        var wrapped = _stub.Rsa.Encrypt(dataKey, RSAEncryptionPadding.OaepSHA256);

        var sent = operation == "wrapkey" ? dataKey : wrapped;
        var answer = operation == "wrapkey" ? await kek.WrapKeyAsync(Alg, dataKey) : await kek.UnwrapKeyAsync(Alg, wrapped);

        Assert.Equal(dataKey, operation == "wrapkey" ? _stub.Rsa.Decrypt(answer, RSAEncryptionPadding.OaepSHA256) : answer);
        var request = Assert.Single(_stub.VaultRequests).RequestMessage;
        Assert.Equal("POST", request.Method);
        Assert.Equal($"/keys/{KeyVaultStub.KeyName}/{KeyVaultStub.KeyVersion}/{operation}", request.Path);
        AssertQueryIsOnlyTheApiVersion(request);
        Assert.Equal("application/json", Header(request, "Content-Type"));
        Assert.Equal("application/json", Header(request, "Accept"));
        using var body = JsonDocument.Parse(request.Body!);
        Assert.Equal(["alg", "value"], body.RootElement.EnumerateObject().Select(p => p.Name));
        Assert.Equal(Alg, body.RootElement.GetProperty("alg").GetString());
        Assert.Equal(Base64Url.EncodeToString(sent), body.RootElement.GetProperty("value").GetString());
    }

    [Fact]
    public async Task TheCurrentVersionIsAskedForWithAGetOfTheKeyByName()
    {
        var latest = $"{_stub.Authority}/keys/{KeyVaultStub.KeyName}/9a8b7c6d5e4f30211203f4e5d6c7b8a9";
        _stub.Server.Given(Request.Create().WithPath($"/keys/{KeyVaultStub.KeyName}").UsingGet())
            .RespondWith(KeyVaultStub.Json(200).WithBody(JsonSerializer.Serialize(new { key = new { kid = latest } })));

        var current = await _stub.CreateProvider(keyVersion: null).GetCurrentAsync();

        Assert.Equal(latest, current.KeyId);
        var request = Assert.Single(_stub.VaultRequests).RequestMessage;
        Assert.Equal("GET", request.Method);
        Assert.Equal($"/keys/{KeyVaultStub.KeyName}", request.Path);
        AssertQueryIsOnlyTheApiVersion(request);
        Assert.Equal("application/json", Header(request, "Accept"));
    }

    [Theory]
    [InlineData("https://user@{0}/keys/exchange-kek/0f3c6b8e2d9a4c71b5e8a3d2c1f0e9b7")]
    [InlineData("https://{0}/keys/exchange-kek/0f3c6b8e2d9a4c71b5e8a3d2c1f0e9b7#fragment")]
    [InlineData("https://{0}/keys/exchange-kek/0f3c6b8e2d9a4c71b5e8a3d2c1f0e9b7?api-version=7.4")]
    [InlineData("http://{0}/keys/exchange-kek/0f3c6b8e2d9a4c71b5e8a3d2c1f0e9b7")]
    public void AKeyIdWithMoreThanTheVaultAndThePathIsRefused(string format)
    {
        var provider = _stub.CreateProvider();
        var keyId = string.Format(System.Globalization.CultureInfo.InvariantCulture, format, $"{KeyVaultStub.VaultHost}:{_stub.Url.Port}");

        var ex = Assert.Throws<KeyProviderException>(() => provider.Resolve(keyId));

        Assert.Contains("not a Key Vault key identifier", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NullArgumentsAreRefusedAsNull()
    {
        var provider = _stub.CreateProvider();

        Assert.Throws<ArgumentNullException>(() => provider.Resolve(null!));
        Assert.Throws<ArgumentNullException>(() => new AzureKeyVaultKeyProvider(null!, _stub.CreateCredential()));
        Assert.Throws<ArgumentNullException>(() => new AzureKeyVaultSecretReader(null!, _stub.CreateCredential()));
        Assert.Empty(_stub.Server.LogEntries);
    }

    private static void AssertQueryIsOnlyTheApiVersion(IRequestMessage request)
    {
        var query = Assert.Single(request.Query!);
        Assert.Equal("api-version", query.Key);
        Assert.Equal(AzureKeyVaultKeyProvider.ApiVersion, Assert.Single(query.Value));
    }

    private static string Header(IRequestMessage request, string name) =>
        Assert.Single(request.Headers!.First(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase)).Value);
}
