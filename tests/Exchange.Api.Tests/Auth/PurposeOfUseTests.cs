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

    [Theory]
    [InlineData("attendance-monitoring")]
    [InlineData("pep-review")]
    [InlineData("health-assessment")]
    [InlineData("safeguarding")]
    [InlineData("subject-access")]
    [InlineData("audit-review")]
    public async Task EachKnownPurposeIsAccepted(string purpose)
    {
        var response = await Client(purpose).PostAsJsonAsync("/v1/identities/resolve", new { identifiers = new { nhsNumber = "9990000034" } });
        await Problem.AssertAsync(response, HttpStatusCode.NotFound, "child-not-found");
    }
}
