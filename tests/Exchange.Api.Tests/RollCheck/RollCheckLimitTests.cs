using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Exchange.Api.Tests.AuditReview;
using Exchange.Api.Tests.Infrastructure;

namespace Exchange.Api.Tests.RollCheck;

/// <summary>Roll-check limits small enough to reach in a test: two checks or ten pupils a day, an alert above three pupils.</summary>
public sealed class TightRollCheckLimitsApiFactory : ExchangeApiFactory
{
    public TightRollCheckLimitsApiFactory()
    {
        Settings["Exchange:RollCheck:ChecksPer24Hours"] = "2";
        Settings["Exchange:RollCheck:PupilsPer24Hours"] = "10";
        Settings["Exchange:RollCheck:AlertAbovePupils"] = "3";
    }
}

/// <summary>The per-school limits and the oversize alert: a roll is checked a few times a term, not a thousand times an hour.</summary>
public sealed class RollCheckLimitTests(TightRollCheckLimitsApiFactory api) : IClassFixture<TightRollCheckLimitsApiFactory>
{
    private readonly TightRollCheckLimitsApiFactory _api = api;

    private static object[] Pupils(int count) => Enumerable.Range(0, count).Select(_ => (object)new { upn = TestIdentifiers.NewUpn() }).ToArray();

    [Fact]
    public async Task ASchoolPastItsChecksForTheDayIsToldWhenToRetryAndTheRefusalIsAudited()
    {
        var (org, mis) = await _api.NewSchoolAsync();
        var (_, neighbour) = await _api.NewSchoolAsync();
        await mis.CheckRollAsync(Pupils(1));
        await mis.CheckRollAsync(Pupils(1));

        var refused = await mis.PostAsJsonAsync("/v1/schools/roll-check", new { pupils = Pupils(1) });

        await Problem.AssertAsync(refused, HttpStatusCode.TooManyRequests, "roll-check-limit");
        var retryAfter = int.Parse(refused.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(retryAfter, 23 * 3600, 24 * 3600);
        Assert.Contains(await _api.EventsOfAsync($"org={org}&decision=deny", "roll-check.run"), e => e.GetProperty("status").GetInt32() == 429);
        // The limit is the school's own: another school still checks.
        await neighbour.CheckRollAsync(Pupils(1));
    }

    [Fact]
    public async Task ASchoolPastItsPupilsForTheDayIsRefusedEvenWithChecksLeft()
    {
        var (_, mis) = await _api.NewSchoolAsync();
        await mis.CheckRollAsync(Pupils(3));

        await Problem.AssertAsync(await mis.PostAsJsonAsync("/v1/schools/roll-check", new { pupils = Pupils(8) }), HttpStatusCode.TooManyRequests, "roll-check-limit");
        await mis.CheckRollAsync(Pupils(7));
    }

    [Fact]
    public async Task ACheckLargerThanAnySchoolsRollRaisesAnAlertForTheSchoolsDpoAndTheOperators()
    {
        var (org, mis) = await _api.NewSchoolAsync();
        await mis.CheckRollAsync(Pupils(3));
        Assert.DoesNotContain(await AlertsAsync("operator:exchange"), a => a.GetProperty("organisation").GetString() == org);

        await mis.CheckRollAsync(Pupils(4));

        foreach (var dpo in new[] { "operator:exchange", org })
        {
            var alert = Assert.Single(await AlertsAsync(dpo), a => a.GetProperty("organisation").GetString() == org);
            Assert.Equal("roll-check-oversize", alert.GetProperty("kind").GetString());
            Assert.Equal(JsonValueKind.Null, alert.GetProperty("childId").ValueKind);
            Assert.Equal([org], alert.GetProperty("organisations").EnumerateArray().Select(o => o.GetString()));
        }

        Assert.DoesNotContain(await AlertsAsync("la:202"), a => a.GetProperty("organisation").GetString() == org);
    }

    private async Task<List<JsonElement>> AlertsAsync(string dpoOrg)
    {
        var response = await _api.DpoOf(dpoOrg).GetAsync("/v1/audit/alerts?limit=200");
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        return JsonDocument.Parse(body).RootElement.GetProperty("items").EnumerateArray().Select(a => a.Clone()).ToList();
    }
}
