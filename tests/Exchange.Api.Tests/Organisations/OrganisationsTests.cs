using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Exchange.Api.Tests.Infrastructure;

namespace Exchange.Api.Tests.Organisations;

public sealed class OrganisationsTests(ExchangeApiFactory api) : IClassFixture<ExchangeApiFactory>
{
    [Fact]
    public async Task DemoOrganisationsAreSeededIntoTheEmptyDatabase()
    {
        var page = await api.Admin.GetFromJsonAsync<JsonElement>("/v1/organisations?limit=200");
        var ids = page.GetProperty("items").EnumerateArray().Select(o => o.GetProperty("id").GetString()).ToList();
        foreach (var seeded in new[] { "health:ZZ901", "la:202", "la:209", "operator:exchange", "school:100001", "school:100002" })
        {
            Assert.Contains(seeded, ids);
        }
    }

    [Fact]
    public async Task AdminRegistersASchoolAndARetryIsIdempotent()
    {
        var school = new { id = "school:123456", name = "Test Academy", laNumber = "209" };
        var created = await api.Admin.PostAsJsonAsync("/v1/organisations", school);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal("/v1/organisations/school:123456", created.Headers.Location?.ToString());
        Assert.Equal(HttpStatusCode.OK, (await api.Admin.PostAsJsonAsync("/v1/organisations", school)).StatusCode);
        await Problem.AssertAsync(await api.Admin.PostAsJsonAsync("/v1/organisations", school with { name = "Another name" }), HttpStatusCode.Conflict, "organisation-exists");

        var view = await api.Admin.GetFromJsonAsync<JsonElement>("/v1/organisations/school:123456");
        Assert.Equal("school", view.GetProperty("kind").GetString());
        Assert.Equal("209", view.GetProperty("laNumber").GetString());
        Assert.True(view.GetProperty("active").GetBoolean());

        // The new school can use the exchange at once.
        Assert.Equal(HttpStatusCode.NotFound, (await api.ClientFor("school:123456", "school-mis").ResolveAsync(new { nhsNumber = "9990000085" })).StatusCode);
    }

    [Theory]
    [InlineData("school:12345", "X", "202", "organisation-id-format")]
    [InlineData("la:20", "X", null, "organisation-id-format")]
    [InlineData("health:rke", "X", null, "organisation-id-format")]
    [InlineData("operator:other", "X", null, "organisation-id-format")]
    [InlineData("school:654321", "", "202", "organisation-name")]
    [InlineData("school:654321", "X", null, "school-la-number")]
    [InlineData("school:654321", "X", "999", "school-la-number")]
    [InlineData("health:RKE", "X", "202", "school-la-number")]
    [InlineData("la:210", "X", "202", "school-la-number")]
    [InlineData("la:555\n", "X", null, "organisation-id-format")]
    [InlineData("school:123456\n", "X", "202", "organisation-id-format")]
    public async Task BadOrganisationsAreRejected(string id, string name, string? laNumber, string code)
    {
        // A null laNumber is left out: requests never carry an explicit null.
        object body = laNumber is null ? new { id, name } : new { id, name, laNumber };
        var response = await api.Admin.PostAsJsonAsync("/v1/organisations", body);
        await Problem.AssertAsync(response, HttpStatusCode.BadRequest, code);
        Assert.Equal(HttpStatusCode.NotFound, (await api.Admin.GetAsync($"/v1/organisations/{Uri.EscapeDataString(id.Trim())}")).StatusCode);
    }

    [Fact]
    public async Task OrganisationListPagesWithACursor()
    {
        var first = await api.Admin.GetFromJsonAsync<JsonElement>("/v1/organisations?limit=2");
        Assert.Equal(2, first.GetProperty("items").GetArrayLength());
        var cursor = first.GetProperty("nextCursor").GetString();
        var second = await api.Admin.GetFromJsonAsync<JsonElement>($"/v1/organisations?limit=2&cursor={cursor}");
        var firstIds = first.GetProperty("items").EnumerateArray().Select(o => o.GetProperty("id").GetString());
        var secondIds = second.GetProperty("items").EnumerateArray().Select(o => o.GetProperty("id").GetString());
        Assert.Empty(firstIds.Intersect(secondIds));
        await Problem.AssertAsync(await api.Admin.GetAsync("/v1/organisations?cursor=garbage!"), HttpStatusCode.BadRequest, "cursor-invalid");
        await Problem.AssertAsync(await api.Admin.GetAsync("/v1/organisations?limit=0"), HttpStatusCode.BadRequest, "limit-invalid");
    }

    [Fact]
    public async Task OperatorCannotBeDeactivatedAndUnknownOrganisationsAre404()
    {
        await Problem.AssertAsync(await api.Admin.PostAsync("/v1/organisations/operator:exchange/deactivate", null), HttpStatusCode.Conflict, "operator-immutable");
        await Problem.AssertAsync(await api.Admin.PostAsync("/v1/organisations/la:777/deactivate", null), HttpStatusCode.NotFound, "organisation-not-found");
    }

    [Fact]
    public async Task OnlyTheExchangeAdminManagesOrganisations()
    {
        var response = await api.ClientFor("la:202", "virtual-school").PostAsJsonAsync("/v1/organisations", new { id = "la:211", name = "X" });
        await Problem.AssertAsync(response, HttpStatusCode.Forbidden, "forbidden");
    }
}
