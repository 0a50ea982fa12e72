using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Azure.Core;
using Azure.Core.Pipeline;
using Exchange.Crypto.KeyVault;
using WireMock;
using WireMock.Logging;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;
using WireMock.Settings;
using Request = WireMock.RequestBuilders.Request;
using Response = WireMock.ResponseBuilders.Response;

namespace Exchange.Crypto.Tests.KeyVault;

/// <summary>
/// WireMock.Net over TLS playing both Azure AD (the token endpoint a real ClientSecretCredential
/// talks to) and Key Vault, with a real RSA-2048 key behind wrapkey/unwrapkey. Only the transport
/// built here trusts the stub's self-signed certificate, pinned by thumbprint.
/// </summary>
public sealed class KeyVaultStub : IDisposable
{
    public const string TenantId = "8f5c2a1e-3b7d-4c9a-9e21-6d0f4b8a7c35";
    public const string ClientId = "2b1e7c4d-5a6f-4e3b-8c9d-0a1b2c3d4e5f";
    public const string ClientSecret = "test-client-secret";
    public const string KeyName = "exchange-kek";
    public const string KeyVersion = "0f3c6b8e2d9a4c71b5e8a3d2c1f0e9b7";

    private static readonly Lazy<X509Certificate2> Certificate = new(CreateTlsCertificate);

    private readonly SocketsHttpHandler _handler;

