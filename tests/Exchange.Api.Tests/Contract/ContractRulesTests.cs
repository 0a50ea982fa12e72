using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Exchange.Api.Policy;
using Exchange.Api.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using static Exchange.Api.Tests.Infrastructure.TestIdentifiers;

namespace Exchange.Api.Tests.Contract;

/// <summary>
/// What a property-based fuzzer found where openapi.yaml and the service disagreed: the service now
/// refuses what the contract refuses and the contract states what the service enforces. Every call
/// goes through the contract-checking client, so each answer also matches its documented response.
/// </summary>
public sealed class ContractRulesTests(ExchangeApiFactory api) : IClassFixture<ExchangeApiFactory>
{
    private static object Consent(object? categories = null, object? recipients = null, object? purposes = null) => new
    {
        givenBy = "young-person",
        categories = categories ?? new[] { "pep" },
        recipients = recipients ?? new[] { "school:100001" },
        purposes = purposes ?? new[] { "pep-review" },
        from = "2025-10-01",
    };

    private async Task<string> NewChildAsync() =>
        await Problem.ChildIdAsync(await api.Council202.RegisterAsync(new { nhsNumber = NewNhs() }), HttpStatusCode.Created);

    [Fact]
    public async Task AConsentWithANullCategoryIsRefusedNotAnInternalError()
    {
        var childId = await NewChildAsync();
        var response = await api.Council202.PostAsJsonAsync($"/v1/children/{childId}/consents", Consent(categories: new string?[] { null }));
        // The explicit null is the first thing wrong with it; before that rule the consent validator threw (500).
        var problem = await Problem.AssertAsync(response, HttpStatusCode.BadRequest, "validation-failed");
        Assert.Equal("categories[0]", problem.GetProperty("errors")[0].GetProperty("field").GetString());
        Assert.Empty(JsonDocument.Parse(await api.Council202.GetStringAsync($"/v1/children/{childId}/consents")).RootElement.EnumerateArray());
    }

    [Fact]
    public void TheConsentValidatorRefusesANullListItemWithoutThrowing()
    {
        // Below the null filter: the validator itself must not throw on a null item (it did: ArgumentNullException).
        using var scope = api.Services.CreateScope();
        var validator = new Exchange.Api.Consents.ConsentRequestValidator(scope.ServiceProvider.GetRequiredService<PolicySet>(), TimeProvider.System);
        var result = validator.Validate(new Exchange.Api.Consents.ConsentRequest("young-person", [null!], ["school:100001"], [null!], "2025-10-01", null));
        Assert.Equal(["Categories", "Purposes"], result.Errors.Select(e => e.PropertyName));
        Assert.All(result.Errors, e => Assert.Equal("consent-invalid", e.ErrorCode));
    }

    public static TheoryData<string, string, string> ExplicitNulls => new()
    {
        { "register", """{"identifiers":{"nhsNumber":null,"upn":"B801200005001"},"careEpisode":{"startDate":"2025-09-01"}}""", "identifiers.nhsNumber" },
        { "register", """{"identifiers":{"nhsNumber":"9434765919","upn":null},"careEpisode":{"startDate":"2025-09-01"}}""", "identifiers.upn" },
        { "register", """{"identifiers":{"nhsNumber":"9434765919","laChildId":null},"careEpisode":{"startDate":"2025-09-01"}}""", "identifiers.laChildId" },
        { "resolve", """{"identifiers":{"nhsNumber":null}}""", "identifiers.nhsNumber" },
        { "resolve", """{"identifiers":null}""", "identifiers" },
        { "consent", """{"givenBy":"young-person","categories":["pep"],"recipients":["school:100001"],"purposes":["pep-review"],"from":"2025-10-01","until":null}""", "until" },
        { "consent", """{"givenBy":"young-person","categories":["pep"],"recipients":[null],"purposes":["pep-review"],"from":"2025-10-01"}""", "recipients[0]" },
        { "consent", """{"givenBy":"young-person","categories":["pep"],"recipients":["school:100001"],"purposes":[null],"from":"2025-10-01"}""", "purposes[0]" },
        { "placement", """{"la":"209","startDate":"2025-10-01","endDate":null}""", "endDate" },
    };

