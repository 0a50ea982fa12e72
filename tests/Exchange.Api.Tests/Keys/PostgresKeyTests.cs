using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Exchange.Api.Tests.Infrastructure;
using Npgsql;

namespace Exchange.Api.Tests.Keys;

/// <summary>
/// Erasure, KEK rotation and blind-index re-indexing on PostgreSQL, where writers are not
/// serialised in-process. The data-key cache is off, so every read unwraps what is stored.
/// </summary>
public sealed class PostgresKeyTests : IClassFixture<PostgresKeyTests.Factory>
{
    public sealed class Factory : ExchangeApiFactory
    {
        public Factory() : base(StorageKind.Postgres) => Settings["Exchange:Keys:CacheTimeToLiveSeconds"] = "0";
    }

    private readonly Factory _api;

    public PostgresKeyTests(Factory api)
    {
        Postgres.SkipUnlessAvailable();
        _api = api;
    }

    private HttpClient Dpo => _api.WithToken(_api.Issuer.Token("operator:exchange", "dpo"), "subject-access");

    [SkippableFact]
    public async Task ErasureLeavesATombstoneAndNothingToFind()
    {
        var childId = await Problem.ChildIdAsync(await _api.Council202.RegisterAsync(new { nhsNumber = "9990000301" }), HttpStatusCode.Created);
        Assert.Equal(HttpStatusCode.OK, (await Dpo.PostAsync($"/v1/children/{childId}/erase", null)).StatusCode);

        Assert.Equal(0L, await ScalarAsync<long>($"SELECT COUNT(*) FROM data_keys WHERE \"OwnerId\" = '{childId}' AND (\"ErasedAt\" IS NULL OR length(\"WrappedKey\") > 0)"));
        Assert.Equal(1L, await ScalarAsync<long>($"SELECT COUNT(*) FROM data_keys WHERE \"OwnerId\" = '{childId}'"));
        Assert.Equal(0L, await ScalarAsync<long>($"SELECT COUNT(*) FROM child_identifiers WHERE \"ChildId\" = '{childId}'"));
        await Problem.AssertAsync(await _api.Council202.GetAsync($"/v1/children/{childId}"), HttpStatusCode.Gone, "child-erased");
        await Problem.AssertAsync(await _api.Council209.ResolveAsync(new { nhsNumber = "9990000301" }), HttpStatusCode.NotFound, "child-not-found");
        Assert.NotEqual(childId, await Problem.ChildIdAsync(await _api.Council202.RegisterAsync(new { nhsNumber = "9990000301" }), HttpStatusCode.Created));
    }

    [SkippableFact]
    public async Task KekRotationAndReindexingKeepEverythingReadable()
    {
        var nhs = new[] { "9990000328", "9990000336" };
        var ids = new List<string>();
        foreach (var n in nhs)
        {
            ids.Add(await Problem.ChildIdAsync(await _api.Council202.RegisterAsync(new { nhsNumber = n }), HttpStatusCode.Created));
        }

        Assert.Equal(HttpStatusCode.Created, (await _api.Admin.PostAsync("/v1/admin/keys/kek-versions", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await _api.Admin.PostAsync("/v1/admin/keys/blind-index/versions", null)).StatusCode);
        for (var i = 0; i < 20; i++)
        {
            var keys = await (await _api.Admin.PostAsync("/v1/admin/keys/rotate?batchSize=1", null)).Content.ReadFromJsonAsync<JsonElement>();
            var index = await (await _api.Admin.PostAsync("/v1/admin/keys/blind-index/reindex?batchSize=1", null)).Content.ReadFromJsonAsync<JsonElement>();
            if (keys.GetProperty("remaining").GetInt32() == 0 && index.GetProperty("remaining").GetInt32() == 0)
            {
                break;
            }
        }

        // Linking a UPN opens nothing but needs each child's key: it must unwrap under the new KEK.
        for (var i = 0; i < nhs.Length; i++)
        {
            Assert.Equal(ids[i], await Problem.ChildIdAsync(await _api.Council209.ResolveAsync(new { nhsNumber = nhs[i] }), HttpStatusCode.OK));
        }

        Assert.Equal(ids[0], await Problem.ChildIdAsync(await _api.Council202.RegisterAsync(new { nhsNumber = nhs[0], upn = "B80120000500B" }), HttpStatusCode.OK));
        var report = await _api.Admin.GetFromJsonAsync<JsonElement>("/v1/admin/keys");
        Assert.Equal(0, report.GetProperty("remaining").GetInt32());
    }

    private async Task<T> ScalarAsync<T>(string sql)
    {
        await using var connection = new NpgsqlConnection(_api.PostgresConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync())!;
    }
}
