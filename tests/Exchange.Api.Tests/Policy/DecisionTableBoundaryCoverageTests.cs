using System.Globalization;
using Exchange.Api.Policy;
using YamlDotNet.RepresentationModel;

namespace Exchange.Api.Tests.Policy;

/// <summary>
/// The decision tables must test the edges of every dated fact, not only a day well inside or well outside it:
/// an off-by-one on an end date (a last day refused, or a day after allowed) passes every other case. For each
/// relationship a dated rule needs, and for consent, this checks the tables hold a case on the first day, the
/// day before, the last day and the day after; for consent also one given for another purpose and for another
/// category. A new relationship or consent rule without those cases fails here.
/// </summary>
public sealed class DecisionTableBoundaryCoverageTests
{
    private sealed record TableCase(string Name, DateOnly On, YamlMappingNode Request, YamlMappingNode Expect)
    {
        public bool Permits => Text(Expect, "decision") == "permit";

        public bool DeniedOutsideDates => Text(Expect, "reason") == nameof(DenyReason.OutsideRelationshipDates);

        public IEnumerable<string> AppliedRules => (List(Expect, "alsoApplies") ?? []).Append(Text(Expect, "rule") ?? "");

        public IEnumerable<YamlMappingNode> Facts(string key) =>
            Request.Children.TryGetValue(new YamlScalarNode(key), out var v) ? ((YamlSequenceNode)v).Cast<YamlMappingNode>() : [];
    }

    [Fact]
    public void EveryDatedRelationshipIsTestedOnItsFirstAndLastDayAndTheDaysOutside()
    {
        var policy = PolicyLoader.LoadDirectory(PolicyDecisionTableTests.PolicyDirectory);
        var cases = LoadCases();
        var dated = policy.Rules.Where(r => r.Relationship != PolicyRule.NoRelationship && r.Conditions.WithinDates)
            .Select(r => r.Relationship).Distinct().ToList();
        Assert.NotEmpty(dated);
        var missing = new List<string>();
        foreach (var kind in dated)
        {
            // The dated rules for this relationship: a permit case counts only if one of them decides or applies.
            var rules = policy.Rules.Where(r => r.Relationship == kind && r.Conditions.WithinDates).Select(r => r.Id).ToHashSet();
            bool Has(Func<TableCase, bool> outcome, Func<YamlMappingNode, DateOnly, bool> onTheEdge) =>
                cases.Any(c => outcome(c) && c.Facts("relationships").Any(f => Text(f, "kind") == kind && onTheEdge(f, c.On)));
            bool PermitsByDatedRule(TableCase c) => c.Permits && c.AppliedRules.Any(rules.Contains);

            if (!Has(PermitsByDatedRule, (f, on) => Date(f, "start") == on)) missing.Add($"{kind}: permit on its first day");
            if (!Has(c => c.DeniedOutsideDates, (f, on) => Date(f, "start") == on.AddDays(1))) missing.Add($"{kind}: deny on the day before");
            if (!Has(PermitsByDatedRule, (f, on) => Date(f, "end") == on)) missing.Add($"{kind}: permit on its last day");
            if (!Has(c => c.DeniedOutsideDates, (f, on) => Date(f, "end") == on.AddDays(-1))) missing.Add($"{kind}: deny on the day after");
        }

        Assert.True(missing.Count == 0, "decision tables lack boundary cases: " + string.Join("; ", missing));
    }

    [Fact]
    public void ConsentIsTestedOnItsEdgesAndForAnotherPurposeAndCategory()
    {
        var policy = PolicyLoader.LoadDirectory(PolicyDecisionTableTests.PolicyDirectory);
        var consentRules = policy.Rules.Where(r => r.Conditions.RequiresConsent).Select(r => r.Id).ToHashSet();
        Assert.NotEmpty(consentRules);
        var cases = LoadCases();

        // A case "with consent" asks for what a consent rule covers; it applies or it does not.
        bool Applies(TableCase c) => c.Permits && c.AppliedRules.Any(consentRules.Contains);
        bool DoesNotApply(TableCase c) => c.Permits && !c.AppliedRules.Any(consentRules.Contains)
            && (List(c.Expect, "fieldsExclude") ?? []).Count > 0;
        bool Has(Func<TableCase, bool> outcome, Func<YamlMappingNode, TableCase, bool> consent) =>
            cases.Any(c => outcome(c) && c.Facts("consents").Any() && c.Facts("consents").All(f => consent(f, c)));

        var missing = new List<string>();
        if (!Has(Applies, (f, c) => Date(f, "from") == c.On)) missing.Add("applies on its first day");
        if (!Has(DoesNotApply, (f, c) => Date(f, "from") == c.On.AddDays(1))) missing.Add("does not apply the day before");
        if (!Has(Applies, (f, c) => Date(f, "until") == c.On)) missing.Add("applies on its last day");
        if (!Has(DoesNotApply, (f, c) => Date(f, "until") == c.On.AddDays(-1))) missing.Add("does not apply the day after");
        if (!Has(DoesNotApply, (f, c) => Text(f, "category") == Text(c.Request, "category") && Text(f, "purpose") != Text(c.Request, "purpose")))
        {
            missing.Add("does not apply for another purpose");
        }

        if (!Has(DoesNotApply, (f, c) => Text(f, "purpose") == Text(c.Request, "purpose") && Text(f, "category") != Text(c.Request, "category")))
        {
            missing.Add("does not apply for another category");
        }

        Assert.True(missing.Count == 0, "decision tables lack consent cases: " + string.Join("; ", missing));
    }

    private static List<TableCase> LoadCases()
    {
        var result = new List<TableCase>();
        foreach (var path in Directory.GetFiles(Path.Combine(PolicyDecisionTableTests.PolicyDirectory, "tests"), "*.yaml"))
        {
            var stream = new YamlStream();
            stream.Load(new StringReader(File.ReadAllText(path)));
            var root = (YamlMappingNode)stream.Documents[0].RootNode;
            var defaults = root.Children.TryGetValue(new YamlScalarNode("defaults"), out var d) ? (YamlMappingNode)d : new YamlMappingNode();
            var defaultOn = Date(defaults, "on") ?? new DateOnly(2026, 1, 15);
            foreach (var item in ((YamlSequenceNode)root.Children[new YamlScalarNode("cases")]).Cast<YamlMappingNode>())
            {
                var request = (YamlMappingNode)item.Children[new YamlScalarNode("request")];
                result.Add(new TableCase(Text(item, "name")!, Date(request, "on") ?? defaultOn, request, (YamlMappingNode)item.Children[new YamlScalarNode("expect")]));
            }
        }

        return result;
    }

    private static string? Text(YamlMappingNode map, string key) =>
        map.Children.TryGetValue(new YamlScalarNode(key), out var v) ? ((YamlScalarNode)v).Value : null;

    private static DateOnly? Date(YamlMappingNode map, string key) =>
        Text(map, key) is { } t ? DateOnly.Parse(t, CultureInfo.InvariantCulture) : null;

    private static List<string>? List(YamlMappingNode map, string key) =>
        map.Children.TryGetValue(new YamlScalarNode(key), out var v) ? ((YamlSequenceNode)v).Select(i => ((YamlScalarNode)i).Value!).ToList() : null;
}
