using System.Security.Cryptography;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;

namespace Exchange.Api.Tests.Infrastructure;

/// <summary>
/// An OpenID Connect issuer played by WireMock.Net: it serves a discovery document and a JWKS
/// with a real RSA key, and mints tokens signed by that key. The API under test trusts it only
/// through the discovery document, exactly as it would trust a production identity provider.
/// </summary>
public sealed class TestIssuer : IDisposable
{
    public const string Audience = "exchange";

    private readonly WireMockServer _server;
    private readonly RSA _rsa = RSA.Create(2048);
    private readonly RsaSecurityKey _key;

    public TestIssuer()
    {
        _server = WireMockServer.Start();
        _key = new RsaSecurityKey(_rsa) { KeyId = "test-key-1" };
        var jwk = JsonWebKeyConverter.ConvertFromRSASecurityKey(new RsaSecurityKey(_rsa.ExportParameters(false)) { KeyId = _key.KeyId });
        _server.Given(Request.Create().WithPath("/.well-known/openid-configuration").UsingGet())
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBodyAsJson(new Dictionary<string, object>
            {
                ["issuer"] = Authority,
                ["jwks_uri"] = Authority + "/jwks",
                ["id_token_signing_alg_values_supported"] = new[] { "RS256" },
            }));
        _server.Given(Request.Create().WithPath("/jwks").UsingGet())
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBodyAsJson(new Dictionary<string, object>
            {
                ["keys"] = new[]
                {
                    new Dictionary<string, string> { ["kty"] = "RSA", ["use"] = "sig", ["alg"] = "RS256", ["kid"] = jwk.Kid, ["n"] = jwk.N, ["e"] = jwk.E },
                },
            }));
    }

    public string Authority => _server.Url!;

    public string Token(string org, params string[] roles) => Mint(new TokenSpec(org, roles));

    public string Mint(TokenSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var now = DateTime.UtcNow;
        var claims = new Dictionary<string, object> { ["roles"] = spec.Roles, ["client_id"] = spec.ClientId ?? "client-" + (spec.Subject ?? spec.Org ?? "none") };
        if (spec.Org is not null)
        {
            claims["org"] = spec.Org;
        }

        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = spec.Issuer ?? Authority,
            Audience = spec.Audience ?? Audience,
            Subject = new System.Security.Claims.ClaimsIdentity([new System.Security.Claims.Claim("sub", spec.Subject ?? "user-" + (spec.Org ?? "none"))]),
            Claims = claims,
            IssuedAt = (spec.Expires ?? now.AddMinutes(10)).AddMinutes(-20),
            NotBefore = (spec.Expires ?? now.AddMinutes(10)).AddMinutes(-20),
            Expires = spec.Expires ?? now.AddMinutes(10),
            SigningCredentials = new SigningCredentials(spec.SigningKey ?? _key, spec.Algorithm ?? SecurityAlgorithms.RsaSha256),
        };
        return new JsonWebTokenHandler().CreateToken(descriptor);
    }

    public void Dispose()
    {
        _server.Stop();
        _server.Dispose();
        _rsa.Dispose();
    }
}

public sealed record TokenSpec(string? Org, string[] Roles, string? Audience = null, string? Issuer = null, DateTime? Expires = null, SecurityKey? SigningKey = null, string? Subject = null, string? Algorithm = null, string? ClientId = null);
