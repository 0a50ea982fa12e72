using System.Text.Json;
using Exchange.Api.Policy;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Primitives;

namespace Exchange.Api.Tests.Policy;

/// <summary>The mask itself, on the shapes no shipped endpoint produces yet.</summary>
public sealed class FieldMaskUnitTests
{
    private static readonly FieldMask DatesHidden = new(["childId", "hostLa", "startDate", "endDate"], ["childId", "hostLa"]);

    private static QueryCollection Query(string key, string value) => new(new Dictionary<string, StringValues> { [key] = value });

    [Fact]
    public void AParameterThatSelectsByHiddenFieldsIsRefusedByName()
    {
        var derived = new Dictionary<string, string[]> { ["current"] = ["startDate", "endDate"] };
        Assert.Equal("current", DatesHidden.HiddenFieldNamedBy(Query("current", "true"), derived));
        Assert.Equal("startDate", DatesHidden.HiddenFieldNamedBy(Query("sort", "hostLa,-startDate")));
        Assert.Null(DatesHidden.HiddenFieldNamedBy(Query("hostLa", "209"), derived));
        Assert.Null(new FieldMask(["childId", "startDate"], ["childId", "startDate"]).HiddenFieldNamedBy(Query("current", "true"), derived));
    }

    [Fact]
    public async Task APlainReturnedObjectIsMaskedAtEveryDepth()
    {
        var http = new DefaultHttpContext { RequestServices = new ServiceCollection().AddOptions().AddLogging().BuildServiceProvider() };
        http.Response.Body = new MemoryStream();
        var answer = new { items = new[] { new { childId = "ch_x", hostLa = "209", startDate = "2025-10-01", nested = new { endDate = "2026-01-01" } } } };
        var masked = Assert.IsAssignableFrom<IResult>(DatesHidden.Apply(answer, http));
        await masked.ExecuteAsync(http);
        http.Response.Body.Position = 0;
        var item = JsonDocument.Parse(http.Response.Body).RootElement.GetProperty("items")[0];
        Assert.Equal("209", item.GetProperty("hostLa").GetString());
        Assert.False(item.TryGetProperty("startDate", out _));
        Assert.False(item.GetProperty("nested").TryGetProperty("endDate", out _));
    }
}
