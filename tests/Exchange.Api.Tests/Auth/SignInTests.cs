using System.Net;
using System.Security.Cryptography;
using System.Text;
using Exchange.Api.Tests.Infrastructure;
using Microsoft.IdentityModel.Tokens;

namespace Exchange.Api.Tests.Auth;

public sealed class SignInTests(ExchangeApiFactory api) : IClassFixture<ExchangeApiFactory>
{
    private static readonly object Nhs = new { nhsNumber = "9990000018" };

    private Task<HttpResponseMessage> ResolveWith(string? token) => api.WithToken(token).ResolveAsync(Nhs);

    [Fact]
    public async Task RequestWithoutTokenIsRejected()
    {
        var response = await ResolveWith(null);
        await Problem.AssertAsync(response, HttpStatusCode.Unauthorized, "unauthenticated");
        Assert.Contains("Bearer", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ValidTokenFromTrustedIssuerIsAccepted()
    {
        var response = await ResolveWith(api.Issuer.Token("la:202", "virtual-school"));
        await Problem.AssertAsync(response, HttpStatusCode.NotFound, "child-not-found");
    }

    [Fact]
    public async Task ExpiredTokenIsRejected()
    {
        var token = api.Issuer.Mint(new TokenSpec("la:202", ["virtual-school"], Expires: DateTime.UtcNow.AddMinutes(-5)));
        await Problem.AssertAsync(await ResolveWith(token), HttpStatusCode.Unauthorized, "unauthenticated");
    }

    [Fact]
    public async Task TokenForAnotherAudienceIsRejected()
    {
        var token = api.Issuer.Mint(new TokenSpec("la:202", ["virtual-school"], Audience: "some-other-api"));
        await Problem.AssertAsync(await ResolveWith(token), HttpStatusCode.Unauthorized, "unauthenticated");
    }

    [Fact]
    public async Task TokenFromAnotherIssuerIsRejected()
    {
        var token = api.Issuer.Mint(new TokenSpec("la:202", ["virtual-school"], Issuer: "https://evil.example"));
        await Problem.AssertAsync(await ResolveWith(token), HttpStatusCode.Unauthorized, "unauthenticated");
    }

    [Fact]
    public async Task TokenSignedByAnUnpublishedKeyIsRejected()
    {
        using var rsa = RSA.Create(2048);
        var token = api.Issuer.Mint(new TokenSpec("la:202", ["virtual-school"], SigningKey: new RsaSecurityKey(rsa) { KeyId = "test-key-1" }));
        await Problem.AssertAsync(await ResolveWith(token), HttpStatusCode.Unauthorized, "unauthenticated");
    }

    [Fact]
    public async Task UnsignedTokenWithAlgNoneIsRejected()
    {
        static string B64(string json) => Base64UrlEncoder.Encode(Encoding.UTF8.GetBytes(json));
        var exp = DateTimeOffset.UtcNow.AddMinutes(10).ToUnixTimeSeconds();
        var token = B64("{\"alg\":\"none\",\"typ\":\"JWT\"}") + "." +
            B64($"{{\"iss\":\"{api.Issuer.Authority}\",\"aud\":\"exchange\",\"sub\":\"x\",\"org\":\"la:202\",\"roles\":[\"virtual-school\"],\"exp\":{exp}}}") + ".";
        await Problem.AssertAsync(await ResolveWith(token), HttpStatusCode.Unauthorized, "unauthenticated");
    }

    [Fact]
    public async Task TokenSignedWithSharedSecretIsRejected()
    {
        // HS256 with the public key id: the classic algorithm-confusion attack.
        var token = api.Issuer.Mint(new TokenSpec("la:202", ["virtual-school"],
            SigningKey: new SymmetricSecurityKey(RandomNumberGenerator.GetBytes(32)) { KeyId = "test-key-1" }, Algorithm: SecurityAlgorithms.HmacSha256));
        await Problem.AssertAsync(await ResolveWith(token), HttpStatusCode.Unauthorized, "unauthenticated");
    }

    [Fact]
    public async Task TokenOfUnknownOrganisationIsForbidden()
    {
        var response = await ResolveWith(api.Issuer.Token("la:999", "virtual-school"));
        await Problem.AssertAsync(response, HttpStatusCode.Forbidden, "organisation-not-active");
    }

    [Fact]
    public async Task TokenWithoutOrganisationIsForbidden()
    {
        var token = api.Issuer.Mint(new TokenSpec(null, ["virtual-school"]));
        await Problem.AssertAsync(await ResolveWith(token), HttpStatusCode.Forbidden, "organisation-not-active");
    }

    [Fact]
    public async Task TokenWithWrongRoleIsForbidden()
    {
        var response = await ResolveWith(api.Issuer.Token("la:202", "social-worker"));
        await Problem.AssertAsync(response, HttpStatusCode.Forbidden, "forbidden");
    }

    [Fact]
    public async Task SchoolCannotRegisterChildren()
    {
        var response = await api.School202.RegisterAsync(Nhs);
        await Problem.AssertAsync(response, HttpStatusCode.Forbidden, "forbidden");
    }

    [Fact]
    public async Task ExchangeAdminRoleOutsideTheOperatorIsForbidden()
    {
        var response = await api.ClientFor("la:202", "exchange-admin").GetAsync("/v1/organisations");
        await Problem.AssertAsync(response, HttpStatusCode.Forbidden, "role-not-for-organisation");
    }

    [Theory]
    [InlineData("school:100001", "virtual-school")] // a school acting as a virtual school
    [InlineData("operator:exchange", "school-mis")] // the operator reading children through a school role
    [InlineData("health:ZZ901", "school-mis")]
    [InlineData("la:202", "lac-nurse")]
    [InlineData("la:202", "designated-teacher")]
    public async Task RoleOutsideItsKindOfOrganisationIsForbidden(string org, string role)
    {
        var response = await ResolveWith(api.Issuer.Token(org, role));
        await Problem.AssertAsync(response, HttpStatusCode.Forbidden, "role-not-for-organisation");
    }

    [Fact]
    public async Task UnknownRoleBesideAValidOneIsForbidden()
    {
        var response = await ResolveWith(api.Issuer.Token("la:202", "virtual-school", "head-teacher"));
        await Problem.AssertAsync(response, HttpStatusCode.Forbidden, "role-not-for-organisation");
    }

    [Fact]
    public async Task TokenWithoutSubjectIsForbidden()
    {
        var token = api.Issuer.Mint(new TokenSpec("la:202", ["virtual-school"], Subject: ""));
        await Problem.AssertAsync(await ResolveWith(token), HttpStatusCode.Forbidden, "token-claims-invalid");
    }

    [Fact]
    public async Task SocialWorkerCannotReadTheChildRecordYet()
    {
        var id = await Problem.ChildIdAsync(await api.Council202.RegisterAsync(new { nhsNumber = "9990000174" }), HttpStatusCode.Created);
        var response = await api.ClientFor("la:202", "social-worker").GetAsync($"/v1/children/{id}");
        await Problem.AssertAsync(response, HttpStatusCode.Forbidden, "forbidden");
    }

    [Fact]
    public async Task AdminCannotResolveChildren()
    {
        var response = await api.Admin.ResolveAsync(Nhs);
        await Problem.AssertAsync(response, HttpStatusCode.Forbidden, "forbidden");
    }

    [Fact]
    public async Task DeactivatedOrganisationsTokensAreRefusedAtOnce()
    {
        var school = api.ClientFor("school:100002", "school-mis");
        Assert.Equal(HttpStatusCode.NotFound, (await school.ResolveAsync(Nhs)).StatusCode);

        var deactivate = await api.Admin.PostAsync("/v1/organisations/school:100002/deactivate", null);
        Assert.Equal(HttpStatusCode.OK, deactivate.StatusCode);

        await Problem.AssertAsync(await school.ResolveAsync(Nhs), HttpStatusCode.Forbidden, "organisation-not-active");
    }
}
