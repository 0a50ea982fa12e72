using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Exchange.Api.Subscriptions;
using Exchange.Api.Tests.Infrastructure;
using Exchange.Api.Tests.RollCheck;
using Exchange.Crypto.Sealing;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using StandardWebhooks;
using StandardWebhooks.Diagnostics;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;

namespace Exchange.Api.Tests.Subscriptions;

/// <summary>
/// Rotating a subscription's secret as Standard Webhooks does it without downtime: the new secret shown once; for 24
/// hours every delivery signed with it and with the one it replaced, so a receiver holding either verifies it; then with
/// the new one only, the old one deleted; never more than two; both shredded with the subscription. Own fixture: it moves
/// the clock a day on.
/// </summary>
public abstract class SecretRotationTestsBase<TFactory>(TFactory api) where TFactory : WebhookApiFactory
{
    private readonly string _hook = Receiver.NewPath();

    private HttpClient Council() => api.WithToken(api.Issuer.Token("la:202", ["virtual-school"]), "attendance-monitoring");

    private WireMockServer Receiver200()
    {
        var receiver = WireMockServer.Start();
        receiver.Given(Request.Create().WithPath(_hook).UsingPost()).RespondWith(Response.Create().WithStatusCode(204));
        return receiver;
    }

    /// <summary>A new pupil of a new school, suspended today: one exclusion-recorded item about it.</summary>
    private async Task<string> SuspendedPupilAsync()
    {
        var (_, mis, child) = await api.EnrolledPupilAsync();
        Assert.Equal(HttpStatusCode.Created, (await mis.PostAsJsonAsync($"/v1/children/{child}/exclusions",
            new { type = "suspension", startDate = RollCheckSupport.Today, sessions = 1, reasonCode = "DB" })).StatusCode);
        return child;
    }

    private async Task<JsonElement> RotateAsync(string id)
    {
        var response = await Council().PostAsync($"/v1/subscriptions/{id}/secret", null);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        return JsonDocument.Parse(text).RootElement;
    }

    private Task<object?> StoredAsync(string column, string id) =>
        api.StoreScalarAsync($"""SELECT "{column}" FROM subscriptions WHERE "Id" = '{id}'""");

    private static string[] Signatures(Receiver.Delivery delivery) => delivery.Signature.Split(' ');

    private static HeaderDictionary Headers(Receiver.Delivery delivery, string signature) => new()
    {
        ["webhook-id"] = delivery.Id,
        ["webhook-timestamp"] = delivery.Timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["webhook-signature"] = signature,
    };

    /// <summary>
    /// How many of the header's signatures the StandardWebhooks package verifies with <paramref name="secret"/>, each
    /// handed to it alone: given several, version 1.1.2 of the package compares the last one wrongly (it takes the whole
    /// header for it), so a receiver on it that must accept both secrets checks each signature this way.
    /// </summary>
    private static int LibraryVerifies(Receiver.Delivery delivery, string secret) => Signatures(delivery).Count(signature =>
    {
        try
        {
            new StandardWebhook(secret).Verify(delivery.Body, Headers(delivery, signature));
            return true;
        }
        catch (WebhookVerificationException)
        {
            return false;
        }
    });

