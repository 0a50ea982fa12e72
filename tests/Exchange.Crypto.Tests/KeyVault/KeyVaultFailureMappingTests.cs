using System.Net.Sockets;
using System.Security.Cryptography;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;
using Exchange.Crypto.KeyVault;
using Exchange.Crypto.Keys;
using Microsoft.Identity.Client;

namespace Exchange.Crypto.Tests.KeyVault;

/// <summary>
/// Which failures of the credential and of the transport the provider reports as the vault being
/// unavailable (try again later) and which as a permanent refusal (fix the configuration), for failures
/// a stub server cannot produce on demand: a credential failing for a given cause, a connection failing
/// differently on each retry. A failure that is nobody's network (a bug) is not dressed up as either.
/// </summary>
public sealed class KeyVaultFailureMappingTests
{
    private const string Alg = AzureKeyVaultKeyProvider.RsaOaep256;
    private const string KeyId = "https://vault.example/keys/exchange-kek/0f3c6b8e2d9a4c71b5e8a3d2c1f0e9b7";

    public static TheoryData<string> NetworkCauses() => new(Causes.Keys.Where(k => k.StartsWith("network", StringComparison.Ordinal)));

    public static TheoryData<string> PermanentCauses() => new(Causes.Keys.Where(k => k.StartsWith("refused", StringComparison.Ordinal)));

    private static readonly Dictionary<string, Func<Exception?>> Causes = new()
    {
        ["network: HttpRequestException"] = () => new HttpRequestException("connection refused"),
        ["network: IOException"] = () => new IOException("connection reset"),
        ["network: SocketException"] = () => new SocketException((int)SocketError.HostUnreachable),
        ["network: TimeoutException"] = () => new TimeoutException("no answer"),
        ["network: OperationCanceledException"] = () => new OperationCanceledException("the request timed out"),
        ["network: HTTP status 0"] = () => new RequestFailedException(0, "no response"),
        ["network: HTTP 408"] = () => new RequestFailedException(408, "timeout"),
        ["network: HTTP 429"] = () => new RequestFailedException(429, "throttled"),
        ["network: HTTP 500"] = () => new RequestFailedException(500, "server error"),
        ["network: HTTP 503"] = () => new RequestFailedException(503, "unavailable"),
        ["network: MSAL 408"] = () => Msal(408),
        ["network: MSAL 429"] = () => Msal(429),
        ["network: MSAL 500"] = () => Msal(500),
        ["network: MSAL 503"] = () => Msal(503),
        ["network: the cause's cause"] = () => new InvalidOperationException("wrapped", new SocketException((int)SocketError.ConnectionRefused)),
        ["refused: no cause"] = () => null,
        ["refused: HTTP 400"] = () => new RequestFailedException(400, "bad request"),
        ["refused: HTTP 401"] = () => new RequestFailedException(401, "unauthorised"),
        ["refused: HTTP 499"] = () => new RequestFailedException(499, "odd"),
        ["refused: MSAL 400"] = () => Msal(400),
        ["refused: MSAL 401"] = () => Msal(401),
        ["refused: MSAL 499"] = () => Msal(499),
        ["refused: a bad secret"] = () => new ArgumentException("invalid client secret"),
    };

    [Theory]
    [MemberData(nameof(NetworkCauses))]
    public async Task ATokenThatCouldNotBeObtainedForANetworkReasonMeansTheVaultIsUnavailable(string cause)
    {
        var kek = Provider(new FailingCredential(new Azure.Identity.AuthenticationFailedException("no token", Causes[cause]())), new ScriptedHandler()).Resolve(KeyId);

        var ex = await Assert.ThrowsAsync<KeyProviderUnavailableException>(() => kek.WrapKeyAsync(Alg, RandomNumberGenerator.GetBytes(32)));

        Assert.StartsWith("The identity provider could not be reached to obtain a Key Vault token for wrapkey", ex.Message, StringComparison.Ordinal);
        Assert.IsType<Azure.Identity.AuthenticationFailedException>(ex.InnerException);
    }