    [Theory]
    [MemberData(nameof(ExplicitNulls))]
    public async Task AnExplicitNullWhereTheContractSaysAValueIsRefusedNamingTheField(string operation, string body, string field)
    {
        var childId = await NewChildAsync();
        var path = operation switch
        {
            "register" => "/v1/children",
            "resolve" => "/v1/identities/resolve",
            "consent" => $"/v1/children/{childId}/consents",
            _ => $"/v1/children/{childId}/placements",
        };
        var response = await api.Council202.PostAsync(path, new StringContent(body, Encoding.UTF8, "application/json"));
        var problem = await Problem.AssertAsync(response, HttpStatusCode.BadRequest, "validation-failed");
        Assert.Equal(field, problem.GetProperty("errors")[0].GetProperty("field").GetString());
    }

    [Fact]
    public async Task AnExplicitNullSurvivorIsRefusedAndTheReviewStaysOpen()
    {
        var reviewId = await ConflictAsync();
        var merge = await api.Admin.PostAsync($"/v1/identity-reviews/{reviewId}/merge", new StringContent("""{"survivorChildId":null}""", Encoding.UTF8, "application/json"));
        var problem = await Problem.AssertAsync(merge, HttpStatusCode.BadRequest, "validation-failed");
        Assert.Equal("survivorChildId", problem.GetProperty("errors")[0].GetProperty("field").GetString());
        Assert.Equal("open", (await api.Admin.GetFromJsonAsync<JsonElement>($"/v1/identity-reviews/{reviewId}")).GetProperty("status").GetString());
    }

    [Theory]
    [InlineData("nhsNumber", "", "nhs-number-format")]
    [InlineData("nhsNumber", "  ", "nhs-number-format")]
    [InlineData("upn", "", "upn-format")]
    public async Task AGivenButBlankIdentifierIsAFormatErrorNotAnAbsentOne(string field, string value, string code)
    {
        // Beside a valid UPN or NHS number, a blank identifier used to be ignored; the contract's pattern refuses it.
        var identifiers = new Dictionary<string, string> { [field] = value, [field == "upn" ? "nhsNumber" : "upn"] = field == "upn" ? NewNhs() : NewUpn() };
        await Problem.AssertAsync(await api.Council202.RegisterAsync(identifiers), HttpStatusCode.BadRequest, code);
    }

    [Theory]
    [InlineData("Council\nof Somewhere")]
    [InlineData("Tab\tSchool")]
    [InlineData("Escape\u001b[31m School")]
    [InlineData("   ")]
    public async Task AnOrganisationNameWithControlCharactersOrOnlySpacesIsRefused(string name)
    {
        var id = $"health:Z{Random.Shared.Next(10000, 99999)}";
        await Problem.AssertAsync(await api.Admin.PostAsJsonAsync("/v1/organisations", new { id, name }), HttpStatusCode.BadRequest, "organisation-name");
        await Problem.AssertAsync(await api.Admin.GetAsync($"/v1/organisations/{id}"), HttpStatusCode.NotFound, "organisation-not-found");
    }

    [Fact]
    public async Task AnOrganisationNameOfAtMost200CharactersCountingItsSpacesIsAccepted()
    {
        await Problem.AssertAsync(await api.Admin.PostAsJsonAsync("/v1/organisations", new { id = "health:ZLONG1", name = " " + new string('N', 200) }),
            HttpStatusCode.BadRequest, "organisation-name");
        Assert.Equal(HttpStatusCode.Created, (await api.Admin.PostAsJsonAsync("/v1/organisations", new { id = "health:ZLONG2", name = new string('N', 200) })).StatusCode);
    }

    [Theory]
    [InlineData("placements?hostLa=anything", "la-number-format")]
    [InlineData("placements?hostLa=20", "la-number-format")]
    [InlineData("enrolments?urn=anything", "urn-format")]
    [InlineData("enrolments?urn=10000", "urn-format")]
    public async Task ARelationshipFilterOfTheWrongShapeIsRefused(string query, string code)
    {
        var childId = await NewChildAsync();
        await Problem.AssertAsync(await api.Council202.GetAsync($"/v1/children/{childId}/{query}"), HttpStatusCode.BadRequest, code);
    }

    [Theory]
    [InlineData("start=9223372036854775808&end=1")]
    [InlineData("start=0&end=9223372036854775808")]
    public async Task AuditPositionsAre64BitIntegers(string query)
    {
        var response = await api.DpoOf().GetAsync($"/v1/audit/entries?{query}");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Theory]
    [InlineData("/v1/audit/checkpoint")]
    [InlineData("/v1/audit/verifier-key")]
    public async Task TheCheckpointAndVerifierKeyNeedAPurposeAndSaySoAsDocumented(string path)
    {
        var client = api.WithToken(api.Issuer.Token("operator:exchange", ["dpo"]), purpose: null);
        await Problem.AssertAsync(await client.GetAsync(path), HttpStatusCode.BadRequest, "purpose-of-use-missing");
    }

