using Exchange.Api.Auditing;
using Exchange.Api.Tests.Infrastructure;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Exchange.Api.Tests.AuditReview;

/// <summary>No route that reaches child, identity, key or audit data can be added without being audited.</summary>
public sealed class AuditCoverageTests(ExchangeApiFactory api) : IClassFixture<ExchangeApiFactory>
{
    private static readonly string[] AuditedPrefixes = ["/v1/children", "/v1/enrolments", "/v1/identities", "/v1/identity-reviews", "/v1/audit", "/v1/admin/keys", "/v1/schools"];

    [Fact]
    public void EveryRouteToPersonalOrAuditDataIsAudited()
    {
        _ = api.CreateClient();
        var endpoints = api.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => AuditedPrefixes.Any(p => e.RoutePattern.RawText!.StartsWith(p, StringComparison.Ordinal)))
            .ToList();
        Assert.True(endpoints.Count >= 15, $"only {endpoints.Count} routes found");

        // Reading the key report (counts per KEK version) touches no child's data; everything else is audited.
        var unaudited = endpoints
            .Where(e => e.Metadata.GetMetadata<AuditedEndpoint>() is null)
            .Select(e => $"{string.Join(',', e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? [])} {e.RoutePattern.RawText}")
            .Where(r => r is not ("GET /v1/admin/keys/" or "GET /v1/admin/keys/blind-index"))
            .ToList();
        Assert.Empty(unaudited);
    }
}
