using System.Security.Cryptography;
using System.Text.Json;
using Exchange.Crypto.KeyVault;
using Exchange.Crypto.Keys;
using Exchange.Crypto.Tests.Keys;
using WireMock.RequestBuilders;

namespace Exchange.Crypto.Tests.KeyVault;

/// <summary>
/// What the Key Vault provider makes of the vault's answers: which statuses are outages (retry later,
/// 503) and which are refusals (fix the configuration), what it does with a malformed or incomplete
/// answer, and how long it trusts the current key version it looked up.
/// </summary>
public sealed class AzureKeyVaultAnswerTests : IDisposable
{
    private const string Alg = AzureKeyVaultKeyProvider.RsaOaep256;
    private const string Latest = "9a8b7c6d5e4f30211203f4e5d6c7b8a9";
    private readonly KeyVaultStub _stub = new();

    public void Dispose() => _stub.Dispose();

    [Theory]
    [InlineData(408)]
    [InlineData(429)]
    [InlineData(500)]
    [InlineData(501)]
    [InlineData(503)]
    public async Task AnAnswerThatMayPassOnItsOwnIsUnavailability(int status)
    {
        AnswerWrap(status, "Busy");

        var ex = await Assert.ThrowsAsync<KeyProviderUnavailableException>(() => WrapAsync());

        Assert.Contains($"HTTP {status}", ex.Message, StringComparison.Ordinal);
        Assert.Contains("(error code Busy)", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(400, "rejected")]
    [InlineData(404, "rejected")]
    [InlineData(401, "not authorised")]
    [InlineData(403, "not authorised")]
    [InlineData(409, "unexpected")]
    [InlineData(418, "unexpected")]
    [InlineData(499, "unexpected")]
    public async Task ARefusalOrAnUnexpectedAnswerIsAPermanentFailure(int status, string wording)
    {
        AnswerWrap(status, "Refused");

        var ex = await Assert.ThrowsAsync<KeyProviderException>(() => WrapAsync());

        Assert.IsNotType<KeyProviderUnavailableException>(ex);
        Assert.Contains($"HTTP {status}", ex.Message, StringComparison.Ordinal);
        Assert.Contains(wording, ex.Message, StringComparison.Ordinal);
        Assert.Single(_stub.VaultRequests); // not retried
    }

    [Theory]
    [InlineData("Key Not Found")]   // not letters and digits only
    [InlineData("Code/../etc")]
    [InlineData("")]
    public async Task AnErrorCodeThatIsNotPlainLettersAndDigitsIsLeftOutOfTheMessage(string code)
    {
        AnswerWrap(404, code);

        var ex = await Assert.ThrowsAsync<KeyProviderException>(() => WrapAsync());

        Assert.DoesNotContain("error code", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(64, true)]
    [InlineData(65, false)]
    public async Task AnErrorCodeIsQuotedUpToSixtyFourCharacters(int length, bool quoted)
    {
        var code = new string('A', length);
        AnswerWrap(404, code);

        var ex = await Assert.ThrowsAsync<KeyProviderException>(() => WrapAsync());

        Assert.Equal(quoted, ex.Message.Contains($"(error code {code})", StringComparison.Ordinal));
        Assert.Equal(quoted, ex.Message.Contains("error code", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AnErrorAnswerThatIsNotJsonStillGivesTheStatus()
    {
        _stub.Server.Given(Request.Create().WithPath(_stub.KeyPath("wrapkey")).UsingPost())
            .RespondWith(KeyVaultStub.Json(404).WithBody("<html>not found</html>"));

        var ex = await Assert.ThrowsAsync<KeyProviderException>(() => WrapAsync());

        Assert.Contains("HTTP 404", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("error code", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{\"kid\":\"x\"}", "without a value")]
    [InlineData("{\"value\":\"\"}", "without a value")]
    [InlineData("{\"value\":42}", "without a value")]
    [InlineData("{\"value\":\"a\\u0041\"}", "without a value")] // escaped text is not taken as a key
    [InlineData("[\"value\"]", "without a value")]
    [InlineData("{\"value\":\"not*base64url\"}", "not base64url")]
    [InlineData("{\"value\":", "malformed JSON")]
    [InlineData("", "malformed JSON")]
    public async Task AWrapAnswerWithoutAUsableValueIsAPermanentFailure(string body, string wording)
    {
        _stub.Server.Given(Request.Create().WithPath(_stub.KeyPath("wrapkey")).UsingPost())
            .RespondWith(KeyVaultStub.Json(200).WithBody(body));

        var ex = await Assert.ThrowsAsync<KeyProviderException>(() => WrapAsync());

        Assert.IsNotType<KeyProviderUnavailableException>(ex);
        Assert.Contains(wording, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheValueIsFoundAfterOtherPropertiesOfAnyShape()
    {
        var wrapped = RandomNumberGenerator.GetBytes(256);
        _stub.Server.Given(Request.Create().WithPath(_stub.KeyPath("wrapkey")).UsingPost())
            .RespondWith(KeyVaultStub.Json(200).WithBody(JsonSerializer.Serialize(new
            {
                kid = _stub.KeyId,
                attributes = new { enabled = true, tags = new[] { "a", "b" } },
                value = System.Buffers.Text.Base64Url.EncodeToString(wrapped),
            })));

        Assert.Equal(wrapped, await WrapAsync());
    }

    [Fact]
    public async Task AnEmptyKeyIsRefusedWithoutAnyRequest()
    {
        var kek = await _stub.CreateProvider().ResolveAsync(_stub.KeyId);

        await Assert.ThrowsAsync<ArgumentException>(() => kek.WrapKeyAsync(Alg, ReadOnlyMemory<byte>.Empty));
        Assert.Empty(_stub.Server.LogEntries);
    }

    [Fact]
    public async Task TheCurrentVersionIsTrustedForItsCacheDurationAndLookedUpAgainOnItsLastInstant()
    {
        ServeCurrent(new { key = new { kid = LatestId }, attributes = new { enabled = true } });
        var clock = new ManualClock();
        var provider = CurrentProvider(TimeSpan.FromMinutes(5), clock);

        await provider.GetCurrentAsync();
        clock.Advance(TimeSpan.FromMinutes(5) - TimeSpan.FromTicks(1));
        await provider.GetCurrentAsync();
        Assert.Single(_stub.VaultRequests);

        clock.Advance(TimeSpan.FromTicks(1));
        var current = await provider.GetCurrentAsync();

        Assert.Equal(2, _stub.VaultRequests.Count);
        Assert.Equal(LatestId, current.KeyId);
    }

    [Fact]
    public async Task ACacheDurationOfZeroLooksTheCurrentVersionUpEveryTime()
    {
        ServeCurrent(new { key = new { kid = LatestId } });
        var provider = CurrentProvider(TimeSpan.Zero, new ManualClock());

        await provider.GetCurrentAsync();
        await provider.GetCurrentAsync();

        Assert.Equal(2, _stub.VaultRequests.Count);
    }

    [Fact]
    public void ANegativeCacheDurationIsRefused() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => CurrentProvider(TimeSpan.FromTicks(-1), new ManualClock()));

    [Fact]
    public async Task ADisabledCurrentVersionIsRefused()
    {
        ServeCurrent(new { key = new { kid = LatestId }, attributes = new { enabled = false } });

        var ex = await Assert.ThrowsAsync<KeyProviderException>(() => CurrentProvider().GetCurrentAsync());

        Assert.Contains("disabled", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ACurrentVersionWithoutAttributesOrWithANonBooleanEnabledIsUsed()
    {
        ServeCurrent(new { key = new { kid = LatestId }, attributes = new { enabled = "no" } });

        Assert.Equal(LatestId, (await CurrentProvider().GetCurrentAsync()).KeyId);
    }

    [Theory]
    [InlineData("{\"key\":{}}", "without a key.kid")]
    [InlineData("{\"key\":{\"kid\":42}}", "without a key.kid")]
    [InlineData("{\"key\":\"kid\"}", "without a key.kid")]
    [InlineData("[]", "without a key.kid")]
    [InlineData("{\"key\":", "malformed JSON")]
    public async Task ACurrentVersionAnswerWithoutAKidIsAPermanentFailure(string body, string wording)
    {
        _stub.Server.Given(Request.Create().WithPath($"/keys/{KeyVaultStub.KeyName}").UsingGet())
            .RespondWith(KeyVaultStub.Json(200).WithBody(body));

        var ex = await Assert.ThrowsAsync<KeyProviderException>(() => CurrentProvider().GetCurrentAsync());

        Assert.IsNotType<KeyProviderUnavailableException>(ex);
        Assert.Contains(wording, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ACurrentVersionOfAnotherKeyIsRefused()
    {
        ServeCurrent(new { key = new { kid = $"{_stub.Authority}/keys/other-key/{Latest}" } });

        var ex = await Assert.ThrowsAsync<KeyProviderException>(() => CurrentProvider().GetCurrentAsync());

        Assert.Contains("another name", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ACurrentVersionNamedInAnotherCaseIsTheSameKey()
    {
        // Key Vault names are case-insensitive.
        var upper = $"{_stub.Authority}/keys/{KeyVaultStub.KeyName.ToUpperInvariant()}/{Latest}";
        ServeCurrent(new { key = new { kid = upper } });

        Assert.Equal(upper, (await CurrentProvider().GetCurrentAsync()).KeyId);
    }

    [Theory]
    [InlineData(404, false)]
    [InlineData(403, false)]
    [InlineData(503, true)]
    public async Task TheCurrentVersionLookupMapsFailuresLikeAnyOtherCall(int status, bool unavailable)
    {
        _stub.Server.Given(Request.Create().WithPath($"/keys/{KeyVaultStub.KeyName}").UsingGet())
            .RespondWith(KeyVaultStub.KeyVaultError(status, "Nope"));

        var ex = await Assert.ThrowsAnyAsync<KeyProviderException>(() => CurrentProvider().GetCurrentAsync());

        Assert.Equal(unavailable, ex is KeyProviderUnavailableException);
        Assert.Contains("reading the current version of key 'exchange-kek'", ex.Message, StringComparison.Ordinal);
    }

    private string LatestId => $"{_stub.Authority}/keys/{KeyVaultStub.KeyName}/{Latest}";

    private async Task<byte[]> WrapAsync()
    {
        var kek = await _stub.CreateProvider().ResolveAsync(_stub.KeyId);
        return await kek.WrapKeyAsync(Alg, RandomNumberGenerator.GetBytes(32));
    }

    private void AnswerWrap(int status, string code) =>
        _stub.Server.Given(Request.Create().WithPath(_stub.KeyPath("wrapkey")).UsingPost())
            .RespondWith(KeyVaultStub.KeyVaultError(status, code));

    private void ServeCurrent(object body) =>
        _stub.Server.Given(Request.Create().WithPath($"/keys/{KeyVaultStub.KeyName}").UsingGet())
            .RespondWith(KeyVaultStub.Json(200).WithBody(JsonSerializer.Serialize(body)));

    private AzureKeyVaultKeyProvider CurrentProvider(TimeSpan? cacheDuration = null, TimeProvider? clock = null) =>
        new(
            new AzureKeyVaultOptions
            {
                VaultUri = _stub.Url,
                KeyName = KeyVaultStub.KeyName,
                CurrentVersionCacheDuration = cacheDuration ?? TimeSpan.FromMinutes(5),
            },
            _stub.CreateCredential(),
            _stub.CreateClientOptions(),
            clock);
}
