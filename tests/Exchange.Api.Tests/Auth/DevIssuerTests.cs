using System.Net;
using Exchange.Api.Hosting;
using Exchange.Api.Tests.Infrastructure;

namespace Exchange.Api.Tests.Auth;

/// <summary>The embedded default's development issuer and its token verb.</summary>
public sealed class DevIssuerTests
{
    [Fact]
    public async Task TokenVerbOfTheBuiltDllMintsATokenTheEmbeddedDefaultAccepts()
    {
        using var api = new ExchangeApiFactory { Environment = "Development" };
        api.Settings["Exchange:Auth:Authority"] = null;
        api.Settings["Exchange:Auth:DevIssuer:Enabled"] = null; // Development turns it on

        var token = await RunTokenVerbAsync(api.DataDirectory, "--org", "la:202", "--role", "virtual-school");
        Assert.Matches(@"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$", token);

        var response = await api.WithToken(token).ResolveAsync(new { nhsNumber = "9990000018" });
        await Problem.AssertAsync(response, HttpStatusCode.NotFound, "child-not-found");
        Assert.True(File.Exists(Path.Combine(api.DataDirectory, "dev-issuer-signing-key")));
    }

    [Fact]
    public async Task DevTokensAreRefusedWhenTheDevIssuerIsOff()
    {
        using var api = new ExchangeApiFactory(); // Testing environment, external issuer only
        var token = await RunTokenVerbAsync(api.DataDirectory, "--org", "la:202", "--role", "virtual-school");
        await Problem.AssertAsync(await api.WithToken(token).ResolveAsync(new { nhsNumber = "9990000018" }), HttpStatusCode.Unauthorized, "unauthenticated");
    }

    [Fact]
    public void ServiceRefusesToStartWithNoTrustedIssuer()
    {
        using var api = new ExchangeApiFactory { Environment = "Production" };
        api.Settings["Exchange:Auth:Authority"] = null;
        api.Settings["Exchange:Auth:DevIssuer:Enabled"] = null;
        var error = Assert.ThrowsAny<Exception>(() => api.CreateClient());
        Assert.Contains("No token issuer is trusted", error.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--org", "la:202")]
    [InlineData("--role", "virtual-school")]
    [InlineData("--org", "la:202", "--role", "head-teacher")]
    [InlineData("--org", "la:202", "--role", "virtual-school", "--minutes", "0")]
    public void TokenVerbRejectsIncompleteOrUnknownArguments(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        Assert.Equal(2, TokenCommand.Run(args, output, error));
        Assert.Empty(output.ToString());
        Assert.Contains("Usage: token", error.ToString(), StringComparison.Ordinal);
    }

    private static async Task<string> RunTokenVerbAsync(string dataDirectory, params string[] args)
    {
        var outcome = await ApiProcess.RunAsync(new Dictionary<string, string> { ["Exchange__DataDirectory"] = dataDirectory }, ["token", .. args]);
        Assert.True(outcome.ExitCode == 0, outcome.Error);
        var lines = outcome.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines); // the token and nothing else
        return lines[0].Trim();
    }
}
