using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Exchange.Api.Tests.Infrastructure;
using Exchange.Api.Tests.RollCheck;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;

namespace Exchange.Api.Tests.Subscriptions;

/// <summary>
/// A subscription is told what the roles it was made with may be told, so only a caller holding every one of them
/// manages it (deletes it, rotates its secret, redelivers its letters): one with fewer roles gets 403, never 404, for a
/// subscription it can list; listing and reading stay organisation-wide; another organisation finds nothing. Only the
/// maker's roles that may be told of events under its purpose count (others are not stored, and old rows holding them
/// are narrowed), and the organisation's DPO deletes any of its organisation's subscriptions, and does nothing else.
/// </summary>
public abstract class SubscriptionRolesTestsBase<TFactory>(TFactory api) where TFactory : WebhookApiFactory
{
    private const string Url = "https://receiver.example.org/exchange";

    private static int _nextLa = 400 + Random.Shared.Next(0, 150);

    private HttpClient Council(string la, params string[] roles) => api.WithToken(api.Issuer.Token("la:" + la, roles), "attendance-monitoring");

    /// <summary>The organisation's DPO, as it reviews (its purpose).</summary>
    private HttpClient Dpo(string org, string purpose = "audit-review") => api.WithToken(api.Issuer.Token(org, ["dpo"]), purpose);

    /// <summary>A council of the test's own, so its ten slots and its audit events are the test's alone.</summary>
    private async Task<string> NewCouncilAsync()
    {
        var la = Interlocked.Increment(ref _nextLa).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var created = await api.Admin.PostAsJsonAsync("/v1/organisations", new { id = "la:" + la, name = "Subscribing Council " + la, laNumber = la });
        Assert.True(created.StatusCode == HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
        return la;
    }

    private static IReadOnlyList<string> Roles(JsonElement subscription) =>
        subscription.GetProperty("roles").EnumerateArray().Select(r => r.GetString()!).ToList();

    private async Task<string?> StoredRolesAsync(string id) => (string?)await api.StoreScalarAsync($"""SELECT "Roles" FROM subscriptions WHERE "Id" = '{id}'""");

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

    [SkippableFact]
    public async Task ARoleThatIsToldOfNoEventsIsNotStoredSoItCannotLockTheVirtualSchoolOutOfItsSlots()
    {
        var la = await NewCouncilAsync();
        // A token with an extra role that has no rule for events (here its DPO's) fills the council's ten slots.
        var extra = Council(la, "virtual-school", "dpo");
        var made = new List<string>();
        for (var i = 0; i < 10; i++)
        {
            var created = await extra.PostAsJsonAsync("/v1/subscriptions", new { url = $"{Url}/{i}", eventTypes = new[] { "pupil-enrolled" } });
            var body = await created.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            Assert.Equal(["virtual-school"], Roles(body));
            made.Add(body.GetProperty("id").GetString()!);
        }

        Assert.Equal("virtual-school", await StoredRolesAsync(made[0]));
        var school = Council(la, "virtual-school");
        await Problem.AssertAsync(await school.PostAsJsonAsync("/v1/subscriptions", new { url = Url, eventTypes = new[] { "pupil-enrolled" } }),
            HttpStatusCode.Conflict, "subscription-limit");
        Assert.Equal(["virtual-school"], Roles(await school.GetFromJsonAsync<JsonElement>($"/v1/subscriptions/{made[0]}")));

        // The virtual school holds every role the subscriptions are decided for: it deletes one, and subscribes again.
        Assert.Equal(HttpStatusCode.NoContent, (await school.DeleteAsync($"/v1/subscriptions/{made[0]}")).StatusCode);
        await Receiver.SubscribeAsync(school, Url, "pupil-enrolled");
        Assert.Contains(await api.EventsOfAsync($"org=la:{la}&decision=permit", "subscription.delete"), e => e.GetProperty("status").GetInt32() == 204);
    }

    [SkippableFact]
    public async Task ARoleThatIsToldOfNoEventsUnderThePurposeIsNotStoredEither()
    {
        // The school's MIS is told of events for attendance monitoring only: a teacher's token that also carries it,
        // subscribing for PEP review, makes a subscription the designated teacher alone manages.
        var (school, mis) = await api.NewSchoolAsync();
        var both = api.WithToken(api.Issuer.Token(school, ["designated-teacher", "school-mis"]), "pep-review");
        var teacher = api.WithToken(api.Issuer.Token(school, ["designated-teacher"]), "pep-review");
        var created = await both.PostAsJsonAsync("/v1/subscriptions", new { url = Url, eventTypes = new[] { "pep-submitted" } });
        var body = await created.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal(["designated-teacher"], Roles(body));
        var id = body.GetProperty("id").GetString()!;
        Assert.Equal("designated-teacher", await StoredRolesAsync(id));

        // The MIS alone still may not end it (it is told of other things than the teacher).
        await Problem.AssertAsync(await mis.DeleteAsync($"/v1/subscriptions/{id}"), HttpStatusCode.Forbidden, "subscription-roles-required");
        Assert.Equal(HttpStatusCode.NoContent, (await teacher.DeleteAsync($"/v1/subscriptions/{id}")).StatusCode);
    }

    [SkippableFact]
    public async Task ASubscriptionStoredWithEveryRoleOfItsMakerIsNarrowedToTheRolesToldOfEvents()
    {
        // A row made before only the roles told of events were stored: it held every role of the token.
        api.Time.Offset = TimeSpan.Zero;
        var hook = Receiver.NewPath();
        using var receiver = WireMockServer.Start();
        receiver.Given(Request.Create().WithPath(hook).UsingPost()).RespondWith(Response.Create().WithStatusCode(204));
        var school = Council("202", "virtual-school");
        var (id, _) = await Receiver.SubscribeAsync(school, receiver.Url + hook, "pupil-enrolled");
        await api.StoreScalarAsync($"""UPDATE subscriptions SET "Roles" = 'dpo virtual-school' WHERE "Id" = '{id}'""");
        Assert.Equal("dpo virtual-school", await StoredRolesAsync(id));

        // It is shown, delivered and managed with the roles that may be told of events: the virtual school manages it.
        Assert.Equal(["virtual-school"], Roles(await school.GetFromJsonAsync<JsonElement>($"/v1/subscriptions/{id}")));
        var (_, _, child) = await api.EnrolledPupilAsync();
        await api.DeliverAsync();
        Assert.Single(Receiver.About(receiver, child, hook));
        var delivered = Assert.Single(await api.EventsOfAsync($"childId={child}", "webhook.deliver"),
            e => e.GetProperty("actor").GetProperty("sub").GetString() == "webhook:" + id);
        Assert.Equal(["virtual-school"], Roles(delivered.GetProperty("actor")));
        Assert.Equal(HttpStatusCode.OK, (await school.PostAsync($"/v1/subscriptions/{id}/secret", null)).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await school.DeleteAsync($"/v1/subscriptions/{id}")).StatusCode);
    }

