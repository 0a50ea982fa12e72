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
    [InlineData("vocabulary.yaml", "\npurposes:\n", "\n? [purposes]\n:\n", "a section's name must be plain text (roles, purposes, relationships, categories, rules, agreements).")]
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
    [InlineData("rules.yaml", "    lawfulBasis: \"UK GDPR Art. 5(2) accountability", "a rule needs 'lawfulBasis'.")]
    [InlineData("rules.yaml", "    relationship: host-council\n", "a rule needs 'relationship'.")]
    [InlineData("rules.yaml", "    roles: [virtual-school]\n", "a rule needs 'roles'.")]
    [InlineData("rules.yaml", "    fields: [healthSection]\n", "a rule needs 'fields'.")]
    [InlineData("vocabulary.yaml", "    organisations: [health]\n", "a role needs 'organisations'.")]
    [InlineData("categories.yaml", "    fields: [childId, erasedAt]\n", "a category needs 'fields'.")]
    [InlineData("agreements.yaml", "    parties: [council, health]\n", "an agreement needs 'parties'.")]
    [InlineData("agreements.yaml", "    lawfulBasis: \"UK GDPR Art. 6(1)(e), Art. 9(2)(h)\"\n", "an agreement needs 'lawfulBasis'.")]
    public void AMissingKeyIsNamedAtTheLineOfItsEntry(string file, string line, string expected)
    {
        var text = Shipped().Single(f => f.Name == file).Text;
        var start = text.IndexOf(line, StringComparison.Ordinal);
        Assert.True(start >= 0, $"anchor not found in {file}");
        var end = text.IndexOf('\n', start) + 1;
        var entryLine = text[..start].Split('\n').Select((l, i) => (l, i)).Last(x => x.l.StartsWith("  - id: ", StringComparison.Ordinal)).i + 1;
        var error = Refused(Shipped().Select(f => f.Name == file ? (f.Name, text[..start] + text[end..]) : f).ToList());
        Assert.Equal(file, error.File);
        Assert.Equal(expected, error.Problem);
        Assert.Equal(entryLine, error.Line);
    }

    /// <summary>
    /// The fault is named at the line of the key at fault (not only its entry's), with the whole message: a policy
    /// author reads both. <paramref name="linesIntoChange"/> counts lines from the start of the change to that key.
    /// </summary>
    [Theory]
    [InlineData("vocabulary.yaml", "    organisations: [health]", "    organisations: [health, hospital]", 0, "unknown organisation kind 'hospital' (council, school, health, operator).")]
    [InlineData("vocabulary.yaml", "  - id: dpo\n", "  - id: social-worker\n", 0, "duplicate role id 'social-worker'.")]
    [InlineData("vocabulary.yaml", "  - id: audit-review\n", "  - description: no id\n", 0, "a purpose needs 'id'.")]
    [InlineData("vocabulary.yaml", "  - id: safeguarding\n", "  - id: safeguarding\n  - description: declared again\n    id: safeguarding\n", 2, "duplicate purpose id 'safeguarding'.")]
    [InlineData("categories.yaml", "fields: [childId, urn, responsibleLa]", "fields: [childId, urn, urn]", 0, "category 'placement-notice' lists a field twice.")]
    [InlineData("rules.yaml", "    relationship: host-council", "    relationship: foster-council", 0,
        "unknown relationship 'foster-council' (declared: enrolled-school, health-responsibility, host-council, responsible-council, roll-check-match, or 'none').")]
    [InlineData("rules.yaml", "    fields: [healthSection]", "    fields: [healthSection, shoeSize]", 0, "unknown field 'shoeSize': not a field of pep.")]
    [InlineData("rules.yaml", "    fields: [childId, possibleSessions, attendedSessions, authorisedAbsence, unauthorisedAbsence, attendanceRate, persistentAbsence",
        "    fields: [childId, shoeSize, possibleSessions, attendedSessions, authorisedAbsence, unauthorisedAbsence, attendanceRate, persistentAbsence", 0,
        "unknown field 'shoeSize': not a field of attendance-summary, exclusions, pep, notification.")]
    [InlineData("rules.yaml", "    conditions:\n      requires: consent", "    conditions: consent", 0, "'conditions' must be a mapping.")]
    [InlineData("rules.yaml", "      requires: consent", "      notRestricted: true\n      requires: a-signature", 1, "unknown requirement 'a-signature' (only 'consent').")]
    [InlineData("rules.yaml", "      requires: consent", "      requires: consent\n      colour: red", 1,
        "unknown key 'colour' in a rule's conditions (expected: requires, notRestricted, withinDates, breakGlass).")]
    [InlineData("agreements.yaml", "  - id: health-of-looked-after-children", "  - id: education-of-looked-after-children", 0, "duplicate agreement id 'education-of-looked-after-children'.")]
    [InlineData("agreements.yaml", "    purposes: [health-assessment, pep-review]", "    purposes: [health-assessment, curiosity]", 0,
        "unknown purpose 'curiosity' (declared: attendance-monitoring, audit-review, health-assessment, pep-review, safeguarding, subject-access).")]
    [InlineData("agreements.yaml", "    lawfulBasis: \"UK GDPR Art. 6(1)(e), Art. 9(2)(h)\"", "    lawfulBasis: \"\"", 0, "'lawfulBasis' must be a single value.")]
    public void AFaultIsNamedAtTheLineOfTheKeyAtFault(string file, string from, string to, int linesIntoChange, string expected)
    {
        var text = Shipped().Single(f => f.Name == file).Text;
        var start = text.IndexOf(from, StringComparison.Ordinal);
        Assert.True(start >= 0, $"anchor not found in {file}");
        var error = RefusedWith(file, from, to);
        Assert.Equal(file, error.File);
        Assert.Equal(expected, error.Problem);
        Assert.Equal(text[..start].Count(c => c == '\n') + 1 + linesIntoChange, error.Line);
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
    public void NoFilesIsNotAnEmptyPolicy() =>
        Assert.Throws<ArgumentNullException>(() => PolicyLoader.Load(null!));

    [Fact]
    public void ADescriptionIsAllowedOnACategoryAndAnAgreement()
    {
        var files = Shipped().Select(f => f.Name switch
        {
            "categories.yaml" => (f.Name, f.Text.Replace("  - id: erasure\n", "  - id: erasure\n    description: When a child's record was crypto-shredded.\n", StringComparison.Ordinal)),
            "agreements.yaml" => (f.Name, f.Text.Replace("  - id: health-of-looked-after-children\n", "  - id: health-of-looked-after-children\n    description: Councils and health bodies.\n", StringComparison.Ordinal)),
            _ => f,
        }).ToList();
        Assert.NotEqual(Shipped(), files);
        var policy = PolicyLoader.Load(files);
        Assert.Equal(["childId", "erasedAt"], policy.Categories["erasure"].Fields);
        Assert.Contains(policy.Agreements, a => a.Id == "health-of-looked-after-children");
    }

    [Fact]
    public void TheFilesOfADirectoryAreReadInNameOrderSoALaterFileIsTheOneNamedForADuplicate()
    {
        var directory = Path.Combine(Path.GetTempPath(), "exchange-policy-order-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        try
        {
            foreach (var (name, text) in Shipped())
            {
                File.WriteAllText(Path.Combine(directory, name), text);
            }

            File.WriteAllText(Path.Combine(directory, "zz-extra.yaml"), "purposes:\n  - id: safeguarding\n");
            var error = Assert.Throws<PolicyException>(() => PolicyLoader.LoadDirectory(directory));
            Assert.Equal("zz-extra.yaml", error.File);
            Assert.Equal("duplicate purpose id 'safeguarding'.", error.Problem);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void TwoPoliciesThatDifferOnlyByALineBreakHaveDifferentHashes()
    {
        // With the line break the purpose is declared; without it, it is part of the comment.
        var declared = PolicyLoader.Load([.. Shipped(), ("zz-extra.yaml", "# an extra purpose\npurposes: [{id: curiosity}]\n")]);
        var commented = PolicyLoader.Load([.. Shipped(), ("zz-extra.yaml", "# an extra purposepurposes: [{id: curiosity}]\n")]);
        Assert.Contains("curiosity", declared.Purposes);
        Assert.DoesNotContain("curiosity", commented.Purposes);
        Assert.NotEqual(declared.Hash, commented.Hash);
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
