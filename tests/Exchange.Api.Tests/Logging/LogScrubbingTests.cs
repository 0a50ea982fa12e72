using System.Net;
using System.Text;
using Exchange.Api.Logging;
using Exchange.Api.Tests.AuditReview;
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

    [Theory]
    [InlineData("/v1/children/x9991000232", "9991000232")]
    [InlineData("/v1/children/nhs-999-100-0240", "999-100-0240")]
    [InlineData("/v1/organisations/school:9991000259", "9991000259")]
    [InlineData("reqj202000125008z", "j202000125008")] // a permanent UPN inside a word
    [InlineData("tmpK20200012500Az", "K20200012500A")] // a temporary UPN (ends in a letter) inside a word
    [InlineData("ch_9991000291zzzzzzzzzzzzzzzz", "9991000291")] // shaped like our ids, holding an NHS number
    [InlineData("nhs:999_100_0240;", "999_100_0240")]
    [InlineData("nhs 999 / 100 / 0240", "999 / 100 / 0240")]
    [InlineData("nhs 999\u2013100\u20130240", "999\u2013100\u20130240")] // en dashes
    [InlineData("nhs 999\u00a0100\u00a00240", "999\u00a0100\u00a00240")] // no-break spaces
    [InlineData("upn K 2020 0012 500A", "K 2020 0012 500A")]
    [InlineData("upn K-2020-0012-5008", "2020-0012-5008")]
    public void ScrubberNeedsNoWordBoundaryAndAcceptsAnySeparator(string input, string identifier)
    {
        var scrubbed = LogScrubber.Scrub(System.Text.RegularExpressions.Regex.Unescape(input));
        Assert.DoesNotContain(System.Text.RegularExpressions.Regex.Unescape(identifier), scrubbed, StringComparison.Ordinal);
        Assert.Matches(@"\[(nhs-number|upn)\]", scrubbed);
    }

    [Theory]
    [InlineData("/v1/children/x9991000232", "/v1/children/x[nhs-number]")]
    [InlineData("/v1/children/nhs-999-100-0240", "/v1/children/nhs-[nhs-number]")]
    [InlineData("/v1/organisations/school:9991000259", "/v1/organisations/school:[nhs-number]")]
    [InlineData("/v1/children/ch_9991000291zzzzzzzzzzzzzzzz/placements", "/v1/children/ch_[nhs-number]zzzzzzzzzzzzzzzz/placements")]
    [InlineData("/v1/children/ch_9bnjp22dq0v581hd6c71mf19mw/placements", "/v1/children/ch_9bnjp22dq0v581hd6c71mf19mw/placements")]
    public void SegmentsThePathFilterKeepsAreStillScrubbed(string path, string expected) =>
        Assert.Equal(expected, LogScrubber.ScrubPath(path));

    [Fact]
    public async Task PathsAndCorrelationIdsThatHideIdentifiersInsideWordsAreScrubbed()
    {
        var council = api.Council202;
        await council.GetAsync("/v1/children/x9991000232");
        await council.GetAsync("/v1/children/nhs-999-100-0240");
        await api.Admin.GetAsync("/v1/organisations/school:9991000259");
        var traced = api.Council202;
        traced.DefaultRequestHeaders.Add("X-Correlation-Id", "reqj202000125008z");
        // A caller-chosen W3C trace id is caller text as well.
        traced.DefaultRequestHeaders.Add("traceparent", "00-99910002670000000000000000000000-0000000000000001-01");
        var response = await traced.GetAsync("/v1/children/ch_9991000291zzzzzzzzzzzzzzzz");
        Assert.NotEqual("reqj202000125008z", response.Headers.GetValues("X-Correlation-Id").Single());

        for (var i = 0; i < 50 && !api.Logs.All.Contains("zzzzzzzzzzzzzzzz", StringComparison.Ordinal); i++)
        {
            await Task.Delay(100);
        }

        var logs = api.Logs.All;
        Assert.Contains("zzzzzzzzzzzzzzzz", logs, StringComparison.Ordinal); // the requests were logged
        foreach (var secret in new[] { "9991000232", "999-100-0240", "9991000259", "j202000125008", "9991000291", "9991000267" })
        {
            Assert.DoesNotContain(secret, logs, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void TheServersOwnRequestIdsNeverLookLikeAnIdentifier()
    {
        // A 32-hex id holds a run of ten digits about one time in twelve; scrubbed, it could not be joined to its audit event.
        for (var i = 0; i < 5000; i++)
        {
            var id = CorrelationIdMiddleware.NewServerId();
            Assert.Matches("^[0-9a-f]{32}$", id);
            Assert.Equal(id, LogScrubber.Scrub(id));
        }
    }

    [Fact]
    public async Task TheServerRequestIdInTheLogsIsTheOneInTheAuditEvent()
    {
        var childIds = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            childIds.Add(await Problem.ChildIdAsync(await api.Council202.RegisterAsync(new { nhsNumber = TestIdentifiers.NewNhs() }), HttpStatusCode.Created));
        }

        foreach (var childId in childIds)
        {
            var registered = Assert.Single(await api.EventsAsync($"childId={childId}"));
            // Request logging completes just after the response: on a loaded machine, wait for the line.
            var line = "\"ServerRequestId\":\"" + registered.GetProperty("request_id").GetString() + "\"";
            for (var i = 0; i < 100 && !api.Logs.All.Contains(line, StringComparison.Ordinal); i++)
            {
                await Task.Delay(100);
            }

            Assert.Contains(line, api.Logs.All, StringComparison.Ordinal);
        }
    }

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
