using Exchange.Api.Policy;

namespace Exchange.Api.Tests.Policy;

/// <summary>
/// What the decision tables cannot say: the engine's answers about its rules, and the parts of a decision the
/// audit log relies on (which rules applied, whether the access needs a break-glass flag).
/// </summary>
public sealed class PolicyEngineTests
{
    private static readonly PolicyEngine Engine = new(PolicyLoader.LoadDirectory(PolicyDecisionTableTests.PolicyDirectory));
    private static readonly DateOnly Day = new(2026, 1, 15);

    [Fact]
    public void OnlyAnAccessThatABreakGlassRuleAloneLetsThroughIsFlagged()
    {
        var related = Engine.Decide(new PolicyRequest(["social-worker"], "read", "exclusions", "safeguarding", Day,
            [new RelationshipFact("responsible-council", new DateOnly(2025, 9, 1))], [], BreakGlass: true));
        var unrelated = Engine.Decide(new PolicyRequest(["social-worker"], "read", "exclusions", "safeguarding", Day, [], [], BreakGlass: true));
        Assert.False(related.OnlyBreakGlass);
        Assert.True(unrelated.OnlyBreakGlass);
        Assert.Equal(["responsible-council"], related.Relationships);
    }

    [Fact]
    public void ChildrenWhoseFactsDecideAlikeShareOneDecisionAndOthersDoNot()
    {
        // The engine remembers an outcome by which rules applied: two children with the same relationship (on other
        // dates) get the same decision; one outside its dates is denied, not given the other's permit (the furthest a
        // candidate got is the break-glass rule's: it needs no relationship, only a grant).
        PolicyDecision Decide(DateOnly start, DateOnly? end) => Engine.Decide(new PolicyRequest(["social-worker"], "read", "exclusions", "safeguarding",
            Day, [new RelationshipFact("responsible-council", start, end)], []));
        var first = Decide(new DateOnly(2025, 9, 1), null);
        var second = Decide(new DateOnly(2024, 1, 1), new DateOnly(2026, 6, 30));
        var ended = Decide(new DateOnly(2024, 1, 1), new DateOnly(2025, 6, 30));
        Assert.True(first.Permit);
        Assert.Same(first, second);
        Assert.False(ended.Permit);
        Assert.Equal(DenyReason.BreakGlassRequired, ended.Reason);
    }

    [Fact]
    public void ARelatedCallerWithAGrantIsDecidedByItsOwnRuleAloneSoTheAccessIsNotFlagged()
    {
        var decision = Engine.Decide(new PolicyRequest(["social-worker"], "read", "exclusions", "safeguarding", Day,
            [new RelationshipFact("responsible-council", new DateOnly(2025, 9, 1))], [], BreakGlass: true));
        Assert.True(decision.Permit);
        Assert.Equal(["sw-responsible-summary"], decision.AppliedRules);
        Assert.DoesNotContain("reasonText", decision.Fields);
    }

    [Fact]
    public void AnUnrelatedCallerWithAGrantIsDecidedByTheBreakGlassRuleAlone()
    {
        var decision = Engine.Decide(new PolicyRequest(["social-worker"], "read", "exclusions", "safeguarding", Day, [], [], BreakGlass: true));
        Assert.True(decision.Permit);
        Assert.Equal(["safeguarding-break-glass"], decision.AppliedRules);
        Assert.Contains("reasonText", decision.Fields);
    }

    [Fact]
    public void APermitNamesTheDecidingRulesLawfulBasisAndThePolicyVersion()
    {
        var decision = Engine.Decide(new PolicyRequest(["virtual-school"], "read", "pep", "pep-review", Day,
            [new RelationshipFact("responsible-council", new DateOnly(2025, 9, 1))], []));
        var rule = Engine.Policy.Rules.Single(r => r.Id == "vs-responsible-education");
        Assert.Equal(rule.LawfulBasis, decision.LawfulBasis);
        Assert.Equal(Engine.Policy.Hash, decision.PolicyHash);
        Assert.Equal("permit", decision.DecisionText);
        Assert.Equal(DenyReason.None, decision.Reason);
    }

    [Fact]
    public void ADenialHasNoLawfulBasisNoRulesAndNoFields()
    {
        var decision = Engine.Decide(new PolicyRequest(["virtual-school"], "read", "pep", "pep-review", Day, [], []));
        Assert.Equal("deny", decision.DecisionText);
        Assert.Null(decision.LawfulBasis);
        Assert.Empty(decision.AppliedRules);
        Assert.Empty(decision.Fields);
        Assert.Equal(Engine.Policy.Hash, decision.PolicyHash);
    }

    [Fact]
    public void ARoleNameHoldingALineBreakIsNotTakenForTheRolesItsPartsName()
    {
        // A fresh engine, so the answers it remembers are only those of this test.
        var engine = new PolicyEngine(PolicyLoader.LoadDirectory(PolicyDecisionTableTests.PolicyDirectory));
        IReadOnlyList<RelationshipFact> responsible = [new RelationshipFact("responsible-council", new DateOnly(2025, 9, 1))];
        PolicyDecision Decide(params string[] roles) =>
            engine.Decide(new PolicyRequest(roles, "read", "pep", "pep-review", Day, responsible, []));

        // Two real roles, then one bogus role spelt as their names joined by a line break.
        Assert.True(Decide("virtual-school", "social-worker").Permit);
        var bogus = Decide("virtual-school\nsocial-worker");
        Assert.False(bogus.Permit);
        Assert.Equal(DenyReason.NoRule, bogus.Reason);

        // A real role with a bogus one, then bogus roles whose names joined the same way give the same text.
        Assert.True(Decide("virtual-school", "social-worker\nx").Permit);
        var joinedAlike = Decide("virtual-school\nsocial-worker", "x");
        Assert.False(joinedAlike.Permit);
        Assert.Equal(DenyReason.NoRule, joinedAlike.Reason);
        Assert.Empty(joinedAlike.Fields);
    }

    [Fact]
    public void NoRequestIsNoDecision() =>
        Assert.Throws<ArgumentNullException>(() => Engine.Decide(null!));
}
