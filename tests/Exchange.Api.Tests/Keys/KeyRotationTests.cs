using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Exchange.Api.Tests.Infrastructure;
using Microsoft.Data.Sqlite;

namespace Exchange.Api.Tests.Keys;

/// <summary>KEK rotation by the admin endpoint and by the command-line verb, while the service keeps serving.</summary>
public sealed class KeyRotationTests(KeyRotationTests.NoCacheFactory api) : IClassFixture<KeyRotationTests.NoCacheFactory>
{
    /// <summary>No data-key cache: every read after a rotation really unwraps what the rotation wrote.</summary>
    public sealed class NoCacheFactory : ExchangeApiFactory
    {
        public NoCacheFactory() => Settings["Exchange:Keys:CacheTimeToLiveSeconds"] = "0";
    }

    [Fact]
    public async Task AdminRotatesDataKeysToANewKekVersionWhileReadsKeepWorking()
    {
        var nhs = new[] { "9990000123", "9990000131", "9990000158" };
        var upn = new[] { "B80120000500B", "P20212341500Z", "H209123425001" };
        var children = new List<string>();
        for (var i = 0; i < nhs.Length; i++)
        {
            children.Add(await Problem.ChildIdAsync(await api.Council202.RegisterAsync(new { nhsNumber = nhs[i] }), HttpStatusCode.Created));
        }

        var before = await api.Admin.GetFromJsonAsync<JsonElement>("/v1/admin/keys");
        Assert.Equal("Local", before.GetProperty("provider").GetString());
        Assert.False(before.GetProperty("productionGrade").GetBoolean());
        var oldKek = before.GetProperty("currentKek").GetString()!;

        var created = await api.Admin.PostAsync("/v1/admin/keys/kek-versions", null);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var newKek = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("kekKeyId").GetString()!;
        Assert.NotEqual(oldKek, newKek);

        // Old keys still unwrap before rotation: linking a UPN re-reads nothing, but a merge opens and re-seals.
        var report = await api.Admin.GetFromJsonAsync<JsonElement>("/v1/admin/keys");
        Assert.Equal(newKek, report.GetProperty("currentKek").GetString());
        Assert.True(report.GetProperty("remaining").GetInt32() >= 3);

        // Rotate in batches of one, with traffic in between.
        for (var guard = 0; guard < 100; guard++)
        {
            var batch = await api.Admin.PostAsync("/v1/admin/keys/rotate?batchSize=1", null);
            Assert.Equal(HttpStatusCode.OK, batch.StatusCode);
            var state = await batch.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal(HttpStatusCode.OK, (await api.Council209.ResolveAsync(new { nhsNumber = nhs[guard % 3] })).StatusCode);
            if (state.GetProperty("remaining").GetInt32() == 0)
            {
                break;
            }
        }

        var after = await api.Admin.GetFromJsonAsync<JsonElement>("/v1/admin/keys");
        Assert.Equal(0, after.GetProperty("remaining").GetInt32());
        Assert.False(after.GetProperty("keysByKek").TryGetProperty(oldKek, out _));

        // Sealed values written before rotation still open: a merge must open and re-seal them.
        for (var i = 0; i < 2; i++)
        {
            await api.Council202.RegisterAsync(new { upn = upn[i] });
        }

        var reviewId = (await Problem.AssertAsync(await api.Council209.ResolveAsync(new { nhsNumber = nhs[0], upn = upn[0] }), HttpStatusCode.Conflict, "identity-conflict"))
            .GetProperty("reviewId").GetString();
        Assert.Equal(HttpStatusCode.OK, (await api.Admin.PostAsJsonAsync($"/v1/identity-reviews/{reviewId}/merge", new { survivorChildId = children[0] })).StatusCode);
        Assert.Equal(children[0], await Problem.ChildIdAsync(await api.Council209.ResolveAsync(new { upn = upn[0] }), HttpStatusCode.OK));
    }

    [Fact]
    public async Task RotationRejectsABadBatchSizeAndOnlyTheAdminMayRotate()
    {
        await Problem.AssertAsync(await api.Admin.PostAsync("/v1/admin/keys/rotate?batchSize=0", null), HttpStatusCode.BadRequest, "validation-failed");
        await Problem.AssertAsync(await api.Council202.PostAsync("/v1/admin/keys/rotate", null), HttpStatusCode.Forbidden, "forbidden");
        await Problem.AssertAsync(await api.WithToken(api.Issuer.Token("operator:exchange", "dpo")).GetAsync("/v1/admin/keys"), HttpStatusCode.Forbidden, "forbidden");
    }

    [Fact]
    public async Task KeysVerbOfTheBuiltDllRotatesTheSameDatabase()
    {
        var childId = await Problem.ChildIdAsync(await api.Council202.RegisterAsync(new { nhsNumber = "9990000166" }), HttpStatusCode.Created);

        var (exit, output) = await RunVerbAsync("keys", "rotate", "--new-kek-version", "--batch", "2");
        Assert.True(exit == 0, output);
        Assert.Contains("new KEK version: local:exchange-kek/v", output, StringComparison.Ordinal);
        Assert.Contains("0 remain on older versions", output, StringComparison.Ordinal);

        var (reportExit, report) = await RunVerbAsync("keys", "report");
        Assert.Equal(0, reportExit);
        var current = report.Split('\n').Single(l => l.StartsWith("current KEK: ", StringComparison.Ordinal))["current KEK: ".Length..].Trim();
        using (var connection = new SqliteConnection($"Data Source={api.SqliteFile};Mode=ReadOnly;Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT KekKeyId FROM data_keys WHERE OwnerId = $id";
            command.Parameters.AddWithValue("$id", childId);
            Assert.Equal(current, (string)command.ExecuteScalar()!);
        }

        // The running service still reads the child (its cached key, or the re-wrapped one).
        Assert.Equal(HttpStatusCode.OK, (await api.Council202.GetAsync($"/v1/children/{childId}")).StatusCode);
        var (badExit, _) = await RunVerbAsync("keys", "spin");
        Assert.Equal(2, badExit);
    }

    private async Task<(int ExitCode, string Output)> RunVerbAsync(params string[] args)
    {
        var outcome = await ApiProcess.RunAsync(new Dictionary<string, string>
        {
            ["Exchange__DataDirectory"] = api.DataDirectory,
            ["Serilog__MinimumLevel__Default"] = "Warning",
        }, args);
        return (outcome.ExitCode, outcome.All);
    }
}
