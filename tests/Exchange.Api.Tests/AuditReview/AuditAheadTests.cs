using System.Text.Json;
using Exchange.Api.Auditing;
using Exchange.Api.Identity;
using Exchange.Api.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Exchange.Api.Tests.AuditReview;

/// <summary>
/// Children recorded ahead of a long read's answer (<see cref="AuditTrail.DisclosingAhead"/>): recorded once when the
/// answer is the one expected, and again with the outcome when it is not, so a child's last event of a request is
/// what happened.
/// </summary>
public sealed class AuditAheadTests(ExchangeApiFactory api) : IClassFixture<ExchangeApiFactory>
{
    private static readonly AuditedEndpoint Endpoint = new("cohort.list", "cohort", ["childId"]);

    private async Task<(string RequestId, Dictionary<string, List<int>> Statuses)> RecordAsync(int status, string[] ahead, string[] told)
    {
        _ = api.CreateClient();
        using var scope = api.Services.CreateScope();
        var trail = scope.ServiceProvider.GetRequiredService<AuditTrail>();
        var http = new DefaultHttpContext { RequestServices = scope.ServiceProvider, TraceIdentifier = Guid.NewGuid().ToString("N") };
        trail.Begin(http, Endpoint);
        trail.DisclosingAhead(ahead, CancellationToken.None);
        trail.AlsoAbout(told);
        await trail.RecordAsync(status, CancellationToken.None);

        var statuses = new Dictionary<string, List<int>>();
        foreach (var child in ahead.Union(told))
        {
            statuses[child] = (await api.EventsAsync($"childId={child}"))
                .Where(e => e.GetProperty("request_id").GetString() == http.TraceIdentifier)
                .Select(e => e.GetProperty("status").GetInt32()).Order().ToList();
        }

        return (http.TraceIdentifier, statuses);
    }

    [Fact]
    public async Task AChildRecordedAheadIsNotRecordedAgainWhenTheAnswerIsTheOneExpected()
    {
        var (a, b, c) = (Ids.NewChildId(), Ids.NewChildId(), Ids.NewChildId());
        var (_, statuses) = await RecordAsync(StatusCodes.Status200OK, [a, b], [a, b, c]);
        Assert.Equal([200], statuses[a]);
        Assert.Equal([200], statuses[b]);
        Assert.Equal([200], statuses[c]);
    }

    [Fact]
    public async Task AChildRecordedAheadIsRecordedAgainWithAnotherOutcome()
    {
        var (a, b) = (Ids.NewChildId(), Ids.NewChildId());
        var (requestId, statuses) = await RecordAsync(StatusCodes.Status500InternalServerError, [a, b], []);
        Assert.Equal([200, 500], statuses[a]);
        Assert.Equal([200, 500], statuses[b]);

        // The request's own event, naming no child, is the outcome too.
        var own = (await api.EventsAsync("decision=error")).Where(e => e.GetProperty("request_id").GetString() == requestId
            && e.GetProperty("child_id").ValueKind == JsonValueKind.Null).ToList();
        Assert.Equal("error", Assert.Single(own).GetProperty("decision").GetString());
    }
}
