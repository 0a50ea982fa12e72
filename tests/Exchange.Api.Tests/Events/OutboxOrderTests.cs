using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Exchange.Api.Storage;
using Exchange.Api.Tests.Infrastructure;
using Exchange.Api.Tests.RollCheck;
using Exchange.Api.Work;
using Microsoft.Extensions.DependencyInjection;

namespace Exchange.Api.Tests.Events;

/// <summary>
/// Outbox items commit in the order of their numbers, so a reader that moves its cursor past an item can never find an
/// earlier-numbered one landing after it. Two writers on two connections: while the first holds a numbered, uncommitted
/// item, the second cannot commit its own, and a reader of the feed sees neither; then both, in order.
/// </summary>
public abstract class OutboxOrderTestsBase<TFactory>(TFactory api) where TFactory : ExchangeApiFactory
{
    private static OutboxItem Item(string child) =>
        new() { Id = Guid.NewGuid(), Type = OutboxItem.PupilEnrolled, ChildId = child, RaisedBy = "la:202", OccurredAt = DateTimeOffset.UtcNow };

    private async Task<List<string>> ToldAsync(HttpClient council, string after)
    {
        var response = await council.GetAsync("/v1/events?limit=500&after=" + after);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        return JsonDocument.Parse(text).RootElement.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("eventId").GetString()!).ToList();
    }

    [SkippableFact]
    public async Task ASecondWriterCannotCommitAnItemAheadOfAnEarlierNumberedOneStillOpen()
    {
        var (_, _, first) = await api.EnrolledPupilAsync();
        var (_, _, second) = await api.EnrolledPupilAsync();
        var council = api.WithToken(api.Issuer.Token("la:202", ["virtual-school"]), "attendance-monitoring");
        var feed = await council.GetFromJsonAsync<JsonElement>("/v1/events?limit=500");
        var cursor = feed.GetProperty("next").GetString()!;
        while (feed.GetProperty("more").GetBoolean())
        {
            feed = await council.GetFromJsonAsync<JsonElement>("/v1/events?limit=500&after=" + cursor);
            cursor = feed.GetProperty("next").GetString()!;
        }

        using var scopeA = api.Services.CreateScope();
        var workA = scopeA.ServiceProvider.GetRequiredService<UnitOfWork>();
        var itemA = Item(first);
        await workA.BeginAsync(CancellationToken.None);
        scopeA.ServiceProvider.GetRequiredService<ExchangeDbContext>().OutboxItems.Add(itemA);
        await workA.FlushAsync(CancellationToken.None); // numbered, not committed

        var itemB = Item(second);
        var writerB = Task.Run(async () =>
        {
            using var scopeB = api.Services.CreateScope();
            var workB = scopeB.ServiceProvider.GetRequiredService<UnitOfWork>();
            await workB.BeginAsync(CancellationToken.None);
            scopeB.ServiceProvider.GetRequiredService<ExchangeDbContext>().OutboxItems.Add(itemB);
            await workB.CommitAsync(Outcome.Background, CancellationToken.None);
        });

        // The second writer waits (a generous second: the check is that it has not landed, which a slow machine cannot fake).
        Assert.NotSame(writerB, await Task.WhenAny(writerB, Task.Delay(TimeSpan.FromSeconds(1))));
        Assert.Empty(await ToldAsync(council, cursor));

        await workA.CommitAsync(Outcome.Background, CancellationToken.None);
        await writerB.WaitAsync(TimeSpan.FromSeconds(30));
        var told = await ToldAsync(council, cursor);
        Assert.Equal([itemA.Id.ToString(), itemB.Id.ToString()], told.Where(id => id == itemA.Id.ToString() || id == itemB.Id.ToString()).ToArray());
    }
}

public sealed class SqliteOutboxOrderTests(ExchangeApiFactory api) : OutboxOrderTestsBase<ExchangeApiFactory>(api), IClassFixture<ExchangeApiFactory>;

public sealed class PostgresOutboxOrderTests : OutboxOrderTestsBase<PostgresApiFactory>, IClassFixture<PostgresApiFactory>
{
    public PostgresOutboxOrderTests(PostgresApiFactory api) : base(api) => Postgres.SkipUnlessAvailable();
}
