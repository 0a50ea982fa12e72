using System.Security.Cryptography;
using Exchange.Crypto;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Exchange.Api.Auth;

/// <summary>
/// The local development issuer of the embedded default: an ECDSA P-256 key generated into the
/// data directory on first use. It signs demo tokens (the <c>token</c> verb) and, when enabled,
/// the service trusts it. Never enabled in production unless explicitly configured.
/// </summary>
public sealed class DevIssuer
{
    public const string Issuer = "urn:exchange:dev-issuer";
    public const string KeyFileName = "dev-issuer-signing-key";

    private readonly ECDsaSecurityKey _key;

    private DevIssuer(ECDsaSecurityKey key) => _key = key;

    public SecurityKey SigningKey => _key;

    public static DevIssuer LoadOrCreate(string dataDirectory)
    {
        var path = Path.Combine(dataDirectory, KeyFileName);
        // The PKCS#8 key is written through the same owner-only, create-once path as every local key.
        var der = LocalKeyFile.LoadOrCreateWith(path, () => ECDsa.Create(ECCurve.NamedCurves.nistP256).ExportPkcs8PrivateKey());
        var ecdsa = ECDsa.Create();
        ecdsa.ImportPkcs8PrivateKey(der, out _);
        var keyId = Base64UrlEncoder.Encode(SHA256.HashData(ecdsa.ExportSubjectPublicKeyInfo()))[..16];
        return new DevIssuer(new ECDsaSecurityKey(ecdsa) { KeyId = keyId });
    }

    public string Mint(string audience, string subject, string organisation, IEnumerable<string> roles, string clientId, TimeSpan lifetime, DateTimeOffset now)
    {
        var claims = new Dictionary<string, object>
        {
            [ClaimNames.Subject] = subject,
            [ClaimNames.Organisation] = organisation,
            [ClaimNames.Roles] = roles.ToArray(),
            [ClaimNames.ClientId] = clientId,
        };
        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = Issuer,
            Audience = audience,
            Claims = claims,
            IssuedAt = now.UtcDateTime,
            NotBefore = now.UtcDateTime,
            Expires = (now + lifetime).UtcDateTime,
            SigningCredentials = new SigningCredentials(_key, SecurityAlgorithms.EcdsaSha256),
        };
        return new JsonWebTokenHandler().CreateToken(descriptor);
    }

}
