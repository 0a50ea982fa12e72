using System.Net;
using System.Text;
using Exchange.Api.Tests.Infrastructure;

namespace Exchange.Api.Tests.Errors;

public sealed class ErrorResponseTests(ExchangeApiFactory api) : IClassFixture<ExchangeApiFactory>
{
    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    [Fact]
    public async Task UnknownRouteIsAProblem404()
    {
        await Problem.AssertAsync(await api.Council202.GetAsync("/v1/nothing-here"), HttpStatusCode.NotFound, "not-found");
        await Problem.AssertAsync(await api.CreateClient().GetAsync("/nothing"), HttpStatusCode.NotFound, "not-found");
    }

    [Fact]
    public async Task WrongMethodIsAProblem405()
    {
        var response = await api.Council202.DeleteAsync("/v1/identities/resolve");
        await Problem.AssertAsync(response, HttpStatusCode.MethodNotAllowed, "method-not-allowed");
    }

    [Theory]
    [InlineData("{\"identifiers\": {\"nhsNumber\": ")]
    [InlineData("not json at all")]
    [InlineData("{\"identifiers\": {\"nhsNumber\": 9434765919}}")]
    [InlineData("[]")]
    public async Task MalformedJsonIsAProblem400(string body)
    {
        var response = await api.Council202.PostAsync("/v1/identities/resolve", Json(body));
        var problem = await Problem.AssertAsync(response, HttpStatusCode.BadRequest, "malformed-json");
        Assert.DoesNotContain("9434765919", problem.GetRawText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task EmptyBodyIsAProblem400()
    {
        var response = await api.Council202.PostAsync("/v1/identities/resolve", Json(""));
        await Problem.AssertAsync(response, HttpStatusCode.BadRequest, "malformed-request");
    }

    [Fact]
    public async Task NonJsonContentTypeIsAProblem415()
    {
        var response = await api.Council202.PostAsync("/v1/identities/resolve", new StringContent("nhsNumber=9434765919", Encoding.UTF8, "application/x-www-form-urlencoded"));
        await Problem.AssertAsync(response, HttpStatusCode.UnsupportedMediaType, "unsupported-media-type");
    }

    [Fact]
    public async Task OversizeBodyIsAProblem413()
    {
        var body = "{\"identifiers\":{\"nhsNumber\":\"9434765919\"},\"pad\":\"" + new string('x', 1024 * 1024 + 10) + "\"}";
        var response = await api.Council202.PostAsync("/v1/identities/resolve", Json(body));
        await Problem.AssertAsync(response, HttpStatusCode.RequestEntityTooLarge, "payload-too-large");
    }

    [Fact]
    public async Task EveryResponseCarriesACorrelationIdAndTheCallersIsKeptWhenSafe()
    {
        var client = api.Council202;
        client.DefaultRequestHeaders.Add("X-Correlation-Id", "caller-trace-0001");
        var response = await client.GetAsync("/v1/nothing-here");
        Assert.Equal("caller-trace-0001", response.Headers.GetValues("X-Correlation-Id").Single());
        var problem = await Problem.AssertAsync(response, HttpStatusCode.NotFound, "not-found");
        Assert.Equal("caller-trace-0001", problem.GetProperty("correlationId").GetString());
    }

    [Fact]
    public async Task CorrelationIdShapedLikeAnIdentifierIsReplaced()
    {
        var client = api.CreateClient();
        client.DefaultRequestHeaders.Add("X-Correlation-Id", "9434765919");
        var response = await client.GetAsync("/health/live");
        var id = response.Headers.GetValues("X-Correlation-Id").Single();
        Assert.NotEqual("9434765919", id);
        Assert.Equal(32, id.Length);
    }

    [Fact]
    public async Task ResponsesCarrySecurityHeaders()
    {
        var response = await api.CreateClient().GetAsync("/health/live");
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Equal("DENY", response.Headers.GetValues("X-Frame-Options").Single());
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
    }

    [Fact]
    public async Task HealthEndpointsAnswerWithoutAToken()
    {
        Assert.Equal(HttpStatusCode.OK, (await api.CreateClient().GetAsync("/health/live")).StatusCode);
        var ready = await api.CreateClient().GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Equal("Healthy", await ready.Content.ReadAsStringAsync());
    }
}

public sealed class RateLimitTests : IClassFixture<RateLimitTests.LowLimitFactory>
{
    public sealed class LowLimitFactory : ExchangeApiFactory
    {
        public LowLimitFactory() => Settings["Exchange:Limits:RequestsPerMinute"] = "3";
    }

    private readonly LowLimitFactory _api;

    public RateLimitTests(LowLimitFactory api) => _api = api;

    [Fact]
    public async Task AClientOverItsLimitGets429WithRetryAfterWhileOthersCarryOn()
    {
        var greedy = _api.WithToken(_api.Issuer.Mint(new TokenSpec("school:100001", ["school-mis"], Subject: "mis-1")));
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.NotFound, (await greedy.ResolveAsync(new { nhsNumber = "9990000018" })).StatusCode);
        }

        var refused = await greedy.ResolveAsync(new { nhsNumber = "9990000018" });
        await Problem.AssertAsync(refused, HttpStatusCode.TooManyRequests, "rate-limited");
        Assert.True(refused.Headers.RetryAfter is not null, "Retry-After is sent");

        // Health probes and other clients are not affected.
        Assert.Equal(HttpStatusCode.OK, (await _api.CreateClient().GetAsync("/health/live")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _api.Council202.ResolveAsync(new { nhsNumber = "9990000018" })).StatusCode);
    }
}