    [SkippableFact]
    public async Task TheOrganisationsDpoDeletesAnyOfItsSubscriptionsAndDoesNothingElseWithThem()
    {
        var la = await NewCouncilAsync();
        var (id, _) = await Receiver.SubscribeAsync(Council(la, "virtual-school", "social-worker"), Url, "exclusion-recorded");
        var sealedSecret = (byte[])(await api.StoreScalarAsync($"""SELECT "SealedSecret" FROM subscriptions WHERE "Id" = '{id}'"""))!;
        var dpo = Dpo("la:" + la);

        // It is told of no events: it neither rotates the secret nor redelivers (either would let it receive or steer
        // deliveries), nor reads the subscription or its dead letters.
        foreach (var call in Managing(id).Skip(1))
        {
            await Problem.AssertAsync(await SendAsync(dpo, call), HttpStatusCode.Forbidden, "forbidden");
        }

        await Problem.AssertAsync(await dpo.GetAsync($"/v1/subscriptions/{id}"), HttpStatusCode.Forbidden, "forbidden");
        await Problem.AssertAsync(await dpo.GetAsync($"/v1/subscriptions/{id}/dead-letters"), HttpStatusCode.Forbidden, "forbidden");
        await Problem.AssertAsync(await dpo.PostAsJsonAsync("/v1/subscriptions", new { url = Url, eventTypes = new[] { "exclusion-recorded" } }),
            HttpStatusCode.Forbidden, "forbidden");
        // It deletes as the DPO, reviewing: not under another purpose.
        await Problem.AssertAsync(await Dpo("la:" + la, "safeguarding").DeleteAsync($"/v1/subscriptions/{id}"), HttpStatusCode.Forbidden, "purpose-not-permitted");
        Assert.Equal(sealedSecret, await api.StoreScalarAsync($"""SELECT "SealedSecret" FROM subscriptions WHERE "Id" = '{id}'"""));

        // It deletes it, although it holds neither role the subscription was made with.
        Assert.Equal(HttpStatusCode.NoContent, (await dpo.DeleteAsync($"/v1/subscriptions/{id}")).StatusCode);
        Assert.Equal(0L, Convert.ToInt64(await api.StoreScalarAsync($"""SELECT COUNT(*) FROM subscriptions WHERE "Id" = '{id}'"""), System.Globalization.CultureInfo.InvariantCulture));
        await Problem.AssertAsync(await dpo.DeleteAsync($"/v1/subscriptions/{id}"), HttpStatusCode.NotFound, "subscription-not-found");

        // Every refusal is in the audit log, and the delete under the rule that permitted it.
        foreach (var action in new[] { "subscription.redeliver", "subscription.rotate-secret", "subscription.read", "subscription.dead-letters", "subscription.create" })
        {
            Assert.Contains(await api.EventsOfAsync($"org=la:{la}&decision=deny", action),
                e => e.GetProperty("status").GetInt32() == 403 && Roles(e.GetProperty("actor")).SequenceEqual(["dpo"]));
        }

        var deletes = await api.EventsOfAsync($"org=la:{la}", "subscription.delete");
        Assert.Contains(deletes, e => e.GetProperty("status").GetInt32() == 403 && e.GetProperty("purpose").GetString() == "safeguarding");
        Assert.Contains(deletes, e => e.GetProperty("status").GetInt32() == 404);
        var deleted = Assert.Single(deletes, e => e.GetProperty("status").GetInt32() == 204);
        Assert.Equal("permit", deleted.GetProperty("decision").GetString());
        Assert.Equal("dpo-subscription-removal", deleted.GetProperty("rule").GetString());
    }

