using Exchange.Api.Policy;
using Exchange.Api.Tests.Infrastructure;

namespace Exchange.Api.Tests.Policy;

/// <summary>A faulty policy stops the service with a message naming the file, the line and the problem.</summary>
public sealed class PolicyValidationTests
{
    private static List<(string Name, string Text)> Shipped() =>
        Directory.GetFiles(PolicyDecisionTableTests.PolicyDirectory, "*.yaml").Order(StringComparer.Ordinal)
            .Select(f => (Path.GetFileName(f), File.ReadAllText(f))).ToList();

    private static PolicyException LoadWith(string file, Func<string, string> change)
    {
        var files = Shipped().Select(f => f.Name == file ? (f.Name, change(f.Text)) : f).ToList();
        Assert.NotEqual(Shipped(), files); // the change really changed something
        return Assert.Throws<PolicyException>(() => PolicyLoader.Load(files));
    }

    private static int LineOf(string file, string text, string needle) =>
        Shipped().Single(f => f.Name == file).Text.Split('\n').TakeWhile(l => !l.Contains(needle, StringComparison.Ordinal)).Count() + 1;

    [Fact]
    public void TheShippedPolicyLoadsAndHasAStableHash()
    {
        var a = PolicyLoader.Load(Shipped());
        var b = PolicyLoader.Load(Shipped());
        Assert.Equal(a.Hash, b.Hash);
        Assert.Matches("^sha256:[0-9a-f]{64}$", a.Hash);
        Assert.NotEqual(a.Hash, PolicyLoader.Load(Shipped().Select(f => (f.Name, f.Text + "\n# changed\n")).ToList()).Hash);
    }

    [Fact]
    public void AnUnknownRoleInARuleIsNamedWithItsLine()
    {
        var error = LoadWith("rules.yaml", t => t.Replace("roles: [social-worker]", "roles: [head-teacher]", StringComparison.Ordinal));
        Assert.Equal("rules.yaml", error.File);
        Assert.Equal(LineOf("rules.yaml", "", "roles: [social-worker]"), error.Line);
        Assert.Contains("unknown role 'head-teacher'", error.Message, StringComparison.Ordinal);
        Assert.StartsWith("Policy error in rules.yaml, line ", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AnUnknownFieldIsNamed()
    {
        var error = LoadWith("rules.yaml", t => t.Replace("fields: [childId, healthSection, reviewDue]", "fields: [childId, healthSection, homeAddress]", StringComparison.Ordinal));
        Assert.Contains("unknown field 'homeAddress'", error.Message, StringComparison.Ordinal);
        Assert.Equal(LineOf("rules.yaml", "", "fields: [childId, healthSection, reviewDue]"), error.Line);
    }

    [Fact]
    public void ADuplicateRuleIdIsNamed()
    {
        var error = LoadWith("rules.yaml", t => t.Replace("- id: health-pep-section", "- id: health-assessments", StringComparison.Ordinal));
        Assert.Contains("duplicate rule id 'health-assessments'", error.Message, StringComparison.Ordinal);
        Assert.Equal(LineOf("rules.yaml", "", "- id: health-pep-section"), error.Line);
    }

    [Fact]
    public void BadYamlIsNamedWithItsLine()
    {
        var error = LoadWith("categories.yaml", t => t.Replace("  - id: pep\n", "  - id: pep\n   fields: [oops\n", StringComparison.Ordinal));
        Assert.Equal("categories.yaml", error.File);
        Assert.Contains("not valid YAML", error.Message, StringComparison.Ordinal);
        Assert.True(error.Line > 1);
    }

    [Theory]
    [InlineData("rules.yaml", "      requires: consent", "      requries: consent", "unknown key 'requries'")]
    [InlineData("rules.yaml", "    relationship: host-council", "    relationship: neighbour-council", "unknown relationship 'neighbour-council'")]
    [InlineData("rules.yaml", "    actions: [read]\n    categories: [placement-notice, notification]", "    actions: [delete]\n    categories: [placement-notice, notification]", "unknown action 'delete'")]
    [InlineData("rules.yaml", "    categories: [health-assessment]\n    purposes: [health-assessment, safeguarding]", "    categories: [medical-records]\n    purposes: [health-assessment, safeguarding]", "unknown category 'medical-records'")]
    [InlineData("rules.yaml", "    purposes: [audit-review]", "    purposes: [curiosity]", "unknown purpose 'curiosity'")]
    [InlineData("rules.yaml", "      breakGlass: true", "      breakGlass: maybe", "must be true or false")]
    [InlineData("vocabulary.yaml", "    organisations: [health]", "    organisations: [pharmacy]", "unknown organisation kind 'pharmacy'")]
    [InlineData("rules.yaml", "    organisations: [operator]", "    organisations: [ministry]", "unknown organisation kind 'ministry'")]
    [InlineData("agreements.yaml", "    retention: P25Y\n  - id: health", "    retentoin: P25Y\n  - id: health", "unknown key 'retentoin'")]
    public void EachFaultIsRefusedWithAClearMessage(string file, string from, string to, string expected)
    {
        var error = LoadWith(file, t => t.Replace(from, to, StringComparison.Ordinal));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.Equal(file, error.File);
    }

    [Fact]
    public async Task TheServiceDoesNotStartOnAFaultyPolicy()
    {
        var directory = Path.Combine(Path.GetTempPath(), "exchange-policy-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        try
        {
            foreach (var (name, text) in Shipped())
            {
                File.WriteAllText(Path.Combine(directory, name), name == "rules.yaml" ? text.Replace("roles: [lac-nurse]", "roles: [school-nurse]", StringComparison.Ordinal) : text);
            }

            var api = new ExchangeApiFactory();
            try
            {
                api.Settings["Exchange:Policy:Directory"] = directory;
                var error = Assert.ThrowsAny<Exception>(() => api.CreateClient());
                Assert.Contains("Policy error in rules.yaml, line ", error.ToString(), StringComparison.Ordinal);
                Assert.Contains("unknown role 'school-nurse'", error.ToString(), StringComparison.Ordinal);
            }
            finally
            {
                await ((IAsyncLifetime)api).DisposeAsync();
            }
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
