using System.Net;
using System.Net.Http.Json;
using Exchange.Api.Tests.Infrastructure;

namespace Exchange.Api.Tests.Auth;

public sealed class PurposeOfUseTests(ExchangeApiFactory api) : IClassFixture<ExchangeApiFactory>
{
    private HttpClient Client(string? purpose) => api.WithToken(api.Issuer.Token("la:202", "virtual-school"), purpose);

    [Fact]
    public async Task RequestTouchingAChildWithoutPurposeIsRejected()
    {
        var response = await Client(null).ResolveAsync(new { nhsNumber = "9990000018" });
        await Problem.AssertAsync(response, HttpStatusCode.BadRequest, "purpose-of-use-missing");
    }

    [Theory]
    [InlineData("marketing")]
    [InlineData("PEP-REVIEW")]
    [InlineData("pep-review, safeguarding")]
    public async Task UnknownPurposeIsRejected(string purpose)
    {
        var response = await Client(purpose).ResolveAsync(new { nhsNumber = "9990000018" });
        await Problem.AssertAsync(response, HttpStatusCode.BadRequest, "purpose-of-use-unknown");
    }

    [Fact]
    public async Task RegistrationWithoutPurposeIsRejectedAndStoresNothing()
    {
        var response = await Client(null).RegisterAsync(new { nhsNumber = "9990000026" });
        await Problem.AssertAsync(response, HttpStatusCode.BadRequest, "purpose-of-use-missing");
        await Problem.AssertAsync(await Client("pep-review").ResolveAsync(new { nhsNumber = "9990000026" }), HttpStatusCode.NotFound, "child-not-found");
    }

    /// <summary>Every known purpose passes the header check; whether it suits the operation is then the policy's decision.</summary>
    [Theory]
    [InlineData("attendance-monitoring", HttpStatusCode.NotFound, "child-not-found")]
    [InlineData("pep-review", HttpStatusCode.NotFound, "child-not-found")]
    [InlineData("health-assessment", HttpStatusCode.NotFound, "child-not-found")]
    [InlineData("safeguarding", HttpStatusCode.NotFound, "child-not-found")]
    [InlineData("subject-access", HttpStatusCode.Forbidden, "purpose-not-permitted")]
    [InlineData("audit-review", HttpStatusCode.Forbidden, "purpose-not-permitted")]
    public async Task EachKnownPurposeIsAccepted(string purpose, HttpStatusCode status, string code)
    {
        var response = await Client(purpose).PostAsJsonAsync("/v1/identities/resolve", new { identifiers = new { nhsNumber = "9990000034" } });
        await Problem.AssertAsync(response, status, code);
    }
}