    public KeyVaultStub()
    {
        Server = WireMockServer.Start(new WireMockServerSettings
        {
            UseSSL = true,
            CertificateSettings = new WireMockCertificateSettings { X509Certificate = Certificate.Value },
        });
        var port = new Uri(Server.Url!).Port;
        Url = new Uri($"https://{VaultHost}:{port}/");
        AuthorityHost = new Uri($"https://localhost:{port}/");
        var thumbprint = Certificate.Value.Thumbprint;
        _handler = new SocketsHttpHandler
        {
            // Only this transport trusts the stub: its certificate is pinned by thumbprint, and the
            // host name must still match (the chain is self-signed, so that error alone is expected).
            SslOptions =
            {
                RemoteCertificateValidationCallback = (_, cert, _, errors) =>
                    cert is X509Certificate2 presented && presented.Thumbprint == thumbprint
                    && (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) == SslPolicyErrors.None,
            },
            // Key Vault's SecretClient only accepts a challenge whose resource is a parent domain of the
            // vault host (vault.azure.net for x.vault.azure.net), so the stub vault is vault.localhost;
            // names under .localhost are loopback (RFC 6761), which this resolver makes true here.
            ConnectCallback = async (context, cancellationToken) =>
            {
                var endpoint = context.DnsEndPoint.Host.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase)
                    ? new DnsEndPoint("localhost", context.DnsEndPoint.Port)
                    : context.DnsEndPoint;
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    await socket.ConnectAsync(endpoint, cancellationToken);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        Transport = new HttpClientTransport(_handler);
        ServeTokenEndpoint();
    }

    public WireMockServer Server { get; }

    public const string VaultHost = "vault.localhost";

    /// <summary>The stub vault's address, for example https://vault.localhost:51234/.</summary>
    public Uri Url { get; }

    /// <summary>The stub identity provider's address, for example https://localhost:51234/.</summary>
    public Uri AuthorityHost { get; }

    public HttpPipelineTransport Transport { get; }

    /// <summary>A real RSA-2048 key: the stub vault's KEK.</summary>
    public RSA Rsa { get; } = RSA.Create(2048);

    /// <summary>Issued by the token endpoint; unique per stub so a test can look for it.</summary>
    public string AccessToken { get; } = "eyJ0eXAiOiJKV1QifQ.stub-access-token-" + Guid.NewGuid().ToString("N");

    /// <summary>Algorithms the vault stub received in wrapkey/unwrapkey bodies.</summary>
    public ConcurrentQueue<string> ReceivedAlgorithms { get; } = new();

    public string Authority => Url.GetLeftPart(UriPartial.Authority);

    public string KeyId => $"{Authority}/keys/{KeyName}/{KeyVersion}";

    public string KeyPath(string operation) => $"/keys/{KeyName}/{KeyVersion}/{operation}";

    public IReadOnlyList<ILogEntry> VaultRequests =>
        Server.LogEntries.Where(e => e.RequestMessage.Path.StartsWith("/keys/", StringComparison.Ordinal)
                                  || e.RequestMessage.Path.StartsWith("/secrets/", StringComparison.Ordinal)).ToList();

    public IReadOnlyList<ILogEntry> TokenRequests =>
        Server.LogEntries.Where(e => e.RequestMessage.Path.EndsWith("/oauth2/v2.0/token", StringComparison.Ordinal)).ToList();

    /// <summary>
    /// A real Azure.Identity <c>ClientSecretCredential</c> (MSAL underneath) whose authority host is
    /// the stub, so its token comes from the stub's token endpoint over the pinned TLS transport.
    /// </summary>
    public TokenCredential CreateCredential(Uri? authorityHost = null)
    {
        // Azure.Core 1.54 carries the Azure.Identity credentials (the separate Azure.Identity package is not referenced).
        var options = new Azure.Identity.ClientSecretCredentialOptions
        {
            AuthorityHost = authorityHost ?? AuthorityHost,
            DisableInstanceDiscovery = true,
            Transport = Transport,
        };
        options.Retry.Delay = TimeSpan.FromMilliseconds(1);
        options.Retry.MaxDelay = TimeSpan.FromMilliseconds(10);
        options.Retry.MaxRetries = 1;
        return new Azure.Identity.ClientSecretCredential(TenantId, ClientId, ClientSecret, options);
    }

    /// <summary>Tiny retry delays so failure cases stay fast; Retry-After still wins when the vault sends it.</summary>
    public AzureKeyVaultClientOptions CreateClientOptions()
    {
        var options = new AzureKeyVaultClientOptions { Transport = Transport };
        options.Retry.MaxRetries = 2;
        options.Retry.Delay = TimeSpan.FromMilliseconds(1);
        options.Retry.MaxDelay = TimeSpan.FromMilliseconds(10);
        options.Retry.NetworkTimeout = TimeSpan.FromSeconds(5);
        return options;
    }

    public AzureKeyVaultKeyProvider CreateProvider(string? keyVersion = KeyVersion, Uri? vaultUri = null, Uri? authorityHost = null) =>
        new(
            new AzureKeyVaultOptions { VaultUri = vaultUri ?? Url, KeyName = KeyName, KeyVersion = keyVersion },
            CreateCredential(authorityHost),
            CreateClientOptions());

    /// <summary>wrapkey encrypts with the public key (RSA-OAEP-SHA256); unwrapkey decrypts with the private key.</summary>
    public void ServeKeyOperations()
    {
        Server.Given(Request.Create().WithPath(KeyPath("wrapkey")).UsingPost()).RespondWith(WrapResponse());
        Server.Given(Request.Create().WithPath(KeyPath("unwrapkey")).UsingPost()).RespondWith(UnwrapResponse());
    }

    public IResponseBuilder WrapResponse() =>
        Json(200).WithBody(request => Transform(request, data => Rsa.Encrypt(data, RSAEncryptionPadding.OaepSHA256)));

    public IResponseBuilder UnwrapResponse() =>
        Json(200).WithBody(request => Transform(request, data => Rsa.Decrypt(data, RSAEncryptionPadding.OaepSHA256)));

    public string Transform(IRequestMessage request, Func<byte[], byte[]> rsa)
    {
        using var body = JsonDocument.Parse(request.Body!);
        ReceivedAlgorithms.Enqueue(body.RootElement.GetProperty("alg").GetString()!);
        var input = Base64Url.DecodeFromChars(body.RootElement.GetProperty("value").GetString());
        return JsonSerializer.Serialize(new { kid = KeyId, value = Base64Url.EncodeToString(rsa(input)) });
    }

    public static IResponseBuilder Json(int status) =>
        Response.Create().WithStatusCode(status).WithHeader("Content-Type", "application/json; charset=utf-8");

    public static IResponseBuilder KeyVaultError(int status, string code) =>
        Json(status).WithBody(JsonSerializer.Serialize(new { error = new { code, message = "stub error" } }));

    /// <summary>A localhost port with nothing listening on it.</summary>
    public static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    public void Dispose()
    {
        Server.Stop();
        Server.Dispose();
        _handler.Dispose();
        Rsa.Dispose();
    }

    /// <summary>
    /// With instance discovery disabled, MSAL asks the identity provider for nothing but the token:
    /// no discovery document, no instance metadata (the tests check that no request went unmatched).
    /// </summary>
    private void ServeTokenEndpoint()
    {
        Server.Given(Request.Create().WithPath($"/{TenantId}/oauth2/v2.0/token").UsingPost())
            .RespondWith(Json(200).WithBody(_ => JsonSerializer.Serialize(new
            {
                token_type = "Bearer",
                expires_in = 3600,
                ext_expires_in = 3600,
                access_token = AccessToken,
            })));
    }

    private static X509Certificate2 CreateTlsCertificate()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddDnsName(VaultHost);
        names.AddIpAddress(IPAddress.Loopback);
        names.AddIpAddress(IPAddress.IPv6Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        var now = DateTimeOffset.UtcNow;
        using var certificate = request.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(1));
        // Round-trip through PKCS#12 so Kestrel gets a certificate with a usable private key on every OS.
        return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), password: null);
    }
}
