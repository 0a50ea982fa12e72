using System.Net;
using System.Net.Http.Json;
using Exchange.Api.Tests.Infrastructure;

namespace Exchange.Api.Tests.Identity;

/// <summary>Every identifier rule through the real API: a stable code, a message naming the rule, never the value.</summary>
public sealed class IdentifierValidationTests(ExchangeApiFactory api) : IClassFixture<ExchangeApiFactory>
{
    public static TheoryData<string, string, string> BadIdentifiers => new()
    {
        { "nhsNumber", "9434765918", "nhs-number-invalid" },
        { "nhsNumber", "9990000019", "nhs-number-invalid" },
        { "nhsNumber", "9990000000", "nhs-number-invalid" },
        { "nhsNumber", "943476591", "nhs-number-format" },
        { "nhsNumber", "94347659190", "nhs-number-format" },
        { "nhsNumber", "94A4765919", "nhs-number-format" },
        { "upn", "A801200005001", "upn-check-letter" },
        { "upn", "B801200005002", "upn-check-letter" },
        { "upn", "UN1", "upn-placeholder" },
        { "upn", "UN5", "upn-placeholder" },
        { "upn", "B80120000500", "upn-format" },
        { "upn", "I801200005001", "upn-format" },
        { "upn", "B80120000500S", "upn-format" },
    };

    [Theory]
    [MemberData(nameof(BadIdentifiers))]
    public async Task ResolvingWithABadIdentifierSaysWhichRuleFailedWithoutEchoingIt(string field, string value, string code)
    {
        var response = await api.School202.ResolveAsync(new Dictionary<string, string> { [field] = value });
        var problem = await Problem.AssertAsync(response, HttpStatusCode.BadRequest, code);
        Assert.DoesNotContain(value, problem.GetRawText(), StringComparison.Ordinal);
        Assert.Contains(field, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(BadIdentifiers))]
    public async Task RegisteringWithABadIdentifierFailsAndStoresNothing(string field, string value, string code)
    {
        // The bad identifier travels beside a good one; the good one must not be registered either.
        var identifiers = new Dictionary<string, string> { [field] = value, [field == "upn" ? "nhsNumber" : "upn"] = field == "upn" ? "9990000042" : "H209123425001" };
        await Problem.AssertAsync(await api.Council202.RegisterAsync(identifiers), HttpStatusCode.BadRequest, code);
        var goodField = field == "upn" ? "nhsNumber" : "upn";
        await Problem.AssertAsync(await api.Council202.ResolveAsync(new Dictionary<string, string> { [goodField] = identifiers[goodField] }),
            HttpStatusCode.NotFound, "child-not-found");
    }

    [Fact]
    public async Task EmptyIdentifiersAreRejected()
    {
        await Problem.AssertAsync(await api.School202.ResolveAsync(new { }), HttpStatusCode.BadRequest, "identifiers-required");
        await Problem.AssertAsync(await api.School202.PostAsJsonAsync("/v1/identities/resolve", new { }), HttpStatusCode.BadRequest, "identifiers-required");
        // A blank identifier is given, so it must be valid: a format error, not a missing identifier.
        await Problem.AssertAsync(await api.School202.ResolveAsync(new { nhsNumber = "  " }), HttpStatusCode.BadRequest, "nhs-number-format");
    }

    [Theory]
    [InlineData("20", "la-number-format")]
    [InlineData("2020", "la-number-format")]
    [InlineData("ABC", "la-number-format")]
    [InlineData("999", "la-number-unknown")]
    public async Task LaChildIdNeedsTheThreeDigitNumberOfARegisteredCouncil(string la, string code)
    {
        var response = await api.School202.ResolveAsync(new { laChildId = new { la, id = "C-1001" } });
        await Problem.AssertAsync(response, HttpStatusCode.BadRequest, code);
    }

    [Fact]
    public async Task LaChildIdWithoutLaNumberIsRejected() =>
        await Problem.AssertAsync(await api.School202.ResolveAsync(new { laChildId = new { id = "C-1001" } }), HttpStatusCode.BadRequest, "la-number-format");

    [Theory]
    [InlineData("")]
    [InlineData("ID WITH ; SEMICOLON")]
    [InlineData("X123456789012345678901234567890123456789012345678901")]
    public async Task LaChildIdOfBadShapeIsRejected(string id)
    {
        var response = await api.School202.ResolveAsync(new { laChildId = new { la = "202", id } });
        await Problem.AssertAsync(response, HttpStatusCode.BadRequest, "la-child-id-format");
    }

    [Fact]
    public async Task CouncilCannotGiveAnotherCouncilsChildId()
    {
        var response = await api.Council202.RegisterAsync(new { laChildId = new { la = "209", id = "C-1001" } });
        await Problem.AssertAsync(response, HttpStatusCode.Forbidden, "la-child-id-not-own");
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("01/09/2025")]
    [InlineData("2025-02-30")]
    [InlineData("2999-01-01")]
    [InlineData("1980-01-01")]
    public async Task RegistrationNeedsAPlausibleCareStartDate(string? startDate)
    {
        // null: the start date left out (an explicit null is refused before this rule, as everywhere).
        object careEpisode = startDate is null ? new { } : new { startDate };
        var response = await api.Council202.PostAsJsonAsync("/v1/children",
            new { identifiers = new { nhsNumber = "9990000050" }, careEpisode });
        await Problem.AssertAsync(response, HttpStatusCode.BadRequest, "care-episode-start-date");
    }

    [Fact]
    public async Task RegistrationWithoutCareEpisodeIsRejected()
    {
        var response = await api.Council202.PostAsJsonAsync("/v1/children", new { identifiers = new { nhsNumber = "9990000050" } });
        await Problem.AssertAsync(response, HttpStatusCode.BadRequest, "care-episode-start-date");
    }

    [Fact]
    public async Task EveryFailedRuleIsListedWithItsCode()
    {
        var response = await api.School202.ResolveAsync(new { nhsNumber = "9434765918", upn = "UN2" });
        var problem = await Problem.AssertAsync(response, HttpStatusCode.BadRequest, "nhs-number-invalid");
        var codes = problem.GetProperty("errors").EnumerateArray().Select(e => e.GetProperty("code").GetString()).ToList();
        Assert.Equal(["nhs-number-invalid", "upn-placeholder"], codes);
        Assert.Equal("identifiers.nhsNumber", problem.GetProperty("errors")[0].GetProperty("field").GetString());
    }
}
