using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Exchange.Api.Policy;
using Exchange.Api.Tests.AuditReview;
using Exchange.Api.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Exchange.Api.Tests.Consents;

/// <summary>Consents recorded and withdrawn by the responsible council, and their effect on the next decision.</summary>
public abstract class ConsentTestsBase<TFactory>(TFactory api) where TFactory : ExchangeApiFactory
{
    private static readonly object PepConsent = new { givenBy = "young-person", categories = new[] { "pep" }, recipients = new[] { "school:100001" }, purposes = new[] { "pep-review" }, from = "2025-10-01" };

    [SkippableFact]
    public async Task AConsentAppliesUntilItIsWithdrawnAndTheRecordStays()
    {
        var childId = await Problem.ChildIdAsync(await api.Council202.RegisterAsync(new { nhsNumber = TestIdentifiers.NewNhs() }), HttpStatusCode.Created);
        var created = await api.Council202.PostAsJsonAsync($"/v1/children/{childId}/consents", PepConsent);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var consentId = JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString();

        // The designated teacher's next decision sees the PEP's health section...
        Assert.Contains("healthSection", (await DecideForSchoolAsync(childId)).Fields);

        var withdrawn = await api.Council202.PostAsync($"/v1/children/{childId}/consents/{consentId}/withdraw", null);
        Assert.Equal(HttpStatusCode.OK, withdrawn.StatusCode);
        var at = JsonDocument.Parse(await withdrawn.Content.ReadAsStringAsync()).RootElement.GetProperty("withdrawnAt").GetString();
        // ...and, once it is withdrawn, no longer. Withdrawing again answers the same.
        Assert.DoesNotContain("healthSection", (await DecideForSchoolAsync(childId)).Fields);
        var again = JsonDocument.Parse(await (await api.Council202.PostAsync($"/v1/children/{childId}/consents/{consentId}/withdraw", null)).Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(at, again.GetProperty("withdrawnAt").GetString());

        var list = JsonDocument.Parse(await api.Council202.GetStringAsync($"/v1/children/{childId}/consents")).RootElement;
        Assert.Equal(1, list.GetArrayLength());
        Assert.Equal(JsonValueKind.String, list[0].GetProperty("withdrawnAt").ValueKind);

        var actions = (await api.EventsAsync($"childId={childId}")).Select(e => e.GetProperty("action").GetString()).ToList();
        Assert.Contains("consent.record", actions);
        Assert.Contains("consent.withdraw", actions);
        Assert.Contains("consent.list", actions);
    }

    [SkippableFact]
    public async Task OnlyTheResponsibleCouncilSeesOrChangesConsents()
    {
        var childId = await Problem.ChildIdAsync(await api.Council202.RegisterAsync(new { nhsNumber = TestIdentifiers.NewNhs() }), HttpStatusCode.Created);
        await Problem.AssertAsync(await api.Council209.PostAsJsonAsync($"/v1/children/{childId}/consents", PepConsent), HttpStatusCode.NotFound, "child-not-found");
        await Problem.AssertAsync(await api.Council209.GetAsync($"/v1/children/{childId}/consents"), HttpStatusCode.NotFound, "child-not-found");
        await Problem.AssertAsync(await api.School202.GetAsync($"/v1/children/{childId}/consents"), HttpStatusCode.Forbidden, "forbidden");
        await Problem.AssertAsync(await api.Council202.PostAsync($"/v1/children/{childId}/consents/{Guid.NewGuid()}/withdraw", null), HttpStatusCode.NotFound, "consent-not-found");
        await Problem.AssertAsync(await api.Council202.PostAsync($"/v1/children/{childId}/consents/not-a-guid/withdraw", null), HttpStatusCode.NotFound, "consent-not-found");
    }

    [SkippableTheory]
    [InlineData("""{"givenBy":"the-cat","categories":["pep"],"recipients":["school:100001"],"purposes":["pep-review"],"from":"2025-10-01"}""")]
    [InlineData("""{"givenBy":"young-person","categories":["medical-records"],"recipients":["school:100001"],"purposes":["pep-review"],"from":"2025-10-01"}""")]
    [InlineData("""{"givenBy":"young-person","categories":[],"recipients":["school:100001"],"purposes":["pep-review"],"from":"2025-10-01"}""")]
    [InlineData("""{"givenBy":"young-person","categories":["pep"],"recipients":["school:100001"],"purposes":["marketing"],"from":"2025-10-01"}""")]
    [InlineData("""{"givenBy":"young-person","categories":["pep"],"recipients":["nobody"],"purposes":["pep-review"],"from":"2025-10-01"}""")]
    [InlineData("""{"givenBy":"young-person","categories":["pep"],"recipients":["school:999999"],"purposes":["pep-review"],"from":"2025-10-01"}""")]
    [InlineData("""{"givenBy":"young-person","categories":["pep"],"recipients":["school:100001"],"purposes":["pep-review"],"from":"2099-10-01"}""")]
    [InlineData("""{"givenBy":"young-person","categories":["pep"],"recipients":["school:100001"],"purposes":["pep-review"],"from":"2025-10-01","until":"2025-09-01"}""")]
    public async Task AnInvalidConsentIsRefusedAndNothingIsRecorded(string body)
    {
        var childId = await Problem.ChildIdAsync(await api.Council202.RegisterAsync(new { nhsNumber = TestIdentifiers.NewNhs() }), HttpStatusCode.Created);
        await Problem.AssertAsync(await api.Council202.PostAsync($"/v1/children/{childId}/consents", new StringContent(body, System.Text.Encoding.UTF8, "application/json")), HttpStatusCode.BadRequest, "consent-invalid");
        Assert.Equal(0, JsonDocument.Parse(await api.Council202.GetStringAsync($"/v1/children/{childId}/consents")).RootElement.GetArrayLength());
    }

    // The school's designated teacher, enrolled, reading the PEP today: what the policy gives it now.
    private async Task<PolicyDecision> DecideForSchoolAsync(string childId)
    {
        using var scope = api.Services.CreateScope();
        var today = DateOnly.FromDateTime(DateTime.UtcNow);
        var consents = await scope.ServiceProvider.GetRequiredService<IConsentFacts>().ForAsync("school:100001", childId, default);
        return scope.ServiceProvider.GetRequiredService<PolicyEngine>().Decide(new PolicyRequest(["designated-teacher"], "read", "pep", "pep-review", today,
            [new RelationshipFact("enrolled-school", today.AddMonths(-1))], consents));
    }
}

public sealed class SqliteConsentTests(ExchangeApiFactory api) : ConsentTestsBase<ExchangeApiFactory>(api), IClassFixture<ExchangeApiFactory>;

public sealed class PostgresConsentTests : ConsentTestsBase<PostgresApiFactory>, IClassFixture<PostgresApiFactory>
{
    public PostgresConsentTests(PostgresApiFactory api) : base(api) => Postgres.SkipUnlessAvailable();
}
