using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Exchange.Api.Tests.Infrastructure;
using Exchange.Api.Tests.RollCheck;

namespace Exchange.Api.Tests.Subscriptions;

/// <summary>
/// A subscription is told what the roles it was made with may be told, so only a caller holding every one of them
/// manages it (deletes it, rotates its secret, redelivers its letters): one with fewer roles gets 403, never 404, for a
/// subscription it can list; listing and reading stay organisation-wide; another organisation finds nothing.
/// </summary>
public abstract class SubscriptionRolesTestsBase<TFactory>(TFactory api) where TFactory : WebhookApiFactory
{
    private const string Url = "https://receiver.example.org/exchange";

    private HttpClient Council(string la, params string[] roles) => api.WithToken(api.Issuer.Token("la:" + la, roles), "attendance-monitoring");

    /// <summary>The managing calls, each of which a caller lacking a role is refused.</summary>
    private static (string Method, string Path)[] Managing(string id) =>
    [
        ("DELETE", $"/v1/subscriptions/{id}"),
        ("POST", $"/v1/subscriptions/{id}/dead-letters/{Guid.NewGuid()}/redeliver"),
        ("POST", $"/v1/subscriptions/{id}/secret"),
    ];

    private static Task<HttpResponseMessage> SendAsync(HttpClient client, (string Method, string Path) call) =>
        client.SendAsync(new HttpRequestMessage(new HttpMethod(call.Method), call.Path));

    [SkippableFact]
    public async Task OnlyACallerHoldingEveryRoleOfTheSubscriptionManagesIt()
    {
        var both = Council("202", "virtual-school", "social-worker");
        var (id, _) = await Receiver.SubscribeAsync(both, Url, "exclusion-recorded", "pupil-enrolled");
        var sealedSecret = (byte[])(await api.StoreScalarAsync($"""SELECT "SealedSecret" FROM subscriptions WHERE "Id" = '{id}'"""))!;

        foreach (var fewer in new[] { Council("202", "virtual-school"), Council("202", "social-worker") })
        {
            // It is the organisation's: each of its callers lists and reads it, and its dead letters (decided for the reader).
            Assert.Equal(HttpStatusCode.OK, (await fewer.GetAsync($"/v1/subscriptions/{id}")).StatusCode);
            Assert.Contains(id, await fewer.GetStringAsync("/v1/subscriptions?limit=200"), StringComparison.Ordinal);
            Assert.Equal(HttpStatusCode.OK, (await fewer.GetAsync($"/v1/subscriptions/{id}/dead-letters")).StatusCode);
            foreach (var call in Managing(id))
            {
                await Problem.AssertAsync(await SendAsync(fewer, call), HttpStatusCode.Forbidden, "subscription-roles-required");
            }
        }

        // Nothing was changed by the refusals, and each is in the audit log.
        Assert.Equal(sealedSecret, await api.StoreScalarAsync($"""SELECT "SealedSecret" FROM subscriptions WHERE "Id" = '{id}'"""));
        foreach (var action in new[] { "subscription.delete", "subscription.redeliver", "subscription.rotate-secret" })
        {
            var refused = await api.EventsOfAsync("org=la:202&decision=deny", action);
            Assert.Contains(refused, e => e.GetProperty("status").GetInt32() == 403);
        }

        // Another organisation, whatever its roles, does not learn it exists.
        var other = Council("209", "virtual-school", "social-worker");
        await Problem.AssertAsync(await other.GetAsync($"/v1/subscriptions/{id}"), HttpStatusCode.NotFound, "subscription-not-found");
        foreach (var call in Managing(id))
        {
            await Problem.AssertAsync(await SendAsync(other, call), HttpStatusCode.NotFound, "subscription-not-found");
        }

        // A caller with all of them (more is no matter) gets past the rule: no such letter, a new secret, then the subscription goes.
        var all = Council("202", "social-worker", "virtual-school", "dpo");
        var (_, redeliver) = Managing(id)[1];
        await Problem.AssertAsync(await all.PostAsync(redeliver, null), HttpStatusCode.NotFound, "dead-letter-not-found");
        Assert.Equal(HttpStatusCode.OK, (await all.PostAsync($"/v1/subscriptions/{id}/secret", null)).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await all.DeleteAsync($"/v1/subscriptions/{id}")).StatusCode);
        Assert.Equal(0L, Convert.ToInt64(await api.StoreScalarAsync($"""SELECT COUNT(*) FROM subscriptions WHERE "Id" = '{id}'"""), System.Globalization.CultureInfo.InvariantCulture));
    }

    [SkippableFact]
    public async Task ASchoolsMisCannotManageItsDesignatedTeachersSubscription()
    {
        var (school, mis) = await api.NewSchoolAsync();
        var teacher = api.WithToken(api.Issuer.Token(school, ["designated-teacher"]), "pep-review");
        var (id, _) = await Receiver.SubscribeAsync(teacher, Url, "pep-submitted");

        // The MIS is told of other things (attendance, exclusions) than the teacher (PEPs): it may see the subscription, not end it.
        var listed = await mis.GetFromJsonAsync<JsonElement>("/v1/subscriptions");
        Assert.Contains(listed.GetProperty("items").EnumerateArray(), s => s.GetProperty("id").GetString() == id);
        await Problem.AssertAsync(await mis.DeleteAsync($"/v1/subscriptions/{id}"), HttpStatusCode.Forbidden, "subscription-roles-required");
        Assert.Equal(HttpStatusCode.NoContent, (await teacher.DeleteAsync($"/v1/subscriptions/{id}")).StatusCode);
    }
}

public sealed class SqliteSubscriptionRolesTests(WebhookApiFactory api) : SubscriptionRolesTestsBase<WebhookApiFactory>(api), IClassFixture<WebhookApiFactory>;

public sealed class PostgresSubscriptionRolesTests : SubscriptionRolesTestsBase<PostgresWebhookApiFactory>, IClassFixture<PostgresWebhookApiFactory>
{
    public PostgresSubscriptionRolesTests(PostgresWebhookApiFactory api) : base(api) => Postgres.SkipUnlessAvailable();
}
