using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Exchange.Api.Tests.Infrastructure;

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
        var wrappedKey = Bytes($"SELECT WrappedKey FROM data_keys WHERE OwnerId = '{childId}'");
        var sealedCopy = Bytes($"SELECT Sealed FROM child_identifiers WHERE ChildId = '{childId}' LIMIT 1");

        var erase = await Dpo.PostAsync($"/v1/children/{childId}/erase", null);
        Assert.Equal(HttpStatusCode.OK, erase.StatusCode);
        var erased = await erase.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(childId, erased.GetProperty("childId").GetString());

        // The data key is a tombstone without key material, and the identifiers (blind indexes and
        // sealed copies) are gone: from the tables, and from the bytes of the database file and its log.
        Assert.Equal(0L, Count($"SELECT COUNT(*) FROM data_keys WHERE OwnerId = '{childId}' AND (ErasedAt IS NULL OR length(WrappedKey) > 0)"));
        Assert.Equal(0L, Count($"SELECT COUNT(*) FROM child_identifiers WHERE ChildId = '{childId}'"));
        var raw = RawFiles();
        Assert.Equal(-1, raw.AsSpan().IndexOf(wrappedKey));
        Assert.Equal(-1, raw.AsSpan().IndexOf(sealedCopy));

        // The id answers 410; the identifiers no longer resolve; registering them again makes a new child.
        await Problem.AssertAsync(await api.Council202.GetAsync($"/v1/children/{childId}"), HttpStatusCode.Gone, "child-erased");
        await Problem.AssertAsync(await api.Council209.ResolveAsync(new { nhsNumber = nhs }), HttpStatusCode.NotFound, "child-not-found");
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
        var reviewId = (await Problem.AssertAsync(await api.Council209.ResolveAsync(new { nhsNumber = "9990000115", upn = "M80120000500A" }), HttpStatusCode.Conflict, "identity-conflict"))
            .GetProperty("reviewId").GetString();
        Assert.Equal(1L, Count($"SELECT COUNT(*) FROM data_keys WHERE OwnerId = '{reviewId}'"));

        Assert.Equal(HttpStatusCode.OK, (await api.Admin.PostAsync($"/v1/identity-reviews/{reviewId}/dismiss", null)).StatusCode);
        Assert.Equal(0L, Count($"SELECT COUNT(*) FROM data_keys WHERE OwnerId = '{reviewId}' AND ErasedAt IS NULL"));
    }

    [Fact]
    public async Task ErasingAChildClosesTheCasesThatNameItAndItCannotSurviveAMerge()
    {
        var a = await Problem.ChildIdAsync(await api.Council202.RegisterAsync(new { nhsNumber = "9990000271" }), HttpStatusCode.Created);
        var b = await Problem.ChildIdAsync(await api.Council202.RegisterAsync(new { upn = "H209123425001" }), HttpStatusCode.Created);
        var reviewId = (await Problem.AssertAsync(await api.Council209.ResolveAsync(new { nhsNumber = "9990000271", upn = "H209123425001" }), HttpStatusCode.Conflict, "identity-conflict"))
            .GetProperty("reviewId").GetString();

        Assert.Equal(HttpStatusCode.OK, (await Dpo.PostAsync($"/v1/children/{a}/erase", null)).StatusCode);

        // The case is closed, its copy of the erased child's identifier is gone, and b is untouched.
        var view = await api.Admin.GetFromJsonAsync<JsonElement>($"/v1/identity-reviews/{reviewId}");
        Assert.Equal("dismissed", view.GetProperty("status").GetString());
        Assert.Equal(0L, Count($"SELECT COUNT(*) FROM identity_review_identifiers WHERE MatchedChildId = '{a}'"));
        await Problem.AssertAsync(await api.Admin.PostAsJsonAsync($"/v1/identity-reviews/{reviewId}/merge", new { survivorChildId = a }), HttpStatusCode.Conflict, "review-closed");
        Assert.Equal(b, await Problem.ChildIdAsync(await api.Council209.ResolveAsync(new { upn = "H209123425001" }), HttpStatusCode.OK));
        Assert.Equal(HttpStatusCode.OK, (await api.Council202.GetAsync($"/v1/children/{b}")).StatusCode);
    }

    [Fact]
    public async Task AMergedIdAnswersGoneOnceItsSurvivorIsErased()
    {
        var (nhs, upn) = (TestIdentifiers.NewNhs(), TestIdentifiers.NewUpn());
        var a = await Problem.ChildIdAsync(await api.Council202.RegisterAsync(new { nhsNumber = nhs }), HttpStatusCode.Created);
        var b = await Problem.ChildIdAsync(await api.Council202.RegisterAsync(new { upn }), HttpStatusCode.Created);
        var reviewId = (await Problem.AssertAsync(await api.Council209.ResolveAsync(new { nhsNumber = nhs, upn }), HttpStatusCode.Conflict, "identity-conflict"))
            .GetProperty("reviewId").GetString();
        Assert.Equal(HttpStatusCode.OK, (await api.Admin.PostAsJsonAsync($"/v1/identity-reviews/{reviewId}/merge", new { survivorChildId = a })).StatusCode);
        Assert.Equal(HttpStatusCode.PermanentRedirect, (await api.Council202.GetAsync($"/v1/children/{b}")).StatusCode); // to the survivor
        Assert.Equal(HttpStatusCode.OK, (await api.Council202.GetAsync($"/v1/children/{b}/placements")).StatusCode);

        Assert.Equal(HttpStatusCode.OK, (await Dpo.PostAsync($"/v1/children/{a}/erase", null)).StatusCode);

        // The merged id is decided as its survivor, so it is gone too, on every decided route.
        await Problem.AssertAsync(await api.Council202.GetAsync($"/v1/children/{b}"), HttpStatusCode.Gone, "child-erased");
        await Problem.AssertAsync(await api.Council202.GetAsync($"/v1/children/{b}/placements"), HttpStatusCode.Gone, "child-erased");
    }

    [Fact]
    public async Task ErasingASurvivorShredsTheChildrenMergedIntoIt()
    {
        var (nhs, upn) = (TestIdentifiers.NewNhs(), TestIdentifiers.NewUpn());
        var a = await Problem.ChildIdAsync(await api.Council202.RegisterAsync(new { nhsNumber = nhs }), HttpStatusCode.Created);
        var b = await Problem.ChildIdAsync(await api.Council202.RegisterAsync(new { upn }), HttpStatusCode.Created);
        var reviewId = (await Problem.AssertAsync(await api.School202.ResolveAsync(new { nhsNumber = nhs, upn }), HttpStatusCode.Conflict, "identity-conflict"))
            .GetProperty("reviewId").GetString();
        var bIndex = Bytes($"SELECT BlindIndex FROM child_identifiers WHERE ChildId = '{b}'");
        Assert.Equal(HttpStatusCode.OK, (await api.Admin.PostAsJsonAsync($"/v1/identity-reviews/{reviewId}/merge", new { survivorChildId = a })).StatusCode);

        Assert.Equal(HttpStatusCode.OK, (await Dpo.PostAsync($"/v1/children/{a}/erase", null)).StatusCode);

        // Nothing that could link the merged-away child to a person again: no blind index of its identifier (in its
        // own rows, the survivor's, or the review case's copies), and no live data key for it.
        Assert.Equal(0L, Count($"SELECT COUNT(*) FROM child_identifiers WHERE ChildId IN ('{a}', '{b}')"));
        Assert.Equal(0L, Count($"SELECT COUNT(*) FROM identity_review_identifiers WHERE ReviewId = '{reviewId}' OR MatchedChildId IN ('{a}', '{b}')"));
        Assert.Equal(0L, Count($"SELECT COUNT(*) FROM data_keys WHERE OwnerId IN ('{a}', '{b}') AND (ErasedAt IS NULL OR length(WrappedKey) > 0)"));
        Assert.Equal(-1, RawFiles().AsSpan().IndexOf(bIndex));
        await Problem.AssertAsync(await api.School202.ResolveAsync(new { upn }), HttpStatusCode.NotFound, "child-not-found");
        await Problem.AssertAsync(await api.Council202.GetAsync($"/v1/children/{b}"), HttpStatusCode.Gone, "child-erased");
    }

    [Fact]
    public async Task ARestrictionsReasonIsSealedAndShreddedWithTheChild()
    {
        const string reason = "Canary-reason-8f2c: the family contests the school move";
        var childId = await Problem.ChildIdAsync(await api.Council202.RegisterAsync(new { nhsNumber = TestIdentifiers.NewNhs() }), HttpStatusCode.Created);
        Assert.Equal(HttpStatusCode.Created, (await api.Council202.PostAsJsonAsync($"/v1/children/{childId}/restriction",
            new { active = true, purposes = new[] { "safeguarding" }, reason })).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await api.Council202.PostAsJsonAsync($"/v1/children/{childId}/objections",
            new { active = true, purposes = new[] { "pep-review" }, reason })).StatusCode);
        var marker = System.Text.Encoding.UTF8.GetBytes("Canary-reason-8f2c");
        Assert.Equal(-1, RawFiles().AsSpan().IndexOf(marker));

        var export = await Dpo.GetFromJsonAsync<JsonElement>($"/v1/children/{childId}/subject-access-export");
        Assert.All(export.GetProperty("processingLimits").EnumerateArray(), l => Assert.Equal(reason, l.GetProperty("reason").GetString()));
    }

    private byte[] Bytes(string sql) => (byte[])api.SqliteScalar(sql)!;

    /// <summary>The database file and its write-ahead log, as bytes on disk.</summary>
    private byte[] RawFiles()
    {
        using var all = new MemoryStream();
        foreach (var file in Directory.GetFiles(api.DataDirectory, "exchange.db*"))
        {
            using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            stream.CopyTo(all);
        }

        return all.ToArray();
    }

    private long Count(string sql) => (long)api.SqliteScalar(sql)!;
}
