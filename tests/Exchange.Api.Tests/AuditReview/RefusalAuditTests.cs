using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Exchange.Api.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace Exchange.Api.Tests.AuditReview;

/// <summary>Every refusal on an audited route leaves its event, and the events name the children they disclosed something about.</summary>
public sealed class RefusalAuditTests(ExchangeApiFactory api) : IClassFixture<ExchangeApiFactory>
{
    private HttpClient As(string subject, string org = "la:209", string role = "virtual-school") =>
        api.WithToken(api.Issuer.Mint(new TokenSpec(org, [role], Subject: subject)));

    private static int Status(JsonElement e) => e.GetProperty("status").GetInt32();

    [Fact]
    public async Task AWrongContentTypeOrAnOversizeBodyOnAnAuditedRouteLeavesADenyEvent()
    {
        var subject = "refusal-" + Guid.NewGuid().ToString("N")[..8];
        var client = As(subject);
        await Problem.AssertAsync(await client.PostAsync("/v1/identities/resolve", new StringContent("nhsNumber=9434765919", Encoding.UTF8, "application/x-www-form-urlencoded")),
            HttpStatusCode.UnsupportedMediaType, "unsupported-media-type");
        var oversize = "{\"identifiers\":{\"nhsNumber\":\"9434765919\"},\"pad\":\"" + new string('x', 1024 * 1024 + 10) + "\"}";
        await Problem.AssertAsync(await client.PostAsync("/v1/identities/resolve", new StringContent(oversize, Encoding.UTF8, "application/json")),
            HttpStatusCode.RequestEntityTooLarge, "payload-too-large");

        var events = await api.EventsAsync("sub=" + subject);
        Assert.Contains(events, e => Status(e) == 415 && e.GetProperty("action").GetString() == "identity.resolve" && e.GetProperty("decision").GetString() == "deny");
        var tooLarge = Assert.Single(events, e => Status(e) == 413);
        Assert.Equal("identity.resolve", tooLarge.GetProperty("action").GetString());
        Assert.Equal("la:209", tooLarge.GetProperty("actor").GetProperty("org").GetString());
    }

    [Fact]
    public async Task ACareEpisodeConflictEventNamesTheChildInAnotherCouncilsCare()
    {
        var nhs = TestIdentifiers.NewNhs();
        var childId = await Problem.ChildIdAsync(await api.Council202.RegisterAsync(new { nhsNumber = nhs }), HttpStatusCode.Created);
        await Problem.AssertAsync(await api.Council209.RegisterAsync(new { nhsNumber = nhs }), HttpStatusCode.Conflict, "care-episode-conflict");

        var events = await api.EventsAsync($"childId={childId}");
        var conflict = Assert.Single(events, e => e.GetProperty("action").GetString() == "child.register" && Status(e) == 409);
        Assert.Equal("la:209", conflict.GetProperty("actor").GetProperty("org").GetString());
    }

    [Fact]
    public async Task AnIdentityConflictLeavesAnEventForEachChildItConcerns()
    {
        var (nhs, upn) = (TestIdentifiers.NewNhs(), TestIdentifiers.NewUpn());
        var a = await Problem.ChildIdAsync(await api.Council202.RegisterAsync(new { nhsNumber = nhs }), HttpStatusCode.Created);
        var b = await Problem.ChildIdAsync(await api.Council202.RegisterAsync(new { upn }), HttpStatusCode.Created);
        await Problem.AssertAsync(await api.Council209.ResolveAsync(new { nhsNumber = nhs, upn }), HttpStatusCode.Conflict, "identity-conflict");
        await Problem.AssertAsync(await api.Council209.RegisterAsync(new { nhsNumber = nhs, upn }), HttpStatusCode.Conflict, "identity-conflict");

        foreach (var child in new[] { a, b })
        {
            var events = await api.EventsAsync($"childId={child}");
            Assert.Single(events, e => e.GetProperty("action").GetString() == "identity.resolve" && Status(e) == 409);
            Assert.Single(events, e => e.GetProperty("action").GetString() == "child.register" && Status(e) == 409);
        }

        // So each child's subject access export lists the disclosure.
        var export = await api.WithToken(api.Issuer.Token("operator:exchange", "dpo"), "subject-access").GetFromJsonAsync<JsonElement>($"/v1/children/{b}/subject-access-export");
        Assert.Contains(export.GetProperty("accessLog").EnumerateArray(), e => e.GetProperty("action").GetString() == "identity.resolve" && e.GetProperty("organisation").GetString() == "la:209");
    }

