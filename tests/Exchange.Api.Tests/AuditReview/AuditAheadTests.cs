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
        var (trail, http) = Begin(scope);
        trail.DisclosingAhead(ahead, CancellationToken.None);
        trail.AlsoAbout(told);
        await trail.RecordAsync(status, CancellationToken.None);
        return (http.TraceIdentifier, await StatusesAsync(http.TraceIdentifier, ahead.Union(told)));
    }

    private static (AuditTrail Trail, HttpContext Http) Begin(IServiceScope scope)
    {
        var trail = scope.ServiceProvider.GetRequiredService<AuditTrail>();
        var http = new DefaultHttpContext { RequestServices = scope.ServiceProvider, TraceIdentifier = Guid.NewGuid().ToString("N") };
        trail.Begin(http, Endpoint);
        return (trail, http);
    }

    private async Task<Dictionary<string, List<int>>> StatusesAsync(string requestId, IEnumerable<string> children)
    {
        var statuses = new Dictionary<string, List<int>>();
        foreach (var child in children)
        {
            statuses[child] = (await api.EventsAsync($"childId={child}"))
                .Where(e => e.GetProperty("request_id").GetString() == requestId)
                .Select(e => e.GetProperty("status").GetInt32()).Order().ToList();
        }

        return statuses;
    }

    private async Task<List<JsonElement>> OwnEventsAsync(string requestId, string decision) =>
        (await api.EventsAsync("decision=" + decision)).Where(e => e.GetProperty("request_id").GetString() == requestId
            && e.GetProperty("child_id").ValueKind == JsonValueKind.Null).ToList();

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
        Assert.Equal(500, Assert.Single(await OwnEventsAsync(requestId, "error")).GetProperty("status").GetInt32());
    }

    /// <summary>A client that went away after some children were recorded: they and the request end on 499, not 200.</summary>
    [Fact]
    public async Task ARequestAbandonedAfterChildrenWereRecordedEndsNotCompleted()
    {
        var (a, b) = (Ids.NewChildId(), Ids.NewChildId());
        var (requestId, statuses) = await RecordAsync(AuditTrail.ClientClosedRequest, [a, b], []);
        Assert.Equal([200, 499], statuses[a]);
        Assert.Equal([200, 499], statuses[b]);
        Assert.Single(await OwnEventsAsync(requestId, "error"));
    }

    /// <summary>
    /// A chunk whose events could not be made durable: the answer is refused (503) and the log does not say it went out,
    /// even when the log takes events again by the time the request records its own.
    /// </summary>
    [Fact]
    public async Task WhenAChunksEventsFailTheRequestIsRecordedAsRefusedNotAsAnswered()
    {
        _ = api.CreateClient();
        var (a, b) = (Ids.NewChildId(), Ids.NewChildId());
        using var scope = api.Services.CreateScope();
        var (trail, http) = Begin(scope);
        var failures = api.Logs.All.Split("AUDIT: an event could not be made durable").Length;
        await api.BreakAuditStoreAsync();
        try
        {
            trail.DisclosingAhead([a, b], CancellationToken.None);
            for (var waited = 0; api.Logs.All.Split("AUDIT: an event could not be made durable").Length == failures && waited < 100; waited++)
            {
                await Task.Delay(50);
            }
        }
        finally
        {
            await api.RepairAuditStoreAsync();
        }

        await Assert.ThrowsAsync<AuditUnavailableException>(() => trail.RecordAsync(StatusCodes.Status200OK, CancellationToken.None));
        var statuses = await StatusesAsync(http.TraceIdentifier, [a, b]);
        Assert.Equal([503], statuses[a]);
        Assert.Equal([503], statuses[b]);
        Assert.Empty(await OwnEventsAsync(http.TraceIdentifier, "permit"));
        Assert.Equal(503, Assert.Single(await OwnEventsAsync(http.TraceIdentifier, "error")).GetProperty("status").GetInt32());
    }
}
