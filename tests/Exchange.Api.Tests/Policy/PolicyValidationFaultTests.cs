using Exchange.Api.Policy;

namespace Exchange.Api.Tests.Policy;

/// <summary>
/// More faults a policy file can have, each refused with the file, the line and a message that says what is
/// wrong (a policy the loader half-understood could widen access). Found by mutation testing: with any of these
/// checks removed, every other test still passed.
/// </summary>
public sealed class PolicyValidationFaultTests
{
    private static List<(string Name, string Text)> Shipped() =>
        Directory.GetFiles(PolicyDecisionTableTests.PolicyDirectory, "*.yaml").Order(StringComparer.Ordinal)
            .Select(f => (Path.GetFileName(f), File.ReadAllText(f))).ToList();

    private static PolicyException Refused(IReadOnlyList<(string Name, string Text)> files) =>
        Assert.Throws<PolicyException>(() => PolicyLoader.Load(files));

    private static PolicyException RefusedWith(string file, string from, string to)
    {
        var files = Shipped().Select(f => f.Name == file ? (f.Name, f.Text.Replace(from, to, StringComparison.Ordinal)) : f).ToList();
        Assert.NotEqual(Shipped(), files); // the change really changed something
        return Refused(files);
    }

    [Theory]
    [InlineData("categories.yaml", "fields: [childId, urn, responsibleLa]", "fields: [childId, urn, urn]", "category 'placement-notice' lists a field twice.")]
    [InlineData("rules.yaml", "    purposes: [audit-review]", "    purposes: []", "'purposes' must be a non-empty list.")]
    [InlineData("rules.yaml", "    purposes: [audit-review]", "    purposes: audit-review", "'purposes' must be a non-empty list.")]
    [InlineData("rules.yaml", "    purposes: [audit-review]", "    purposes: [[audit-review]]", "'purposes' must list plain values.")]
    [InlineData("rules.yaml", "    relationship: host-council", "    relationship: [host-council]", "'relationship' must be a single value.")]
    [InlineData("rules.yaml", "      requires: consent", "      requires: a-signature", "unknown requirement 'a-signature' (only 'consent').")]
    [InlineData("rules.yaml", "    conditions:\n      requires: consent", "    conditions: consent", "'conditions' must be a mapping.")]
    [InlineData("rules.yaml", "      breakGlass: true", "      breakGlass: yes-please", "'breakGlass' must be true or false, not 'yes-please'.")]
    [InlineData("vocabulary.yaml", "  - id: safeguarding\n", "  - id: safeguarding\n  - id: safeguarding\n", "duplicate purpose id 'safeguarding'.")]
    [InlineData("vocabulary.yaml", "\npurposes:\n", "\n? [purposes]\n:\n", "a section's name must be plain text")]
    [InlineData("vocabulary.yaml", "  - id: host-council\n", "  - id: enrolled-school\n", "duplicate relationship id 'enrolled-school'.")]
    [InlineData("agreements.yaml", "    categories: [health-assessment, pep]", "    categories: [health-assessment, medical-records]", "unknown category 'medical-records'")]
    [InlineData("agreements.yaml", "    purposes: [health-assessment, pep-review]", "    purposes: [health-assessment, curiosity]", "unknown purpose 'curiosity'")]
    public void AFaultIsRefusedWithItsFileLineAndAMessageThatSaysWhatIsWrong(string file, string from, string to, string expected)
    {
        var error = RefusedWith(file, from, to);
        Assert.Equal(file, error.File);
        Assert.True(error.Line > 1);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.Equal($"Policy error in {file}, line {error.Line}: {error.Problem}", error.Message);
    }

    [Theory]
    [InlineData("    lawfulBasis: \"UK GDPR Art. 5(2) accountability", "a rule needs 'lawfulBasis'.")]
    [InlineData("    relationship: host-council\n", "a rule needs 'relationship'.")]
    public void AMissingKeyIsNamedAtTheLineOfItsRule(string line, string expected)
    {
        var rules = Shipped().Single(f => f.Name == "rules.yaml").Text;
        var start = rules.IndexOf(line, StringComparison.Ordinal);
        Assert.True(start >= 0, "anchor not found in rules.yaml");
        var end = rules.IndexOf('\n', start) + 1;
        var ruleLine = rules[..start].Split('\n').Select((l, i) => (l, i)).Last(x => x.l.StartsWith("  - id: ", StringComparison.Ordinal)).i + 1;
        var error = Refused(Shipped().Select(f => f.Name == "rules.yaml" ? (f.Name, rules[..start] + rules[end..]) : f).ToList());
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.Equal(ruleLine, error.Line);
    }

