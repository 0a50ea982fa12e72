using System.Globalization;
using Exchange.Api.Policy;
using YamlDotNet.RepresentationModel;

namespace Exchange.Api.Tests.Policy;

/// <summary>Runs every case in <c>policies/tests/*.yaml</c> against the shipped policy (like OPA's policy tests).</summary>
public sealed class PolicyDecisionTableTests
{
    private static readonly Lazy<PolicyEngine> Engine = new(() => new PolicyEngine(PolicyLoader.LoadDirectory(PolicyDirectory)));

    public static string PolicyDirectory => Path.Combine(RepoRoot(), "policies");

    public sealed record Case(string File, string Name, YamlMappingNode Request, YamlMappingNode Expect, DateOnly DefaultOn)
    {
        public override string ToString() => $"{File}: {Name}";
    }

    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (var c in LoadCases())
        {
            data.Add(c.File, c.Name);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void TheDecisionIsTheOneTheTableExpects(string file, string name)
    {
        var c = LoadCases().Single(x => x.File == file && x.Name == name);
        var decision = Engine.Value.Decide(ToRequest(c));
        var expect = c.Expect;
        Assert.Equal(Text(expect, "decision"), decision.DecisionText);
        if (Text(expect, "rule") is { } rule)
        {
            Assert.Equal(rule, decision.Rule);
        }

        foreach (var also in List(expect, "alsoApplies") ?? [])
        {
            Assert.Contains(also, decision.AppliedRules);
        }

        if (Text(expect, "reason") is { } reason)
        {
            Assert.Equal(Enum.Parse<DenyReason>(reason), decision.Reason);
        }

        if (List(expect, "fields") is { } fields)
        {
            Assert.Equal(fields.Order(StringComparer.Ordinal), decision.Fields.Order(StringComparer.Ordinal));
        }

        foreach (var field in List(expect, "fieldsInclude") ?? [])
        {
            Assert.Contains(field, decision.Fields);
        }

        foreach (var field in List(expect, "fieldsExclude") ?? [])
        {
            Assert.DoesNotContain(field, decision.Fields);
        }

        if (!decision.Permit)
        {
            Assert.Empty(decision.Fields);
            Assert.Equal(PolicyDecision.DefaultDeny, decision.Rule);
        }
    }

    [Fact]
    public void TheTablesCoverEveryRuleAndEveryRoleBothWays()
    {
        var cases = LoadCases().ToList();
        var policy = Engine.Value.Policy;
        var permittedBy = cases.Where(c => Text(c.Expect, "decision") == "permit")
            .SelectMany(c => (List(c.Expect, "alsoApplies") ?? []).Append(Text(c.Expect, "rule"))).ToHashSet();
        var uncovered = policy.Rules.Select(r => r.Id).Except(permittedBy.OfType<string>()).ToList();
        Assert.True(uncovered.Count == 0, "rules with no permit case: " + string.Join(", ", uncovered));

        var rolesWithRules = policy.Rules.SelectMany(r => r.Roles).ToHashSet();
        foreach (var role in policy.Roles.Keys)
        {
            var forRole = cases.Where(c => List(c.Request, "roles")!.Contains(role)).ToList();
            Assert.True(forRole.Any(c => Text(c.Expect, "decision") == "deny"), $"no deny case for {role}");
            if (rolesWithRules.Contains(role))
            {
                Assert.True(forRole.Any(c => Text(c.Expect, "decision") == "permit"), $"no permit case for {role}");
            }
        }

        // Each relationship before, during and after its dates; consent, restriction and break-glass both ways.
        foreach (var relationship in policy.Relationships)
        {
            var withIt = cases.Where(c => c.Request.Children.TryGetValue(new YamlScalarNode("relationships"), out var r)
                && ((YamlSequenceNode)r).Any(f => Text((YamlMappingNode)f, "kind") == relationship)).ToList();
            Assert.True(withIt.Any(c => Text(c.Expect, "decision") == "permit"), $"{relationship}: no case during");
            Assert.True(withIt.Any(c => Text(c.Expect, "reason") == nameof(DenyReason.OutsideRelationshipDates)), $"{relationship}: no case outside its dates");
        }

        Assert.Contains(cases, c => Text(c.Expect, "reason") == nameof(DenyReason.Restricted));
        Assert.Contains(cases, c => Text(c.Expect, "reason") == nameof(DenyReason.BreakGlassRequired));
        Assert.Contains(cases, c => (List(c.Expect, "fieldsExclude") ?? []).Contains("healthSection") && c.Request.Children.ContainsKey(new YamlScalarNode("consents")));
    }

    private static PolicyRequest ToRequest(Case c)
    {
        var r = c.Request;
        var on = Text(r, "on") is { } day ? DateOnly.Parse(day, CultureInfo.InvariantCulture) : c.DefaultOn;
        return new PolicyRequest(
            List(r, "roles")!,
            Text(r, "action")!,
            Text(r, "category")!,
            Text(r, "purpose")!,
            on,
            Maps(r, "relationships").Select(f => new RelationshipFact(Text(f, "kind")!, Date(f, "start")!.Value, Date(f, "end"))).ToList(),
            Maps(r, "consents").Select(f => new ConsentFact(Text(f, "category")!, Text(f, "purpose")!, Date(f, "from")!.Value, Date(f, "until"))).ToList(),
            Text(r, "restricted") == "true",
            List(r, "restrictionAllows"),
            Text(r, "breakGlass") == "true")
        {
            OrganisationKind = Text(r, "organisation"),
        };
    }

    private static IEnumerable<Case> LoadCases()
    {
        foreach (var path in Directory.GetFiles(Path.Combine(PolicyDirectory, "tests"), "*.yaml").Order(StringComparer.Ordinal))
        {
            var stream = new YamlStream();
            stream.Load(new StringReader(File.ReadAllText(path)));
            var root = (YamlMappingNode)stream.Documents[0].RootNode;
            var defaults = root.Children.TryGetValue(new YamlScalarNode("defaults"), out var d) ? (YamlMappingNode)d : new YamlMappingNode();
            var defaultOn = DateOnly.Parse(Text(defaults, "on") ?? "2026-01-15", CultureInfo.InvariantCulture);
            foreach (var item in (YamlSequenceNode)root.Children[new YamlScalarNode("cases")])
            {
                var map = (YamlMappingNode)item;
                yield return new Case(Path.GetFileName(path), Text(map, "name")!, (YamlMappingNode)map.Children[new YamlScalarNode("request")],
                    (YamlMappingNode)map.Children[new YamlScalarNode("expect")], defaultOn);
            }
        }
    }

    private static string? Text(YamlMappingNode map, string key) =>
        map.Children.TryGetValue(new YamlScalarNode(key), out var v) ? ((YamlScalarNode)v).Value : null;

    private static DateOnly? Date(YamlMappingNode map, string key) =>
        Text(map, key) is { } t ? DateOnly.Parse(t, CultureInfo.InvariantCulture) : null;

    private static List<string>? List(YamlMappingNode map, string key) =>
        map.Children.TryGetValue(new YamlScalarNode(key), out var v) ? ((YamlSequenceNode)v).Select(i => ((YamlScalarNode)i).Value!).ToList() : null;

    private static IEnumerable<YamlMappingNode> Maps(YamlMappingNode map, string key) =>
        map.Children.TryGetValue(new YamlScalarNode(key), out var v) ? ((YamlSequenceNode)v).Cast<YamlMappingNode>() : [];

    private static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Exchange.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("Exchange.sln not found above the test binaries.");
    }
}