    [Fact]
    public async Task TheConsentAndPurposeEnumsOfTheContractAreThePolicysValues()
    {
        var policy = api.Services.GetRequiredService<PolicySet>();
        var schemas = OpenApiContract.YamlToJson(await File.ReadAllTextAsync(Path.Combine(OpenApiContract.RepoRoot(), "openapi.yaml")))["components"]!["schemas"]!;
        Assert.Equal(policy.Categories.Keys.Order(), schemas["Category"]!["enum"]!.AsArray().Select(v => v!.GetValue<string>()).Order());
        Assert.Equal(policy.Purposes.Order(), schemas["Purpose"]!["enum"]!.AsArray().Select(v => v!.GetValue<string>()).Order());
    }

    [Fact]
    public async Task TheExclusionReasonEnumOfTheContractIsTheListTheServiceTakes()
    {
        var schemas = OpenApiContract.YamlToJson(await File.ReadAllTextAsync(Path.Combine(OpenApiContract.RepoRoot(), "openapi.yaml")))["components"]!["schemas"]!;
        Assert.Equal(Exchange.Api.Exclusions.ExclusionReasons.InForce.Keys.Order(StringComparer.Ordinal),
            schemas["ExclusionReasonCode"]!["enum"]!.AsArray().Select(v => v!.GetValue<string>()).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task AStatefulClientFollowsTheLinksFromRegistrationToTheChildAndFromAConsentToItsWithdrawal()
    {
        var client = api.Council202;
        var register = await client.RegisterAsync(new { nhsNumber = NewNhs() });
        var read = await FollowAsync(client, register, "ReadChild");
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        var childId = (await read.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("childId").GetString();

        var consent = await client.PostAsJsonAsync($"/v1/children/{childId}/consents", Consent());
        var withdrawn = await FollowAsync(client, consent, "WithdrawConsent");
        Assert.Equal(HttpStatusCode.OK, withdrawn.StatusCode);
        Assert.Equal(JsonValueKind.String, (await withdrawn.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("withdrawnAt").ValueKind);
    }

    [Fact]
    public async Task AStatefulClientFollowsTheLinksFromAnIdentityConflictToItsReviewAndMerge()
    {
        var (nhs, upn) = (NewNhs(), NewUpn());
        await api.Council202.RegisterAsync(new { nhsNumber = nhs });
        await api.Council202.RegisterAsync(new { upn });
        var conflict = await api.Council202.RegisterAsync(new { nhsNumber = nhs, upn });
        Assert.Equal(HttpStatusCode.Conflict, conflict.StatusCode);

        // The review and its merge are exchange-admin operations: the link names them, the admin follows.
        var review = await FollowAsync(api.Admin, conflict, "ReadReview");
        Assert.Equal(HttpStatusCode.OK, review.StatusCode);
        var merged = await FollowAsync(api.Admin, review, "MergeReview");
        Assert.Equal(HttpStatusCode.OK, merged.StatusCode);
        Assert.Equal("merged", (await merged.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString());
    }

    private async Task<string> ConflictAsync()
    {
        var (nhs, upn) = (NewNhs(), NewUpn());
        await api.Council202.RegisterAsync(new { nhsNumber = nhs });
        await api.Council202.RegisterAsync(new { upn });
        var conflict = await Problem.AssertAsync(await api.Council202.RegisterAsync(new { nhsNumber = nhs, upn }), HttpStatusCode.Conflict, "identity-conflict");
        return conflict.GetProperty("reviewId").GetString()!;
    }

    private static async Task<HttpResponseMessage> FollowAsync(HttpClient client, HttpResponseMessage response, string link)
    {
        var (method, path, headers) = OpenApiContract.Instance.FollowLink(response.RequestMessage!, (int)response.StatusCode, await response.Content.ReadAsStringAsync(), link);
        using var request = new HttpRequestMessage(method, path);
        foreach (var (name, value) in headers)
        {
            request.Headers.Remove(name);
            request.Headers.TryAddWithoutValidation(name, value);
        }

        return await client.SendAsync(request);
    }
}
