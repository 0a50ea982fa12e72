using System.Net;
using System.Text;
using Exchange.Api.Logging;
using Exchange.Api.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Exchange.Api.Tests.Logging;

/// <summary>No NHS number, UPN or token may reach a log line, whatever the caller sends.</summary>
public sealed class LogScrubbingTests(ExchangeApiFactory api) : IClassFixture<ExchangeApiFactory>
{
    private static readonly string[] Secrets =
    [
        "9434765919", "943 476 5919", "9434765918", "9990000018", "B801200005001", "A801200005001", "M80120000500A",
        "94-34-76-59-19", "B801 2000 05001", "CANARY-LAID-42",
    ];

    [Fact]
    public async Task IdentifiersSentToTheApiNeverReachTheLogs()
    {
        var council = api.Council202;
        var token = api.Issuer.Token("la:202", "virtual-school");
        await council.RegisterAsync(new { nhsNumber = "9434765919", upn = "B801200005001" });
        await council.RegisterAsync(new { nhsNumber = "9990000018", upn = "M80120000500A" });
        await council.RegisterAsync(new { nhsNumber = "9434765919", upn = "M80120000500A" }); // conflict
        await council.ResolveAsync(new { nhsNumber = "9434765918" }); // invalid
        await council.ResolveAsync(new { upn = "A801200005001" }); // invalid
        await council.ResolveAsync(new { nhsNumber = "943 476 5919" });
        await council.PostAsync("/v1/identities/resolve", new StringContent("{\"identifiers\":{\"nhsNumber\":9434765919", Encoding.UTF8, "application/json"));
        await council.GetAsync("/v1/children/9434765919?upn=B801200005001");
        await council.GetAsync("/v1/B801200005001");
        await council.GetAsync("/v1/children/94-34-76-59-19");
        await council.GetAsync("/v1/children/B801%202000%2005001");
        await council.GetAsync("/v1/children/CANARY-LAID-42");
        await council.PostAsync("/v1/children/CANARY-LAID-42/erase", null);
        await api.WithToken(token + "x").GetAsync("/v1/children/ch_00000000000000000000000000");

        // Request logging completes just after the response; wait until the last request is logged.
        for (var i = 0; i < 50 && !api.Logs.All.Contains("ch_00000000000000000000000000", StringComparison.Ordinal); i++)
        {
            await Task.Delay(100);
        }

        var logs = api.Logs.All;
        Assert.Contains("/v1/identities/resolve", logs, StringComparison.Ordinal); // the requests were logged
        foreach (var secret in Secrets.Append(token).Append(token[..40]))
        {
            Assert.DoesNotContain(secret, logs, StringComparison.OrdinalIgnoreCase);
        }
    }

    [Fact]
    public void ExceptionsAndMessagesThatCarryIdentifiersAreScrubbed()
    {
        var logger = api.Services.GetRequiredService<ILoggerFactory>().CreateLogger("scrub-test");
#pragma warning disable CA1848, CA2254 // deliberately logging the wrong way: the scrubber must still catch it
        logger.LogError(new InvalidOperationException("lookup failed for 943-476-5919"), "Interpolated {Value} and B801200005001 inline", 9434765919L);
#pragma warning restore CA1848, CA2254
        var logs = api.Logs.All;
        Assert.Contains("[nhs-number]", logs, StringComparison.Ordinal);
        Assert.DoesNotContain("943-476-5919", logs, StringComparison.Ordinal);
        Assert.DoesNotContain("9434765919", logs, StringComparison.Ordinal);
        Assert.DoesNotContain("B801200005001", logs, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("nhs 9434765919 here", "nhs [nhs-number] here")]
    [InlineData("grouped 943 476 5919.", "grouped [nhs-number].")]
    [InlineData("upn b801200005001", "upn [upn]")]
    [InlineData("temp M80120000500A!", "temp [upn]!")]
    [InlineData("Authorization: Bearer abc.def-ghi", "Authorization: Bearer [token]")]
    [InlineData("short 12345 and ch_9bnjp22dq0v581hd6c71mf19mw stay", "short 12345 and ch_9bnjp22dq0v581hd6c71mf19mw stay")]
    public void ScrubberReplacesIdentifierShapes(string input, string expected) =>
        Assert.Equal(expected, LogScrubber.Scrub(input));

    [Fact]
    public void ScrubberRemovesJwts()
    {
        var token = api.Issuer.Token("la:202", "virtual-school");
        Assert.Equal("token=[token];", LogScrubber.Scrub($"token={token};"));
    }

    [Fact]
    public async Task RefusedRequestsAreLoggedWithoutTheToken()
    {
        var expired = api.Issuer.Mint(new TokenSpec("la:202", ["virtual-school"], Expires: DateTime.UtcNow.AddMinutes(-5)));
        var response = await api.WithToken(expired).ResolveAsync(new { nhsNumber = "9990000018" });
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("unauthenticated", api.Logs.All, StringComparison.Ordinal);
        Assert.DoesNotContain(expired.Split('.')[1], api.Logs.All, StringComparison.Ordinal);
    }
}
