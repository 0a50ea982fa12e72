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
    public void OnlyARuleThatNeedsABreakGlassGrantIsABreakGlassRule()
    {
        Assert.True(Engine.IsBreakGlassRule("safeguarding-break-glass"));
        Assert.False(Engine.IsBreakGlassRule("vs-responsible-education"));
        Assert.False(Engine.IsBreakGlassRule("break-glass-request")); // opens a grant, needs none
        Assert.False(Engine.IsBreakGlassRule("no-such-rule"));
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
    public void NoRequestIsNoDecision() =>
        Assert.Throws<ArgumentNullException>(() => Engine.Decide(null!));
}