    [SkippableFact]
    public async Task AnotherOrganisationsDpoAndTheOperatorFindNothingToDelete()
    {
        var la = await NewCouncilAsync();
        var (id, _) = await Receiver.SubscribeAsync(Council(la, "virtual-school"), Url, "pupil-enrolled");
        var otherLa = await NewCouncilAsync();

        // Another council's DPO, a school's, and the operator's own (it acts for the exchange, not in a council's place).
        var (school, _) = await api.NewSchoolAsync();
        foreach (var org in new[] { "la:" + otherLa, school, "operator:exchange" })
        {
            await Problem.AssertAsync(await Dpo(org).DeleteAsync($"/v1/subscriptions/{id}"), HttpStatusCode.NotFound, "subscription-not-found");
        }

        // The exchange admin has no rule for it at all.
        await Problem.AssertAsync(await api.WithToken(api.Issuer.Token("operator:exchange", ["exchange-admin"]), "audit-review").DeleteAsync($"/v1/subscriptions/{id}"),
            HttpStatusCode.Forbidden, "forbidden");
        Assert.Contains(await api.EventsOfAsync($"org=la:{otherLa}&decision=deny", "subscription.delete"), e => e.GetProperty("status").GetInt32() == 404);
        Assert.Contains(await api.EventsOfAsync($"org={school}&decision=deny", "subscription.delete"), e => e.GetProperty("status").GetInt32() == 404);

        // The subscription is still there for its own organisation.
        Assert.Equal(HttpStatusCode.OK, (await Council(la, "virtual-school").GetAsync($"/v1/subscriptions/{id}")).StatusCode);
    }
}

public sealed class SqliteSubscriptionRolesTests(WebhookApiFactory api) : SubscriptionRolesTestsBase<WebhookApiFactory>(api), IClassFixture<WebhookApiFactory>;

public sealed class PostgresSubscriptionRolesTests : SubscriptionRolesTestsBase<PostgresWebhookApiFactory>, IClassFixture<PostgresWebhookApiFactory>
{
    public PostgresSubscriptionRolesTests(PostgresWebhookApiFactory api) : base(api) => Postgres.SkipUnlessAvailable();
}
