using System.Net;
using System.Net.Http.Json;
using Exchange.Api.Auth;
using Exchange.Api.Policy;
using Exchange.Api.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Exchange.Api.Tests.Consents;

/// <summary>
/// A consent covers only the organisations it names as recipients. The engine never sees a recipient: the
/// decision point gives it only the consents naming the caller's organisation, so this is tested through the
/// stored records and the decision point (<see cref="AccessDecider"/>), not in the decision tables.
/// </summary>
public sealed class ConsentRecipientTests(ExchangeApiFactory api) : IClassFixture<ExchangeApiFactory>
{
    private static readonly Caller DesignatedTeacher = new("teacher-1", "school:100001", ["designated-teacher"], null);

    [Fact]
    public async Task AConsentNamingAnotherSchoolDoesNotOpenTheHealthSectionToThisOne()
    {
        var childId = await Problem.ChildIdAsync(await api.Council202.RegisterAsync(new { nhsNumber = TestIdentifiers.NewNhs() }), HttpStatusCode.Created);
        var enrolled = await api.Council202.PostAsJsonAsync("/v1/enrolments", new { childId, urn = "100001", startDate = "2025-09-01" });
        Assert.Equal(HttpStatusCode.Created, enrolled.StatusCode);

        // The consent names the other school, for the right category and purpose, valid today.
        Assert.Equal(HttpStatusCode.Created, (await api.Council202.PostAsJsonAsync($"/v1/children/{childId}/consents",
            new { givenBy = "young-person", categories = new[] { "pep" }, recipients = new[] { "school:100002" }, purposes = new[] { "pep-review" }, from = "2025-10-01" })).StatusCode);
        var decision = await DecideAsync(childId);
        Assert.True(decision.Permit);
        Assert.Contains("targets", decision.Fields);
        Assert.DoesNotContain("healthSection", decision.Fields);
        Assert.DoesNotContain("dt-pep-health-with-consent", decision.AppliedRules);

        // The same consent naming this school (among others) does open it.
        Assert.Equal(HttpStatusCode.Created, (await api.Council202.PostAsJsonAsync($"/v1/children/{childId}/consents",
            new { givenBy = "young-person", categories = new[] { "pep" }, recipients = new[] { "school:100002", "school:100001" }, purposes = new[] { "pep-review" }, from = "2025-10-01" })).StatusCode);
        decision = await DecideAsync(childId);
        Assert.Contains("healthSection", decision.Fields);
        Assert.Contains("dt-pep-health-with-consent", decision.AppliedRules);
    }

    private async Task<PolicyDecision> DecideAsync(string childId)
    {
        using var scope = api.Services.CreateScope();
        var decider = scope.ServiceProvider.GetRequiredService<AccessDecider>();
        return (await decider.DecideAsync(DesignatedTeacher, "read", "pep", "pep-review", childId, default)).Decision;
    }
}
