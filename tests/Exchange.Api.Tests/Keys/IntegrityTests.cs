using System.Net;
using System.Net.Http.Json;
using Exchange.Api.Tests.Infrastructure;

namespace Exchange.Api.Tests.Keys;

/// <summary>Sealed values that fail to open stop the request, reveal nothing, change nothing, and are logged for the DPO.</summary>
public sealed class IntegrityTests(ExchangeApiFactory api) : IClassFixture<ExchangeApiFactory>
{
    [Fact]
    public async Task TamperedSealedIdentifierFailsClosedWithoutRevealingIt()
    {
        const string nhs = "9990000204";
        const string upn = "P20212341500Z";
        var first = await Problem.ChildIdAsync(await api.Council202.RegisterAsync(new { nhsNumber = nhs }), HttpStatusCode.Created);
        var second = await Problem.ChildIdAsync(await api.Council202.RegisterAsync(new { upn }), HttpStatusCode.Created);
        var reviewId = (await Problem.AssertAsync(await api.Council209.ResolveAsync(new { nhsNumber = nhs, upn }), HttpStatusCode.Conflict, "identity-conflict"))
            .GetProperty("reviewId").GetString();

        // Someone with database access flips one bit of the second child's sealed UPN.
        Execute($"UPDATE child_identifiers SET Sealed = (substr(Sealed, 1, 30) || X'{"FF"}' || substr(Sealed, 32)) WHERE ChildId = '{second}'");

        // A merge must open it to move it: the request stops, answers a problem, and reveals nothing.
        var merge = await api.Admin.PostAsJsonAsync($"/v1/identity-reviews/{reviewId}/merge", new { survivorChildId = first });
        var problem = await Problem.AssertAsync(merge, HttpStatusCode.InternalServerError, "sealed-value-integrity");
        Assert.DoesNotContain(upn, problem.GetRawText(), StringComparison.Ordinal);

        // Nothing changed: the case is still open and each identifier still resolves to its own child.
        var view = await api.Admin.GetFromJsonAsync<System.Text.Json.JsonElement>($"/v1/identity-reviews/{reviewId}");
        Assert.Equal("open", view.GetProperty("status").GetString());
        Assert.Equal(second, await Problem.ChildIdAsync(await api.Council209.ResolveAsync(new { upn }), HttpStatusCode.OK));
        Assert.Equal(first, await Problem.ChildIdAsync(await api.Council209.ResolveAsync(new { nhsNumber = nhs }), HttpStatusCode.OK));

        // The DPO's trail names where, never what.
        var line = api.Logs.Lines.Single(l => l.Contains("INTEGRITY", StringComparison.Ordinal));
        Assert.Contains(second, line, StringComparison.Ordinal);
        Assert.Contains("child_identifiers", line, StringComparison.Ordinal);
        Assert.DoesNotContain(upn, line, StringComparison.Ordinal);
    }

    private void Execute(string sql) => Assert.Equal(1, api.SqliteExecute(sql));
}

/// <summary>A damaged wrapped data key is an integrity failure (500 and a DPO log line), not an outage (503).</summary>
public sealed class WrappedKeyIntegrityTests(WrappedKeyIntegrityTests.NoCacheFactory api) : IClassFixture<WrappedKeyIntegrityTests.NoCacheFactory>
{
    public sealed class NoCacheFactory : ExchangeApiFactory
    {
        public NoCacheFactory() => Settings["Exchange:Keys:CacheTimeToLiveSeconds"] = "0";
    }

    [Fact]
    public async Task TamperedWrappedKeyFailsClosedAsAnIntegrityError()
    {
        var childId = await Problem.ChildIdAsync(await api.Council202.RegisterAsync(new { nhsNumber = "9990000298" }), HttpStatusCode.Created);
        Assert.Equal(1, api.SqliteExecute($"UPDATE data_keys SET WrappedKey = (substr(WrappedKey, 1, 20) || X'00' || substr(WrappedKey, 22)) WHERE OwnerId = '{childId}'"));

        // Linking a UPN needs the child's key: the request stops with an integrity problem, nothing is linked.
        var response = await api.Council202.RegisterAsync(new { nhsNumber = "9990000298", upn = "B80120000500B" });
        await Problem.AssertAsync(response, HttpStatusCode.InternalServerError, "sealed-value-integrity");
        await Problem.AssertAsync(await api.Council209.ResolveAsync(new { upn = "B80120000500B" }), HttpStatusCode.NotFound, "child-not-found");
        Assert.Contains(api.Logs.Lines, l => l.Contains("INTEGRITY", StringComparison.Ordinal) && l.Contains(childId, StringComparison.Ordinal));
    }
}
