using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Exchange.Api.Tests.Infrastructure;
using Microsoft.Data.Sqlite;

namespace Exchange.Api.Tests.Keys;

/// <summary>Crypto-shredding through the API: the exchange DPO erases a child; nothing of it can be read or found again.</summary>
public sealed class ErasureTests(ExchangeApiFactory api) : IClassFixture<ExchangeApiFactory>
{
    private HttpClient Dpo => api.WithToken(api.Issuer.Token("operator:exchange", "dpo"), "subject-access");

    [Fact]
    public async Task ErasedChildCannotBeFoundReadOrDecrypted()
    {
        const string nhs = "9990000093";
        var childId = await Problem.ChildIdAsync(await api.Council202.RegisterAsync(new { nhsNumber = nhs, upn = "B801200005001" }), HttpStatusCode.Created);
        Assert.Equal(1L, Count($"SELECT COUNT(*) FROM data_keys WHERE OwnerId = '{childId}'"));

        var erase = await Dpo.PostAsync($"/v1/children/{childId}/erase", null);
        Assert.Equal(HttpStatusCode.OK, erase.StatusCode);
        var erased = await erase.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(childId, erased.GetProperty("childId").GetString());

        // The data key and the identifiers (blind indexes and sealed copies) are gone from the database.
        Assert.Equal(0L, Count($"SELECT COUNT(*) FROM data_keys WHERE OwnerId = '{childId}'"));
        Assert.Equal(0L, Count($"SELECT COUNT(*) FROM child_identifiers WHERE ChildId = '{childId}'"));

        // The id answers 410; the identifiers no longer resolve; registering them again makes a new child.
        await Problem.AssertAsync(await api.Council202.GetAsync($"/v1/children/{childId}"), HttpStatusCode.Gone, "child-erased");
        await Problem.AssertAsync(await api.School202.ResolveAsync(new { nhsNumber = nhs }), HttpStatusCode.NotFound, "child-not-found");
        var again = await Problem.ChildIdAsync(await api.Council202.RegisterAsync(new { nhsNumber = nhs }), HttpStatusCode.Created);
        Assert.NotEqual(childId, again);

        // Erasing again is idempotent.
        Assert.Equal(HttpStatusCode.OK, (await Dpo.PostAsync($"/v1/children/{childId}/erase", null)).StatusCode);
    }

    [Fact]
    public async Task OnlyTheExchangeDpoMayErase()
    {
        var childId = await Problem.ChildIdAsync(await api.Council202.RegisterAsync(new { nhsNumber = "9990000107" }), HttpStatusCode.Created);
        await Problem.AssertAsync(await api.WithToken(api.Issuer.Token("la:202", "dpo")).PostAsync($"/v1/children/{childId}/erase", null), HttpStatusCode.Forbidden, "forbidden");
        await Problem.AssertAsync(await api.Council202.PostAsync($"/v1/children/{childId}/erase", null), HttpStatusCode.Forbidden, "forbidden");
        await Problem.AssertAsync(await api.WithToken(api.Issuer.Token("operator:exchange", "exchange-admin")).PostAsync($"/v1/children/{childId}/erase", null), HttpStatusCode.Forbidden, "forbidden");
        await Problem.AssertAsync(await api.WithToken(api.Issuer.Token("operator:exchange", "dpo"), purpose: null).PostAsync($"/v1/children/{childId}/erase", null),
            HttpStatusCode.BadRequest, "purpose-of-use-missing");
        await Problem.AssertAsync(await Dpo.PostAsync("/v1/children/ch_00000000000000000000000000/erase", null), HttpStatusCode.NotFound, "child-not-found");
        Assert.Equal(HttpStatusCode.OK, (await api.Council202.GetAsync($"/v1/children/{childId}")).StatusCode);
    }

    [Fact]
    public async Task ClosingAReviewErasesTheCopiesOfTheIdentifiersItHeld()
    {
        await api.Council202.RegisterAsync(new { nhsNumber = "9990000115" });
        await api.Council202.RegisterAsync(new { upn = "M80120000500A" });
        var reviewId = (await Problem.AssertAsync(await api.School202.ResolveAsync(new { nhsNumber = "9990000115", upn = "M80120000500A" }), HttpStatusCode.Conflict, "identity-conflict"))
            .GetProperty("reviewId").GetString();
        Assert.Equal(1L, Count($"SELECT COUNT(*) FROM data_keys WHERE OwnerId = '{reviewId}'"));

        Assert.Equal(HttpStatusCode.OK, (await api.Admin.PostAsync($"/v1/identity-reviews/{reviewId}/dismiss", null)).StatusCode);
        Assert.Equal(0L, Count($"SELECT COUNT(*) FROM data_keys WHERE OwnerId = '{reviewId}'"));
    }

    private long Count(string sql)
    {
        using var connection = new SqliteConnection($"Data Source={api.SqliteFile};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return (long)command.ExecuteScalar()!;
    }
}