    [Fact]
    public void AnAgreementWithoutARetentionPeriodIsRefused()
    {
        var error = RefusedWith("agreements.yaml", "    retention: P25Y\n  - id: health", "  - id: health");
        Assert.Contains("needs 'retention'", error.Message, StringComparison.Ordinal);
        Assert.Equal("agreements.yaml", error.File);
    }

    [Theory]
    [InlineData("colours:\n  - id: red\n", 1, "unknown section 'colours' (expected one of: roles, purposes, relationships, categories, rules, agreements).")]
    [InlineData("purposes: everything\n", 1, "'purposes' must be a list.")]
    [InlineData("purposes:\n  - curiosity\n", 2, "each entry of 'purposes' must be a mapping with an id.")]
    [InlineData("- roles\n- rules\n", 1, "the document must be a mapping of sections (roles, purposes, relationships, categories, rules, agreements).")]
    [InlineData("purposes:\n  - id: curiosity\n    colour: red\n", 3, "unknown key 'colour' in a purpose (expected: id, description).")]
    public void AnExtraFileWithAFaultIsRefused(string text, int line, string expected)
    {
        var error = Refused([.. Shipped(), ("zz-extra.yaml", text)]);
        Assert.Equal("zz-extra.yaml", error.File);
        Assert.Equal(line, error.Line);
        Assert.Equal(expected, error.Problem);
    }

    [Fact]
    public void APolicyWithoutRulesIsRefusedRatherThanDenyingEverything()
    {
        var error = Refused(Shipped().Where(f => f.Name != "rules.yaml").ToList());
        Assert.Equal("The policy has no rules: everything would be denied.", error.Message);
    }

    [Fact]
    public void AMissingOrEmptyPolicyDirectoryIsRefused()
    {
        var missing = Path.Combine(Path.GetTempPath(), "exchange-no-policy-" + Guid.NewGuid().ToString("N"));
        Assert.Contains("does not exist", Assert.Throws<PolicyException>(() => PolicyLoader.LoadDirectory(missing)).Message, StringComparison.Ordinal);
        Directory.CreateDirectory(missing);
        try
        {
            Assert.Contains("holds no .yaml files", Assert.Throws<PolicyException>(() => PolicyLoader.LoadDirectory(missing)).Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(missing);
        }
    }

    [Fact]
    public void ThePolicyHashIsTheSameWhateverTheFileOrderOrLineEndings()
    {
        var shipped = Shipped();
        var hash = PolicyLoader.Load(shipped).Hash;
        Assert.Equal(hash, PolicyLoader.Load(shipped.AsEnumerable().Reverse().ToList()).Hash);
        Assert.Equal(hash, PolicyLoader.Load(shipped.Select(f => (f.Name, f.Text.ReplaceLineEndings("\r\n"))).ToList()).Hash);
        // The file name is part of it: the same text under another name is another policy.
        Assert.NotEqual(hash, PolicyLoader.Load(shipped.Select(f => f.Name == "agreements.yaml" ? ("agreements2.yaml", f.Text) : f).ToList()).Hash);
    }

    [Fact]
    public void TheConditionsSayWhatTheRulesSay()
    {
        var rules = PolicyLoader.Load(Shipped()).Rules.ToDictionary(r => r.Id);
        Assert.Equal(new PolicyConditions(RequiresConsent: true), rules["dt-pep-health-with-consent"].Conditions);
        Assert.Equal(new PolicyConditions(), rules["vs-responsible-education"].Conditions);
        Assert.Equal(new PolicyConditions(NotRestricted: false, BreakGlass: true), rules["safeguarding-break-glass"].Conditions);
        Assert.Equal(new PolicyConditions(WithinDates: false), rules["council-care-record"].Conditions);
        Assert.True(rules["vs-responsible-education"].AllFields);
        Assert.False(rules["dt-current-pep"].AllFields);
        Assert.Equal(["operator"], rules["operator-dpo-erasure"].Organisations);
        Assert.Empty(rules["vs-responsible-education"].Organisations);
    }
}
