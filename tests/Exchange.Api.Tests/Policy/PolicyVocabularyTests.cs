using System.Net;
using Exchange.Api.Hosting;
using Exchange.Api.Policy;
using Exchange.Api.Tests.AuditReview;
using Exchange.Api.Tests.Infrastructure;

namespace Exchange.Api.Tests.Policy;

/// <summary>A copy of the shipped policy with one more purpose, declared in vocabulary.yaml only.</summary>
public sealed class ExtraPurposePolicyApiFactory : ExchangeApiFactory
{
    public const string ExtraPurpose = "court-report";

    public ExtraPurposePolicyApiFactory()
    {
        var directory = Path.Combine(DataDirectory, "policies");
        Directory.CreateDirectory(directory);
        foreach (var file in Directory.GetFiles(PolicyDecisionTableTests.PolicyDirectory, "*.yaml"))
        {
            File.Copy(file, Path.Combine(directory, Path.GetFileName(file)));
        }

        var vocabulary = Path.Combine(directory, "vocabulary.yaml");
        File.WriteAllText(vocabulary, File.ReadAllText(vocabulary).Replace("purposes:\n", $"purposes:\n  - id: {ExtraPurpose}\n", StringComparison.Ordinal));
        Settings["Exchange:Policy:Directory"] = directory;
    }
}

/// <summary>The loaded policy is the only source of purposes and roles; the code may name nothing the policy lacks.</summary>
public sealed class PolicyVocabularyTests(ExtraPurposePolicyApiFactory api) : IClassFixture<ExtraPurposePolicyApiFactory>
{
    private static List<(string Name, string Text)> Shipped() =>
        Directory.GetFiles(PolicyDecisionTableTests.PolicyDirectory, "*.yaml").Order(StringComparer.Ordinal)
            .Select(f => (Path.GetFileName(f), File.ReadAllText(f))).ToList();

    [Fact]
    public async Task APurposeAddedOnlyToThePolicyPassesTheHeaderCheckAndIsRecorded()
    {
        var client = api.WithToken(api.Issuer.Token("la:202", "virtual-school"), ExtraPurposePolicyApiFactory.ExtraPurpose);
        // No rule names the purpose: the policy refuses it (403), the header filter no longer does (400 purpose-of-use-unknown).
        await Problem.AssertAsync(await client.ResolveAsync(new { nhsNumber = TestIdentifiers.NewNhs() }), HttpStatusCode.Forbidden, "purpose-not-permitted");
        var events = await api.EventsAsync($"purpose={ExtraPurposePolicyApiFactory.ExtraPurpose}");
        Assert.Contains(events, e => e.GetProperty("action").GetString() == "identity.resolve" && e.GetProperty("purpose").GetString() == ExtraPurposePolicyApiFactory.ExtraPurpose);
    }

    [Fact]
    public async Task APurposeThePolicyLacksIsStillUnknown()
    {
        var client = api.WithToken(api.Issuer.Token("la:202", "virtual-school"), "marketing");
        await Problem.AssertAsync(await client.ResolveAsync(new { nhsNumber = TestIdentifiers.NewNhs() }), HttpStatusCode.BadRequest, "purpose-of-use-unknown");
    }

    [Fact]
    public void TheShippedPolicyDeclaresEverythingTheCodeNames() =>
        Assert.Empty(PolicyVocabularyCheck.Missing(PolicyLoader.Load(Shipped())));

    [Fact]
    public void ARoleTheCodeNamesButThePolicyLacksIsNamed()
    {
        // exchange-admin guards the administration endpoints; no rule names it, so the policy alone loads without it.
        var files = Shipped().Select(f => f.Name == "vocabulary.yaml"
            ? (f.Name, f.Text.Replace("  - id: exchange-admin\n", "  - id: exchange-operator\n", StringComparison.Ordinal))
            : f).ToList();
        var policy = PolicyLoader.Load(files);
        Assert.False(policy.Roles.ContainsKey("exchange-admin"));
        var error = Assert.Throws<PolicyException>(() => PolicyVocabularyCheck.Ensure(policy));
        Assert.Contains("role 'exchange-admin' (Roles.ExchangeAdmin)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheServiceDoesNotStartWhenThePolicyLacksARoleTheCodeNames()
    {
        var directory = Path.Combine(Path.GetTempPath(), "exchange-tests", "policy-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        try
        {
            foreach (var (name, text) in Shipped())
            {
                File.WriteAllText(Path.Combine(directory, name), name == "vocabulary.yaml"
                    ? text.Replace("  - id: exchange-admin\n", "  - id: exchange-operator\n", StringComparison.Ordinal) : text);
            }

            var other = new ExchangeApiFactory();
            try
            {
                other.Settings["Exchange:Policy:Directory"] = directory;
                var error = Assert.ThrowsAny<Exception>(() => other.CreateClient());
                Assert.Contains("role 'exchange-admin' (Roles.ExchangeAdmin)", error.ToString(), StringComparison.Ordinal);
            }
            finally
            {
                await ((IAsyncLifetime)other).DisposeAsync();
            }
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task ARoleIsHeldOnlyInTheKindsOfOrganisationThePolicyGivesIt()
    {
        // The policy gives lac-nurse to health bodies only: a council's token with it is refused.
        var client = api.WithToken(api.Issuer.Token("la:202", "lac-nurse"), "health-assessment");
        await Problem.AssertAsync(await client.ResolveAsync(new { nhsNumber = TestIdentifiers.NewNhs() }), HttpStatusCode.Forbidden, "role-not-for-organisation");
    }
}