    [SkippableFact]
    public async Task DuringTheGracePeriodDeliveriesVerifyWithTheOldSecretAndTheNewAndAfterItOnlyWithTheNew()
    {
        api.Time.Offset = TimeSpan.Zero;
        using var receiver = Receiver200();
        var (id, old) = await Receiver.SubscribeAsync(Council(), receiver.Url + _hook, "exclusion-recorded");
        var before = await SuspendedPupilAsync();
        await api.DeliverAsync();
        Assert.Single(Signatures(Assert.Single(Receiver.About(receiver, before, _hook))));

        var rotated = await RotateAsync(id);
        var secret = rotated.GetProperty("secret").GetString()!;
        Assert.StartsWith("whsec_", secret, StringComparison.Ordinal);
        Assert.Equal(32, Convert.FromBase64String(secret["whsec_".Length..]).Length);
        Assert.NotEqual(old, secret);
        Assert.Equal(id, rotated.GetProperty("id").GetString());
        Assert.Equal(["virtual-school"], rotated.GetProperty("roles").EnumerateArray().Select(r => r.GetString()!).ToArray());
        // The grace period: Exchange:Webhooks:RotationGracePeriod, a day unless configured.
        var until = rotated.GetProperty("previousSecretUntil").GetDateTimeOffset();
        Assert.InRange(until - api.Time.GetUtcNow(), TimeSpan.FromHours(24) - TimeSpan.FromMinutes(1), TimeSpan.FromHours(24));

        // During it: both signatures, the new one first; a receiver holding either secret verifies the delivery.
        var during = await SuspendedPupilAsync();
        await api.DeliverAsync();
        var delivery = Assert.Single(Receiver.About(receiver, during, _hook));
        Assert.Equal(2, Signatures(delivery).Length);
        Assert.True(Receiver.Verifies(delivery, secret, api.Time.GetUtcNow()));
        Assert.True(Receiver.Verifies(delivery, old, api.Time.GetUtcNow()));
        new StandardWebhook(secret).Verify(delivery.Body, Headers(delivery, delivery.Signature)); // the header as sent
        new StandardWebhook(secret).Verify(delivery.Body, Headers(delivery, Signatures(delivery)[0]));
        Assert.Equal(1, LibraryVerifies(delivery, secret));
        Assert.Equal(1, LibraryVerifies(delivery, old));
        Assert.Equal(0, LibraryVerifies(delivery, "whsec_" + Convert.ToBase64String(new byte[32])));
        Assert.Equal(until, (await Council().GetFromJsonAsync<JsonElement>($"/v1/subscriptions/{id}")).GetProperty("previousSecretUntil").GetDateTimeOffset());

        // Near its end, still both (the receiver's clock moves with the service's: the library reads the real one).
        api.Time.Offset = TimeSpan.FromHours(23);
        var late = await SuspendedPupilAsync();
        await api.DeliverAsync();
        var lateDelivery = Assert.Single(Receiver.About(receiver, late, _hook));
        Assert.True(Receiver.Verifies(lateDelivery, secret, api.Time.GetUtcNow()));
        Assert.True(Receiver.Verifies(lateDelivery, old, api.Time.GetUtcNow()));

        // After it: the new secret alone signs, and the replaced one is deleted from the row.
        api.Time.Offset = TimeSpan.FromHours(24) + TimeSpan.FromMinutes(1);
        var after = await SuspendedPupilAsync();
        await api.DeliverAsync();
        var afterDelivery = Assert.Single(Receiver.About(receiver, after, _hook));
        Assert.Single(Signatures(afterDelivery));
        Assert.True(Receiver.Verifies(afterDelivery, secret, api.Time.GetUtcNow()));
        Assert.False(Receiver.Verifies(afterDelivery, old, api.Time.GetUtcNow()));
        Assert.True(await StoredAsync("SealedPreviousSecret", id) is null or DBNull);
        Assert.True(await StoredAsync("PreviousSecretUntil", id) is null or DBNull);
        Assert.Equal(JsonValueKind.Null, (await Council().GetFromJsonAsync<JsonElement>($"/v1/subscriptions/{id}")).GetProperty("previousSecretUntil").ValueKind);
        Assert.Equal(HttpStatusCode.NoContent, (await Council().DeleteAsync($"/v1/subscriptions/{id}")).StatusCode);
    }

    [SkippableFact]
    public async Task ARotationWithinTheGracePeriodKeepsOnlyTheTwoNewestSecrets()
    {
        api.Time.Offset = TimeSpan.Zero;
        using var receiver = Receiver200();
        var (id, first) = await Receiver.SubscribeAsync(Council(), receiver.Url + _hook, "exclusion-recorded");
        var second = (await RotateAsync(id)).GetProperty("secret").GetString()!;
        var third = await RotateAsync(id);

        var child = await SuspendedPupilAsync();
        await api.DeliverAsync();
        var delivery = Assert.Single(Receiver.About(receiver, child, _hook));
        Assert.Equal(2, Signatures(delivery).Length);
        Assert.True(Receiver.Verifies(delivery, third.GetProperty("secret").GetString()!, api.Time.GetUtcNow()));
        Assert.True(Receiver.Verifies(delivery, second, api.Time.GetUtcNow()));
        Assert.False(Receiver.Verifies(delivery, first, api.Time.GetUtcNow()));
        Assert.Equal(0, LibraryVerifies(delivery, first));
        // The grace period starts again with each rotation.
        Assert.InRange(third.GetProperty("previousSecretUntil").GetDateTimeOffset() - api.Time.GetUtcNow(), TimeSpan.FromHours(23.9), TimeSpan.FromHours(24));
        Assert.Equal(HttpStatusCode.NoContent, (await Council().DeleteAsync($"/v1/subscriptions/{id}")).StatusCode);
    }

    [SkippableFact]
    public async Task RotationsAtTheSameMomentEachGiveASecretThatSigns()
    {
        api.Time.Offset = TimeSpan.Zero;
        using var receiver = Receiver200();
        var (id, _) = await Receiver.SubscribeAsync(Council(), receiver.Url + _hook, "exclusion-recorded");
        // Each reads the row before the write gate; the one that commits second must not overwrite the first's secret
        // with the one both read as current (compare-and-set, then read again).
        var rotations = await Task.WhenAll(RotateAsync(id), RotateAsync(id));

        var child = await SuspendedPupilAsync();
        await api.DeliverAsync();
        var delivery = Assert.Single(Receiver.About(receiver, child, _hook));
        Assert.All(rotations, r => Assert.True(Receiver.Verifies(delivery, r.GetProperty("secret").GetString()!, api.Time.GetUtcNow())));
        Assert.Equal(HttpStatusCode.NoContent, (await Council().DeleteAsync($"/v1/subscriptions/{id}")).StatusCode);
    }