    [Fact]
    public async Task RegisteringAndDeactivatingAnOrganisationIsAuditedWithTheOrganisationItConcerns()
    {
        var subject = "admin-" + Guid.NewGuid().ToString("N")[..8];
        var admin = As(subject, "operator:exchange", "exchange-admin");
        Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync("/v1/organisations", new { id = "school:654321", name = "Audited Academy", laNumber = "209" })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync("/v1/organisations/school:654321/deactivate", null)).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await admin.PostAsJsonAsync("/v1/organisations", new { id = "school:1", name = "x" })).StatusCode);

        var events = await api.EventsAsync("sub=" + subject);
        var registered = Assert.Single(events, e => e.GetProperty("action").GetString() == "organisation.register" && Status(e) == 201);
        Assert.Equal("school:654321", registered.GetProperty("target_org").GetString());
        Assert.Equal("permit", registered.GetProperty("decision").GetString());
        var deactivated = Assert.Single(events, e => e.GetProperty("action").GetString() == "organisation.deactivate");
        Assert.Equal("school:654321", deactivated.GetProperty("target_org").GetString());
        Assert.Contains(events, e => e.GetProperty("action").GetString() == "organisation.register" && Status(e) == 400);
    }
}

/// <summary>Rate-limited requests are recorded, but a flood cannot grow the log without bound.</summary>
public sealed class RateLimitAuditTests(RateLimitAuditTests.LowLimitFactory api) : IClassFixture<RateLimitAuditTests.LowLimitFactory>
{
    public sealed class LowLimitFactory : ExchangeApiFactory
    {
        public const string AddressHeader = "X-Test-Remote-Address";

        public LowLimitFactory()
        {
            Settings["Exchange:Limits:RequestsPerMinute"] = "3";
            Settings["Exchange:Limits:UnauthenticatedRequestsPerMinute"] = "4";
        }

        // The test host has no network: a test header plays the caller's address, set before the service's pipeline.
        protected override void ConfigureTestServices(IServiceCollection services) =>
            services.AddSingleton<IStartupFilter, RemoteAddressFromHeader>();

        private sealed class RemoteAddressFromHeader : IStartupFilter
        {
            public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
            {
                app.Use((context, following) =>
                {
                    if (IPAddress.TryParse(context.Request.Headers[AddressHeader].ToString(), out var address))
                    {
                        context.Connection.RemoteIpAddress = address;
                    }

                    return following(context);
                });
                next(app);
            };
        }
    }

    [Fact]
    public async Task AClientOverItsLimitLeavesOne429EventPerWindowNotOnePerRequest()
    {
        var subject = "greedy-" + Guid.NewGuid().ToString("N")[..8];
        var greedy = api.WithToken(api.Issuer.Mint(new TokenSpec("la:209", ["virtual-school"], Subject: subject)));
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 8; i++)
        {
            statuses.Add((await greedy.ResolveAsync(new { nhsNumber = "9990000018" })).StatusCode);
        }

        Assert.Equal(3, statuses.Count(s => s == HttpStatusCode.NotFound));
        Assert.Equal(5, statuses.Count(s => s == HttpStatusCode.TooManyRequests));
        var events = await api.EventsAsync("sub=" + subject);
        // One per window of the log's clock; the limiter's own window may straddle two of them.
        var limited = events.Where(e => e.GetProperty("status").GetInt32() == 429).ToList();
        Assert.InRange(limited.Count, 1, 2);
        Assert.All(limited, e => Assert.Equal(("identity.resolve", "deny"), (e.GetProperty("action").GetString(), e.GetProperty("decision").GetString())));
    }

    [Fact]
    public async Task UnauthenticatedCallersAreLimitedTogetherBeforeTheyReachTheLog()
    {
        // Callers without a valid token, from any address: at most the unauthenticated limit per minute reach the
        // audit log as 401s, and the refusals beyond it leave one event per window (two if the limiter's window straddles two).
        var before = (await api.EventsAsync("decision=deny")).Count(e => e.GetProperty("actor").GetProperty("org").ValueKind == JsonValueKind.Null);
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 10; i++)
        {
            // Each from its own address, well under the per-address limit; half with a forged token.
            var stranger = api.WithToken(i % 2 == 0 ? null : "not-a-token");
            stranger.DefaultRequestHeaders.Add(LowLimitFactory.AddressHeader, $"203.0.113.{i + 1}");
            statuses.Add((await stranger.GetAsync("/v1/children/ch_0000000000000000000000000a")).StatusCode);
        }

        Assert.True(statuses.Count(s => s == HttpStatusCode.Unauthorized) <= 4, string.Join(",", statuses));
        Assert.Contains(HttpStatusCode.TooManyRequests, statuses);
        var after = (await api.EventsAsync("decision=deny")).Count(e => e.GetProperty("actor").GetProperty("org").ValueKind == JsonValueKind.Null);
        Assert.True(after - before <= 6, $"{after - before} events for 10 unauthenticated requests");
    }
}
