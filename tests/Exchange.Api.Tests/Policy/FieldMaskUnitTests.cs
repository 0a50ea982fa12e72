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

    [Fact]
    public void AMaskThatHidesNothingLeavesTheAnswerAndEveryParameterAlone()
    {
        var nothingHidden = new FieldMask(["childId", "startDate"], ["childId", "startDate"]);
        var answer = new { childId = "ch_x", startDate = "2025-10-01" };

        Assert.False(nothingHidden.HidesAnything);
        Assert.Same(answer, nothingHidden.Apply(answer, NewContext()));
        Assert.Null(nothingHidden.HiddenFieldNamedBy(Query("sort", "startDate")));
        Assert.True(DatesHidden.HidesAnything);
    }

    [Fact]
    public void NoAnswerStaysNoAnswer() => Assert.Null(DatesHidden.Apply(null, NewContext()));

    [Fact]
    public void ADerivedParameterIsRefusedWhenAnyOfItsFieldsIsHidden()
    {
        // "current" reads both dates; hiding either one is enough to refuse it.
        var endOnly = new FieldMask(["childId", "startDate", "endDate"], ["childId", "startDate"]);
        var derived = new Dictionary<string, string[]> { ["current"] = ["startDate", "endDate"] };

        Assert.Equal("current", endOnly.HiddenFieldNamedBy(Query("current", "true"), derived));
    }

    [Theory]
    [InlineData("sort", "hostLa")]
    [InlineData("sort", "-hostLa, +childId")]
    [InlineData("orderBy", "childId")]
    [InlineData("page", "startDate")] // a hidden field's name as a value of another parameter says nothing about it
    public void SortingByVisibleFieldsOnlyIsAllowed(string parameter, string value) =>
        Assert.Null(DatesHidden.HiddenFieldNamedBy(Query(parameter, value)));

    [Theory]
    [InlineData("sort", " +endDate", "endDate")]
    [InlineData("ORDERBY", "hostLa,startDate", "startDate")]
    [InlineData("StartDate", "2025-10-01", "StartDate")] // field names are matched whatever their case
    public void ANamedHiddenFieldIsRefusedInAnyCaseOrSortDirection(string parameter, string value, string refused) =>
        Assert.Equal(refused, DatesHidden.HiddenFieldNamedBy(Query(parameter, value)));

    [Fact]
    public async Task AMaskedCreatedAnswerKeepsItsStatusAndLocation()
    {
        var http = NewContext();
        var created = TypedResults.Created("/children/ch_x/placements/p1", new { childId = "ch_x", startDate = "2025-10-01" });

        var masked = Assert.IsAssignableFrom<IResult>(DatesHidden.Apply(created, http));
        await masked.ExecuteAsync(http);

        Assert.Equal(StatusCodes.Status201Created, http.Response.StatusCode);
        Assert.Equal("/children/ch_x/placements/p1", http.Response.Headers.Location.ToString());
        http.Response.Body.Position = 0;
        var body = JsonDocument.Parse(http.Response.Body).RootElement;
        Assert.Equal("ch_x", body.GetProperty("childId").GetString());
        Assert.False(body.TryGetProperty("startDate", out _));
    }

    [Fact]
    public async Task AMaskedPlainAnswerIsAnOk()
    {
        var http = NewContext();

        await Assert.IsAssignableFrom<IResult>(DatesHidden.Apply(new { childId = "ch_x" }, http)).ExecuteAsync(http);

        Assert.Equal(StatusCodes.Status200OK, http.Response.StatusCode);
        Assert.False(http.Response.Headers.ContainsKey("Location"));
    }

    [Fact]
    public void NullArgumentsAreRejected()
    {
        Assert.Throws<ArgumentNullException>(() => DatesHidden.HiddenFieldNamedBy(null!));
        Assert.Throws<ArgumentNullException>(() => DatesHidden.Apply(new { childId = "ch_x" }, null!));
    }

    private static DefaultHttpContext NewContext()
    {
        var http = new DefaultHttpContext { RequestServices = new ServiceCollection().AddOptions().AddLogging().BuildServiceProvider() };
        http.Response.Body = new MemoryStream();
        return http;
    }
}
