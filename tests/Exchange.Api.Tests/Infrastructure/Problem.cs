using System.Net;
using System.Text.Json;

namespace Exchange.Api.Tests.Infrastructure;

/// <summary>Reads an RFC 9457 problem response and checks its stable type.</summary>
public static class Problem
{
    public const string Base = "https://exchange.example/problems/";

    public static async Task<JsonElement> AssertAsync(HttpResponseMessage response, HttpStatusCode status, string code)
    {
        ArgumentNullException.ThrowIfNull(response);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"Expected {(int)status} {code}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var json = JsonDocument.Parse(body).RootElement;
        Assert.Equal(Base + code, json.GetProperty("type").GetString());
        Assert.Equal((int)status, json.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrWhiteSpace(json.GetProperty("detail").GetString()));
        Assert.True(json.TryGetProperty("correlationId", out _), "problem carries the correlation id");
        Assert.DoesNotContain("   at ", body, StringComparison.Ordinal); // never a stack trace
        return json;
    }

    public static async Task<string> ChildIdAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        ArgumentNullException.ThrowIfNull(response);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"Expected {(int)status}, got {(int)response.StatusCode}: {body}");
        var id = JsonDocument.Parse(body).RootElement.GetProperty("childId").GetString();
        Assert.NotNull(id);
        Assert.Matches("^ch_[0-9a-hjkmnp-tv-z]{26}$", id);
        return id;
    }
}
