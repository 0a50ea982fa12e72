using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Exchange.Api.Tests.Infrastructure;
using YamlDotNet.RepresentationModel;

namespace Exchange.Api.Tests.Contract;

/// <summary>openapi.yaml is the contract: every mapped route is in it and it names no route that does not exist.</summary>
public sealed class OpenApiContractTests(ExchangeApiFactory api) : IClassFixture<ExchangeApiFactory>
{
    private static readonly string[] Methods = ["get", "put", "post", "delete", "patch"];

    [Fact]
    public void OpenApiDescribesExactlyTheMappedRoutes()
    {
        _ = api.CreateClient();
        var mapped = api.Services.GetRequiredService<EndpointDataSource>().Endpoints
            .OfType<RouteEndpoint>()
            .SelectMany(e => (e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? []).Select(m => $"{m.ToUpperInvariant()} {Normalise(e.RoutePattern.RawText!)}"))
            .ToHashSet();

        var documented = Documented().ToHashSet();
        Assert.Empty(mapped.Except(documented).Order());
        Assert.Empty(documented.Except(mapped).Order());
    }

    [Fact]
    public void EveryProblemTypeIsDocumented()
    {
        var yaml = File.ReadAllText(Path.Combine(RepoRoot(), "openapi.yaml"));
        // Whole codes only: "not-found" must not be satisfied by "child-not-found".
        var missing = Exchange.Api.Errors.ProblemTypes.Known
            .Where(t => !System.Text.RegularExpressions.Regex.IsMatch(yaml, $"(?<![a-z-]){System.Text.RegularExpressions.Regex.Escape(t.Code)}(?![a-z-])"))
            .Select(t => t.Code);
        Assert.Empty(missing);
    }

    private static IEnumerable<string> Documented()
    {
        var stream = new YamlStream();
        using var reader = new StreamReader(Path.Combine(RepoRoot(), "openapi.yaml"));
        stream.Load(reader);
        var root = (YamlMappingNode)stream.Documents[0].RootNode;
        var paths = (YamlMappingNode)root.Children[new YamlScalarNode("paths")];
        foreach (var (path, item) in paths.Children)
        {
            foreach (var (method, _) in ((YamlMappingNode)item).Children)
            {
                var name = ((YamlScalarNode)method).Value!;
                if (Methods.Contains(name))
                {
                    yield return $"{name.ToUpperInvariant()} {Normalise(((YamlScalarNode)path).Value!)}";
                }
            }
        }
    }

    // "/v1/children/" and "/v1/children" are one route; parameter names do not matter.
    private static string Normalise(string route) =>
        System.Text.RegularExpressions.Regex.Replace("/" + route.Trim('/'), "{[^}]+}", "{}");

    internal static string RepoRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Exchange.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("Exchange.sln not found above the test output.");
    }
}
