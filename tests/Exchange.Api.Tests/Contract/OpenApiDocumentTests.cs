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
