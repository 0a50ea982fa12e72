using Exchange.Api.Tests.Infrastructure;
using Microsoft.OpenApi;
using Microsoft.OpenApi.Reader;
using Microsoft.OpenApi.YamlReader;

namespace Exchange.Api.Tests.Contract;

/// <summary>openapi.yaml is read by a real OpenAPI reader (Microsoft.OpenApi) with its validation rules, as clients and generators read it.</summary>
public sealed class OpenApiDocumentTests
{
    [Fact]
    public async Task OpenApiYamlIsValidOpenApiWithNoErrorsOrWarnings()
    {
        var settings = new OpenApiReaderSettings { RuleSet = Rules() };
        settings.AddYamlReader();
        var result = await OpenApiDocument.LoadAsync(Path.Combine(OpenApiContract.RepoRoot(), "openapi.yaml"), settings);

        Assert.NotNull(result.Document);
        var problems = result.Diagnostic!.Errors.Select(e => $"error {e.Pointer}: {e.Message}")
            .Concat(result.Diagnostic.Warnings.Select(w => $"warning {w.Pointer}: {w.Message}"))
            .Concat(result.Document!.Validate(Rules())!.Select(e => $"rule {e.Pointer}: {e.Message}"))
            .Distinct()
            .ToList();
        Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));
        Assert.Equal(OpenApiSpecVersion.OpenApi3_1, result.Diagnostic.SpecificationVersion);
    }

    [Fact]
    public async Task AStrayKeywordInASchemaIsAnError()
    {
        // An unquoted flow-mapping description with a comma turns its tail into a keyword of its own.
        const string yaml = """
            openapi: 3.1.0
            info: { title: t, version: '1' }
            paths: {}
            components:
              schemas:
                Event:
                  type: object
                  properties:
                    child_id: { type: string, description: The child id; never an NHS number, UPN or council child ID. }
            """;
        var settings = new OpenApiReaderSettings { RuleSet = Rules() };
        settings.AddYamlReader();
        using var stream = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(yaml));
        var result = await OpenApiDocument.LoadAsync(stream, "yaml", settings);

        Assert.Contains(result.Diagnostic!.Errors.Concat(result.Document!.Validate(Rules())!), e => e.Message.Contains("UPN or council child ID", StringComparison.Ordinal));
    }

    /// <summary>
    /// The library's default rules, and one more: a schema has no keyword JSON Schema and OpenAPI do
    /// not define (extensions start with x-). OpenAPI 3.1 tolerates unknown keywords, so a description
    /// cut in two by YAML would otherwise pass silently.
    /// </summary>
    private static ValidationRuleSet Rules()
    {
        var rules = ValidationRuleSet.GetDefaultRuleSet();
        rules.Add(typeof(IOpenApiSchema), new ValidationRule<IOpenApiSchema>("SchemaHasOnlyKnownKeywords", (context, schema) =>
        {
            foreach (var keyword in schema.UnrecognizedKeywords?.Keys ?? [])
            {
                context.CreateError("SchemaHasOnlyKnownKeywords", $"The schema has an unknown keyword '{keyword}' (a YAML value cut in two?).");
            }
        }));
        return rules;
    }
}

/// <summary>The response checker the test clients use finds each kind of departure, and names where.</summary>
public sealed class ResponseCheckerTests
{
    private const string Problem400 = """{"type":"https://exchange.example/problems/validation-failed","title":"t","status":400,"detail":"d","correlationId":"c"}""";

    [Fact]
    public void AConformingResponsePasses() =>
        Assert.Empty(OpenApiContract.Instance.Check("POST", "/v1/identities/resolve", 200, "application/json", """{"childId":"ch_9bnjp22dq0v581hd6c71mf19mw"}"""));

    [Fact]
    public void AnUndocumentedStatusIsNamedWithItsOperation()
    {
        var failure = Assert.Single(OpenApiContract.Instance.Check("GET", "/v1/admin/keys", 418, "application/problem+json", Problem400));
        Assert.StartsWith("GET /v1/admin/keys: status 418 is not documented", failure, StringComparison.Ordinal);
    }

    [Fact]
    public void AnUndocumentedContentTypeIsNamed() =>
        Assert.Contains("content type text/html is not documented",
            Assert.Single(OpenApiContract.Instance.Check("POST", "/v1/identities/resolve", 200, "text/html", "<p>hi</p>")), StringComparison.Ordinal);

    [Fact]
    public void AMissingProblemBodyIsNamed() =>
        Assert.Contains("the service sent no body",
            Assert.Single(OpenApiContract.Instance.Check("POST", "/v1/identities/resolve", 400, null, "")), StringComparison.Ordinal);

    [Fact]
    public void AnUndocumentedPropertyIsNamedByItsJsonPointer()
    {
        var failures = OpenApiContract.Instance.Check("POST", "/v1/identities/resolve", 200, "application/json", """{"childId":"ch_9bnjp22dq0v581hd6c71mf19mw","nhsNumber":"9434765919"}""");
        Assert.Contains(failures, f => f.Contains("POST /v1/identities/resolve 200", StringComparison.Ordinal) && f.Contains("'/nhsNumber'", StringComparison.Ordinal));
    }

    [Fact]
    public void AWrongTypeAFormatAndAMissingRequiredPropertyAreNamed()
    {
        var failures = OpenApiContract.Instance.Check("GET", "/v1/organisations/la:202", 200, "application/json",
            """{"id":"la:202","kind":"council","name":7,"laNumber":"202","active":true,"createdAt":"yesterday","deactivatedAt":null}""");
        Assert.Contains(failures, f => f.Contains("'/name'", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.Contains("'/createdAt'", StringComparison.Ordinal) && f.Contains("format", StringComparison.Ordinal));
        Assert.Contains(OpenApiContract.Instance.Check("POST", "/v1/identities/resolve", 200, "application/json", "{}"), f => f.Contains("required", StringComparison.Ordinal));
    }
}
