using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Exchange.Api.Tests.Infrastructure;

namespace Exchange.Api.Tests.Keys;

/// <summary>Blind-index rotation: a new secret, then re-indexing from the sealed copies while lookups keep working.</summary>
public sealed class BlindIndexRotationTests(ExchangeApiFactory api) : IClassFixture<ExchangeApiFactory>
{
    [Fact]
    public async Task IdentifiersAreReindexedUnderANewSecretWhileTheyKeepResolving()
    {
        var nhs = new[] { "9990000220", "9990000239", "9990000247" };
        var ids = new List<string>();
        foreach (var n in nhs)
        {
            ids.Add(await Problem.ChildIdAsync(await api.Council202.RegisterAsync(new { nhsNumber = n }), HttpStatusCode.Created));
        }

        var created = await api.Admin.PostAsync("/v1/admin/keys/blind-index/versions", null);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var version = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("version").GetString()!;
        Assert.Matches("^v[2-9]$", version); // v2, or later if this class's other test made one first

        // Before re-indexing, old rows still resolve, and new identifiers go in under v2.
        Assert.Equal(ids[0], await Problem.ChildIdAsync(await api.Council209.ResolveAsync(new { nhsNumber = nhs[0] }), HttpStatusCode.OK));
        Assert.Equal(ids[1], await Problem.ChildIdAsync(await api.Council202.RegisterAsync(new { nhsNumber = nhs[1], upn = "B801200005001" }), HttpStatusCode.OK));
        var before = await api.Admin.GetFromJsonAsync<JsonElement>("/v1/admin/keys/blind-index");
        Assert.True(before.GetProperty("remaining").GetInt32() >= 3);
        Assert.Equal(version, before.GetProperty("currentVersion").GetString());
        Assert.Equal(1, before.GetProperty("rowsByVersion").GetProperty(version).GetInt32());

        for (var guard = 0; guard < 10; guard++)
        {
            var batch = await (await api.Admin.PostAsync("/v1/admin/keys/blind-index/reindex?batchSize=1", null)).Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal(ids[guard % 3], await Problem.ChildIdAsync(await api.Council209.ResolveAsync(new { nhsNumber = nhs[guard % 3] }), HttpStatusCode.OK));
            if (batch.GetProperty("remaining").GetInt32() == 0)
            {
                break;
            }
        }

        var after = await api.Admin.GetFromJsonAsync<JsonElement>("/v1/admin/keys/blind-index");
        Assert.Equal(0, after.GetProperty("remaining").GetInt32());
        Assert.Equal([version], after.GetProperty("rowsByVersion").EnumerateObject().Select(p => p.Name));

        // Everything still resolves, alone and together, and a conflict is still seen as one.
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(ids[i], await Problem.ChildIdAsync(await api.Council209.ResolveAsync(new { nhsNumber = nhs[i] }), HttpStatusCode.OK));
        }

        Assert.Equal(ids[1], await Problem.ChildIdAsync(await api.Council209.ResolveAsync(new { upn = "B801200005001" }), HttpStatusCode.OK));
        await Problem.AssertAsync(await api.Council209.ResolveAsync(new { nhsNumber = nhs[0], upn = "B801200005001" }), HttpStatusCode.Conflict, "identity-conflict");
        Assert.Equal(HttpStatusCode.Created, (await api.Council202.RegisterAsync(new { nhsNumber = "9990000255" })).StatusCode);
    }

    [Fact]
    public async Task KeysReindexVerbFinishesWhatTheServiceStarted()
    {
        await Problem.ChildIdAsync(await api.Council202.RegisterAsync(new { nhsNumber = "9990000263" }), HttpStatusCode.Created);
        Assert.Equal(HttpStatusCode.Created, (await api.Admin.PostAsync("/v1/admin/keys/blind-index/versions", null)).StatusCode);

        var run = await ApiProcess.RunAsync(new Dictionary<string, string>
        {
            ["Exchange__DataDirectory"] = api.DataDirectory,
            ["Serilog__MinimumLevel__Default"] = "Warning",
        }, "keys", "reindex", "--batch", "2");
        var output = run.All;
        Assert.True(run.ExitCode == 0, output);
        Assert.Contains("0 identifier(s) on older versions", output, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await api.Council209.ResolveAsync(new { nhsNumber = "9990000263" })).StatusCode);
    }

    [Fact]
    public async Task ReindexRejectsABadBatchSize() =>
        await Problem.AssertAsync(await api.Admin.PostAsync("/v1/admin/keys/blind-index/reindex?batchSize=0", null), HttpStatusCode.BadRequest, "validation-failed");
}