    [Theory]
    [MemberData(nameof(PermanentCauses))]
    public async Task ATokenRefusedForAnyOtherReasonIsAPermanentFailure(string cause)
    {
        var kek = Provider(new FailingCredential(new Azure.Identity.AuthenticationFailedException("no token", Causes[cause]())), new ScriptedHandler()).Resolve(KeyId);

        var ex = await Assert.ThrowsAsync<KeyProviderException>(() => kek.WrapKeyAsync(Alg, RandomNumberGenerator.GetBytes(32)));

        Assert.IsNotType<KeyProviderUnavailableException>(ex);
        Assert.StartsWith("No Key Vault token could be obtained for wrapkey", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ACredentialFailingWithABugIsNotReportedAsTheVaultsFault()
    {
        // Not an authentication failure, though a network error lies beneath it: the caller sees the bug itself.
        var bug = new InvalidOperationException("credential bug", new HttpRequestException("beneath"));
        var kek = Provider(new FailingCredential(bug), new ScriptedHandler()).Resolve(KeyId);

        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => kek.WrapKeyAsync(Alg, RandomNumberGenerator.GetBytes(32)));

        Assert.Same(bug, ex);
    }

    [Theory]
    [InlineData(503, true)]
    [InlineData(429, true)]
    [InlineData(403, false)]
    [InlineData(404, false)]
    public async Task ARequestFailureThrownWithAStatusIsMappedLikeThatStatusAnswered(int status, bool unavailable)
    {
        var handler = new ScriptedHandler(() => throw new RequestFailedException(status, "thrown by the transport"));
        var kek = Provider(new FixedCredential(), handler).Resolve(KeyId);

        var ex = await Assert.ThrowsAnyAsync<KeyProviderException>(() => kek.WrapKeyAsync(Alg, RandomNumberGenerator.GetBytes(32)));

        Assert.Equal(unavailable, ex is KeyProviderUnavailableException);
        Assert.Contains($"HTTP {status}", ex.Message, StringComparison.Ordinal);
        Assert.NotNull(ex.InnerException);
    }

    [Fact]
    public async Task AConnectionFailingOnEveryAttemptMeansTheVaultIsUnavailable()
    {
        var handler = new ScriptedHandler(() => throw new IOException("reset"));
        var kek = Provider(new FixedCredential(), handler).Resolve(KeyId);

        var ex = await Assert.ThrowsAsync<KeyProviderUnavailableException>(() => kek.WrapKeyAsync(Alg, RandomNumberGenerator.GetBytes(32)));

        Assert.Equal(3, handler.Attempts); // the first try and two retries
        Assert.IsType<AggregateException>(ex.InnerException);
        Assert.StartsWith("Key Vault could not be reached for wrapkey", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ARetryThatEndsInARefusalIsAPermanentFailureNamingTheRefusal()
    {
        var handler = new ScriptedHandler(
            () => throw new IOException("reset"),
            () => throw new RequestFailedException(403, "forbidden"));
        var kek = Provider(new FixedCredential(), handler).Resolve(KeyId);

        var ex = await Assert.ThrowsAsync<KeyProviderException>(() => kek.WrapKeyAsync(Alg, RandomNumberGenerator.GetBytes(32)));

        Assert.IsNotType<KeyProviderUnavailableException>(ex);
        Assert.Contains("HTTP 403", ex.Message, StringComparison.Ordinal);
        Assert.IsType<AggregateException>(ex.InnerException);
    }

    [Fact]
    public async Task ARetryThatEndsInABugIsNotReportedAsTheVaultsFault()
    {
        var handler = new ScriptedHandler(
            () => throw new IOException("reset"),
            () => throw new InvalidOperationException("transport bug"));
        var kek = Provider(new FixedCredential(), handler).Resolve(KeyId);

        var ex = await Assert.ThrowsAsync<AggregateException>(() => kek.WrapKeyAsync(Alg, RandomNumberGenerator.GetBytes(32)));

        Assert.Contains(ex.InnerExceptions, e => e is InvalidOperationException);
    }

    [Fact]
    public async Task AnAnswerWithoutAnErrorCodeSaysOnlyTheOperationAndTheStatus()
    {
        var handler = new ScriptedHandler(() => new HttpResponseMessage(System.Net.HttpStatusCode.ServiceUnavailable));
        var kek = Provider(new FixedCredential(), handler).Resolve(KeyId);

        var ex = await Assert.ThrowsAsync<KeyProviderUnavailableException>(() => kek.WrapKeyAsync(Alg, RandomNumberGenerator.GetBytes(32)));

        Assert.Equal(
            "Key Vault failed wrapkey on key 'exchange-kek' version '0f3c6b8e2d9a4c71b5e8a3d2c1f0e9b7' with HTTP 503 after retrying; try again later.",
            ex.Message);
    }

    [Fact]
    public async Task AnAnswerWhoseFirstValueIsUnusableIsRefusedEvenIfAnotherValueFollows()
    {
        var handler = new ScriptedHandler(() => new HttpResponseMessage(System.Net.HttpStatusCode.OK)
        {
            Content = new StringContent("{\"value\":42,\"value\":\"AAAA\"}", System.Text.Encoding.UTF8, "application/json"),
        });
        var kek = Provider(new FixedCredential(), handler).Resolve(KeyId);

        var ex = await Assert.ThrowsAsync<KeyProviderException>(() => kek.WrapKeyAsync(Alg, RandomNumberGenerator.GetBytes(32)));

        Assert.Contains("without a value", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TheProductionRetrySettingsAreThreeExponentialRetriesWithinTenSeconds()
    {
        var options = new AzureKeyVaultClientOptions();

        Assert.Equal(RetryMode.Exponential, options.Retry.Mode);
        Assert.Equal(3, options.Retry.MaxRetries);
        Assert.Equal(TimeSpan.FromMilliseconds(800), options.Retry.Delay);
        Assert.Equal(TimeSpan.FromSeconds(10), options.Retry.MaxDelay);
        Assert.Equal(TimeSpan.FromSeconds(10), options.Retry.NetworkTimeout);
    }

    private static MsalServiceException Msal(int status) => new("error", "from the identity provider", status, innerException: null!);

    private static AzureKeyVaultKeyProvider Provider(TokenCredential credential, ScriptedHandler handler)
    {
        var options = new AzureKeyVaultClientOptions { Transport = new HttpClientTransport(handler) };
        options.Retry.MaxRetries = 2;
        options.Retry.Delay = TimeSpan.FromMilliseconds(1);
        options.Retry.MaxDelay = TimeSpan.FromMilliseconds(5);
        return new AzureKeyVaultKeyProvider(
            new AzureKeyVaultOptions { VaultUri = new Uri("https://vault.example/"), KeyName = "exchange-kek" }, credential, options);
    }

    private sealed class FailingCredential(Exception failure) : TokenCredential
    {
        public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken) => throw failure;

        public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken) => throw failure;
    }

    private sealed class FixedCredential : TokenCredential
    {
        public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
            new("token", DateTimeOffset.UtcNow.AddHours(1));

        public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
            ValueTask.FromResult(GetToken(requestContext, cancellationToken));
    }

    /// <summary>Fails each attempt as scripted (the last step repeats); never reaches a network.</summary>
    private sealed class ScriptedHandler(params Func<HttpResponseMessage>[] steps) : HttpMessageHandler
    {
        public int Attempts { get; private set; }

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var step = steps[Math.Min(Attempts, steps.Length - 1)];
            Attempts++;
            return Task.FromResult(step());
        }
    }
}
