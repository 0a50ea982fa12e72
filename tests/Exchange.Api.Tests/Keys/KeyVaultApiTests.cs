using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Azure.Core;
using Exchange.Api.Tests.Infrastructure;
using Exchange.Crypto.KeyVault;
using Exchange.Crypto.Tests.KeyVault;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;

namespace Exchange.Api.Tests.Keys;

/// <summary>
/// The service with its KEK in Azure Key Vault, played by WireMock over TLS with a real RSA key and
/// a real Azure.Identity credential. The unwrapped-key cache is off (TTL 0) so every request that
/// needs a key goes to the vault.
/// </summary>
public sealed class KeyVaultApiTests(KeyVaultApiTests.VaultFactory api) : IClassFixture<KeyVaultApiTests.VaultFactory>
{
    public sealed class VaultFactory : ExchangeApiFactory
    {
        public const string BlindIndexSecretName = "exchange-blind-index";
        public const string BlindIndexSecretVersion = "5d1e0c7b9a8f4e3d2c1b0a9f8e7d6c5b";

        public const string AuditSigningSecretName = "exchange-audit-signing";
        public const string AuditSigningSecretVersion = "9a8b7c6d5e4f30211203f4e5d6c7b8a9";

        public VaultFactory()
        {
            Vault.ServeKeyOperations();
            ServeSecret(BlindIndexSecretName, BlindIndexSecretVersion, Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)));
            // The checkpoint signing key: base64 of the signer key string, as the README tells operators to store it.
            using (var signer = Exchange.Audit.Checkpoints.NoteSigner.Generate("exchange.local/audit"))
            {
                AuditVerifierKey = signer.VerifierKey;
                ServeSecret(AuditSigningSecretName, AuditSigningSecretVersion, Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(signer.ExportSignerKey())));
            }

            ServeSecretChallenge();
            Settings["Exchange:Audit:SigningKey:Source"] = "KeyVault";
            Settings["Exchange:Audit:SigningKey:SecretName"] = AuditSigningSecretName;
            Settings["Exchange:Audit:SigningKey:SecretVersion"] = AuditSigningSecretVersion;
            Settings["Exchange:Keys:BlindIndex:Source"] = "KeyVault";
            Settings["Exchange:Keys:BlindIndex:SecretName"] = BlindIndexSecretName;
            Settings["Exchange:Keys:BlindIndex:Versions:0"] = BlindIndexSecretVersion;
            Settings["Exchange:Keys:Provider"] = "AzureKeyVault";
            Settings["Exchange:Keys:KeyVault:VaultUri"] = Vault.Url.ToString();
            Settings["Exchange:Keys:KeyVault:KeyName"] = KeyVaultStub.KeyName;
            Settings["Exchange:Keys:KeyVault:KeyVersion"] = KeyVaultStub.KeyVersion;
            Settings["Exchange:Keys:CacheTimeToLiveSeconds"] = "0";
            Settings["Exchange:Keys:HealthProbeCacheSeconds"] = "0";
        }

        public KeyVaultStub Vault { get; } = new();

        /// <summary>The verifier key of the signing key served from the vault.</summary>
        public string AuditVerifierKey { get; }

        /// <summary>A Key Vault secret, behind Key Vault's bearer challenge as SecretClient expects.</summary>
        private void ServeSecret(string name, string version, string value)
        {
            var body = JsonSerializer.Serialize(new
            {
                value,
                id = $"{Vault.Authority}/secrets/{name}/{version}",
                attributes = new { enabled = true },
            });
            Vault.Server.Given(WireMock.RequestBuilders.Request.Create()
                    .WithPath($"/secrets/{name}/{version}").UsingGet()
                    .WithHeader("Authorization", "Bearer " + Vault.AccessToken))
                .AtPriority(1)
                .RespondWith(KeyVaultStub.Json(200).WithBody(body));
        }

        private void ServeSecretChallenge()
        {
            Vault.Server.Given(WireMock.RequestBuilders.Request.Create().WithPath(new WireMock.Matchers.WildcardMatcher("/secrets/*")).UsingGet())
                .AtPriority(10)
                .RespondWith(KeyVaultStub.KeyVaultError(401, "Unauthorized").WithHeader(
                    "WWW-Authenticate",
                    $"Bearer authorization=\"{Vault.AuthorityHost.GetLeftPart(UriPartial.Authority)}/{KeyVaultStub.TenantId}\", resource=\"https://localhost\""));
        }

        protected override void ConfigureTestServices(IServiceCollection services)
        {
            services.AddSingleton<TokenCredential>(Vault.CreateCredential());
            services.AddSingleton<AzureKeyVaultClientOptions>(Vault.CreateClientOptions());
        }

        protected override void Dispose(bool disposing)
        {
            base.Dispose(disposing);
            if (disposing)
            {
                Vault.Dispose();
            }
        }
    }

    [Fact]
    public async Task AuditCheckpointsAreSignedWithTheKeyFromTheVault()
    {
        var dpo = api.DpoOf();
        Assert.Equal(api.AuditVerifierKey, (await dpo.GetStringAsync("/v1/audit/verifier-key")).Trim());
        var verified = Exchange.Audit.Checkpoints.CheckpointVerifier.Parse(api.AuditVerifierKey).Verify(await dpo.GetStringAsync("/v1/audit/checkpoint"));
        Assert.True(verified.IsValid, verified.ToString());
        Assert.False(File.Exists(Path.Combine(api.DataDirectory, "audit-signing.key")), "no signing key on the data disk");
    }

    [Fact]
    public async Task DataKeysAreWrappedByTheVaultKeyAndTheServiceWorksThroughIt()
    {
        var id = await Problem.ChildIdAsync(await api.Council202.RegisterAsync(new { nhsNumber = "9990000182" }), HttpStatusCode.Created);
        Assert.Equal(id, await Problem.ChildIdAsync(await api.Council202.RegisterAsync(new { nhsNumber = "9990000182", upn = "B801200005001" }), HttpStatusCode.OK));

        using (var connection = new SqliteConnection($"Data Source={api.SqliteFile};Mode=ReadOnly;Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT KekKeyId, Algorithm FROM data_keys WHERE OwnerId = $id";
            command.Parameters.AddWithValue("$id", id);
            using var reader = command.ExecuteReader();
            Assert.True(reader.Read());
            Assert.Equal(api.Vault.KeyId, reader.GetString(0));
            Assert.Equal("RSA-OAEP-256", reader.GetString(1));
        }

        // Identifiers are indexed with the Key Vault secret's version (recorded with its fingerprint).
        using (var connection = new SqliteConnection($"Data Source={api.SqliteFile};Mode=ReadOnly;Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT DISTINCT IndexKeyVersion FROM child_identifiers UNION ALL SELECT Name FROM key_checks";
            using var reader = command.ExecuteReader();
            var values = new List<string>();
            while (reader.Read())
            {
                values.Add(reader.GetString(0));
            }

            Assert.Equal([VaultFactory.BlindIndexSecretVersion, "blind-index:" + VaultFactory.BlindIndexSecretVersion], values);
        }

        Assert.False(File.Exists(Path.Combine(api.DataDirectory, "blind-index.key")), "no local blind-index secret is made");

        Assert.Contains(api.Vault.VaultRequests, r => r.RequestMessage.Path.EndsWith("/unwrapkey", StringComparison.Ordinal)
            && r.RequestMessage.Headers!["Authorization"].Single() == "Bearer " + api.Vault.AccessToken);
        var keys = await api.Admin.GetFromJsonAsync<JsonElement>("/v1/admin/keys");
        Assert.Equal("AzureKeyVault", keys.GetProperty("provider").GetString());
        Assert.True(keys.GetProperty("productionGrade").GetBoolean());
        await Problem.AssertAsync(await api.Admin.PostAsync("/v1/admin/keys/kek-versions", null), HttpStatusCode.Conflict, "kek-managed-externally");
        Assert.Equal(HttpStatusCode.OK, (await api.CreateClient().GetAsync("/health/ready")).StatusCode);
    }

    [Fact]
    public async Task VaultOutageGives503ChangesNothingAndShowsInReadiness()
    {
        var id = await Problem.ChildIdAsync(await api.Council202.RegisterAsync(new { nhsNumber = "9990000190" }), HttpStatusCode.Created);

        var outage = Guid.NewGuid();
        api.Vault.Server.Given(WireMock.RequestBuilders.Request.Create().WithPath(p => p.StartsWith("/keys/", StringComparison.Ordinal)))
            .WithGuid(outage).AtPriority(-10) // lower wins; the stub's own mappings have the default 0
            .RespondWith(KeyVaultStub.KeyVaultError(503, "ServiceUnavailable"));
        try
        {
            // Linking a UPN needs the child's key, which is not cached: refused, nothing linked.
            var refused = await api.Council202.RegisterAsync(new { nhsNumber = "9990000190", upn = "H209123425001" });
            await Problem.AssertAsync(refused, HttpStatusCode.ServiceUnavailable, "key-provider-unavailable");
            var ready = await api.CreateClient().GetAsync("/health/ready");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
            Assert.Equal("Unhealthy", await ready.Content.ReadAsStringAsync());
        }
        finally
        {
            api.Vault.Server.DeleteMapping(outage);
        }

        await Problem.AssertAsync(await api.Council209.ResolveAsync(new { upn = "H209123425001" }), HttpStatusCode.NotFound, "child-not-found");
        Assert.Equal(id, await Problem.ChildIdAsync(await api.Council202.RegisterAsync(new { nhsNumber = "9990000190", upn = "H209123425001" }), HttpStatusCode.OK));
        Assert.Equal(HttpStatusCode.OK, (await api.CreateClient().GetAsync("/health/ready")).StatusCode);
    }
}