    [SkippableFact]
    public async Task TheNewSecretIsShownOnceAndKeptSealedWithTheOldOne()
    {
        api.Time.Offset = TimeSpan.Zero;
        var (id, old) = await Receiver.SubscribeAsync(Council(), "https://receiver.example.org/exchange", "pep-submitted");
        var secret = (await RotateAsync(id)).GetProperty("secret").GetString()!;

        var read = await Council().GetStringAsync($"/v1/subscriptions/{id}");
        Assert.False(JsonDocument.Parse(read).RootElement.TryGetProperty("secret", out _));
        Assert.DoesNotContain("whsec_", read, StringComparison.Ordinal);
        Assert.DoesNotContain("whsec_", await Council().GetStringAsync("/v1/subscriptions?limit=200"), StringComparison.Ordinal);

        // Neither secret is in the row in plain text: each is sealed, under a place of its own.
        foreach (var column in new[] { "SealedSecret", "SealedPreviousSecret" })
        {
            var stored = (byte[])(await StoredAsync(column, id))!;
            foreach (var key in new[] { secret, old }.Select(s => Convert.FromBase64String(s["whsec_".Length..])))
            {
                Assert.True(stored.AsSpan().IndexOf(key) < 0, column);
                Assert.True(stored.AsSpan().IndexOf(System.Text.Encoding.ASCII.GetBytes(Convert.ToBase64String(key))) < 0, column);
            }
        }

        using var scope = api.Services.CreateScope();
        var sealer = scope.ServiceProvider.GetRequiredService<FieldSealer>();
        var previous = (byte[])(await StoredAsync("SealedPreviousSecret", id))!;
        Assert.Equal(new OpenedField.Opened(old), await sealer.OpenAsync(SecretRotation.PreviousSecretPlace(id), previous));
        await Assert.ThrowsAsync<Exchange.Crypto.SealedValueException>(() => sealer.OpenAsync(SubscriptionsApi.SecretPlace(id), previous));

        // Audited as the other writes: one event, permitted, answered 200.
        var events = (await api.EventsOfAsync("org=la:202", "subscription.rotate-secret")).Where(e => e.GetProperty("status").GetInt32() == 200).ToList();
        Assert.Contains(events, e => e.GetProperty("decision").GetString() == "permit");
        Assert.Equal(HttpStatusCode.NoContent, (await Council().DeleteAsync($"/v1/subscriptions/{id}")).StatusCode);
    }

    [SkippableFact]
    public async Task DeletingARotatedSubscriptionShredsBothSecrets()
    {
        api.Time.Offset = TimeSpan.Zero;
        var (id, old) = await Receiver.SubscribeAsync(Council(), "https://receiver.example.org/exchange", "pep-submitted");
        var secret = (await RotateAsync(id)).GetProperty("secret").GetString()!;
        var current = (byte[])(await StoredAsync("SealedSecret", id))!;
        var previous = (byte[])(await StoredAsync("SealedPreviousSecret", id))!;
        using (var before = api.Services.CreateScope())
        {
            var sealer = before.ServiceProvider.GetRequiredService<FieldSealer>();
            Assert.Equal(new OpenedField.Opened(secret), await sealer.OpenAsync(SubscriptionsApi.SecretPlace(id), current));
            Assert.Equal(new OpenedField.Opened(old), await sealer.OpenAsync(SecretRotation.PreviousSecretPlace(id), previous));
        }

        Assert.Equal(HttpStatusCode.NoContent, (await Council().DeleteAsync($"/v1/subscriptions/{id}")).StatusCode);
        Assert.False(await api.StoreScalarAsync($"""SELECT "ErasedAt" FROM data_keys WHERE "OwnerId" = '{id}'""") is null or DBNull);
        // A copy of the row (a backup) opens to nothing: both were under the key that went.
        using var after = api.Services.CreateScope();
        var shredded = after.ServiceProvider.GetRequiredService<FieldSealer>();
        Assert.IsType<OpenedField.Erased>(await shredded.OpenAsync(SubscriptionsApi.SecretPlace(id), current));
        Assert.IsType<OpenedField.Erased>(await shredded.OpenAsync(SecretRotation.PreviousSecretPlace(id), previous));
    }
}

public sealed class SqliteSecretRotationTests(WebhookApiFactory api) : SecretRotationTestsBase<WebhookApiFactory>(api), IClassFixture<WebhookApiFactory>;

public sealed class PostgresSecretRotationTests : SecretRotationTestsBase<PostgresWebhookApiFactory>, IClassFixture<PostgresWebhookApiFactory>
{
    public PostgresSecretRotationTests(PostgresWebhookApiFactory api) : base(api) => Postgres.SkipUnlessAvailable();
}
