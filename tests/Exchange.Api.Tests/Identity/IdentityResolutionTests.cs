using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Exchange.Api.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Exchange.Api.Tests.Identity;

/// <summary>Registration, resolution, conflicts and merges, as councils, schools and the admin see them.</summary>
public abstract class IdentityResolutionTestsBase<TFactory>(TFactory api) where TFactory : ExchangeApiFactory
{
    protected static string NewNhs() => TestIdentifiers.NewNhs();

    protected static string NewUpn(bool temporary = false) => TestIdentifiers.NewUpn(temporary);

    protected TFactory Api => api;

    [SkippableFact]
    public async Task CouncilRegistersAChildAndGetsAPseudonymousId()
    {
        var nhs = NewNhs();
        var id = await Problem.ChildIdAsync(await api.Council202.RegisterAsync(new { nhsNumber = nhs }), HttpStatusCode.Created);
        Assert.DoesNotContain(nhs, id, StringComparison.Ordinal);
        Assert.Equal(id, await Problem.ChildIdAsync(await api.Council209.ResolveAsync(new { nhsNumber = nhs }), HttpStatusCode.OK));
    }

    [SkippableFact]
    public async Task RegisteringTheSameChildAgainReturnsTheSameIdWith200()
    {
        var nhs = NewNhs();
        var first = await Problem.ChildIdAsync(await api.Council202.RegisterAsync(new { nhsNumber = nhs }), HttpStatusCode.Created);
        var again = await Problem.ChildIdAsync(await api.Council202.RegisterAsync(new { nhsNumber = nhs.Insert(3, " ").Insert(7, " ") }), HttpStatusCode.OK);
        Assert.Equal(first, again);
    }

    [SkippableFact]
    public async Task NewIdentifiersAreLinkedAndThenResolveAloneAndTogether()
    {
        var (nhs, upn) = (NewNhs(), NewUpn());
        var laId = "C-" + Guid.NewGuid().ToString("N")[..8];
        var id = await Problem.ChildIdAsync(await api.Council202.RegisterAsync(new { nhsNumber = nhs }), HttpStatusCode.Created);
        Assert.Equal(id, await Problem.ChildIdAsync(await api.Council202.RegisterAsync(new { nhsNumber = nhs, upn, laChildId = new { la = "202", id = laId } }), HttpStatusCode.OK));

        // A school resolves its pupils, a health body the children it is responsible for (ResolutionScopeTests).
        Assert.Equal(HttpStatusCode.Created, (await api.Council202.PostAsJsonAsync("/v1/enrolments", new { childId = id, urn = "100001", startDate = "2025-09-01" })).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await api.Council202.PostAsJsonAsync($"/v1/children/{id}/health-responsibility", new { ods = "ZZ901", startDate = "2025-09-01" })).StatusCode);
        var nurse = api.ClientFor("health:ZZ901", "lac-nurse");
        Assert.Equal(id, await Problem.ChildIdAsync(await api.School202.ResolveAsync(new { upn = upn.ToLowerInvariant() }), HttpStatusCode.OK));
        Assert.Equal(id, await Problem.ChildIdAsync(await nurse.ResolveAsync(new { nhsNumber = nhs }), HttpStatusCode.OK));
        Assert.Equal(id, await Problem.ChildIdAsync(await api.Council209.ResolveAsync(new { laChildId = new { la = "202", id = laId.ToLowerInvariant() } }), HttpStatusCode.OK));
        Assert.Equal(id, await Problem.ChildIdAsync(await api.School202.ResolveAsync(new { nhsNumber = nhs, upn, laChildId = new { la = "202", id = laId } }), HttpStatusCode.OK));
    }

    [SkippableFact]
    public async Task CouncilChildIdsAreScopedToTheirCouncil()
    {
        var laId = "C-" + Guid.NewGuid().ToString("N")[..8];
        await Problem.ChildIdAsync(await api.Council202.RegisterAsync(new { laChildId = new { la = "202", id = laId } }), HttpStatusCode.Created);
        await Problem.AssertAsync(await api.Council209.ResolveAsync(new { laChildId = new { la = "209", id = laId } }), HttpStatusCode.NotFound, "child-not-found");
    }

    [SkippableFact]
    public async Task ResolutionNeverCreatesOrLinks()
    {
        var (nhs, upn) = (NewNhs(), NewUpn());
        await Problem.AssertAsync(await api.Council202.ResolveAsync(new { nhsNumber = nhs }), HttpStatusCode.NotFound, "child-not-found");
        await Problem.AssertAsync(await api.Council202.ResolveAsync(new { nhsNumber = nhs }), HttpStatusCode.NotFound, "child-not-found");

        var id = await Problem.ChildIdAsync(await api.Council202.RegisterAsync(new { nhsNumber = nhs }), HttpStatusCode.Created);
        // A school presenting a UPN we have not seen beside a known NHS number resolves the child, but does not link the UPN.
        Assert.Equal(id, await Problem.ChildIdAsync(await api.Council209.ResolveAsync(new { nhsNumber = nhs, upn }), HttpStatusCode.OK));
        await Problem.AssertAsync(await api.Council209.ResolveAsync(new { upn }), HttpStatusCode.NotFound, "child-not-found");
    }

    [SkippableFact]
    public async Task IdentifiersOfTwoDifferentChildrenAreAConflictAndNothingIsLinked()
    {
        var (nhsA, upnB, upnNew) = (NewNhs(), NewUpn(), NewUpn());
        var a = await Problem.ChildIdAsync(await api.Council202.RegisterAsync(new { nhsNumber = nhsA }), HttpStatusCode.Created);
        var b = await Problem.ChildIdAsync(await api.Council202.RegisterAsync(new { upn = upnB }), HttpStatusCode.Created);

        var conflict = await Problem.AssertAsync(await api.Council202.RegisterAsync(new { nhsNumber = nhsA, upn = upnB, laChildId = new { la = "202", id = "NEW-1" } }),
            HttpStatusCode.Conflict, "identity-conflict");
        var reviewId = conflict.GetProperty("reviewId").GetString();
        Assert.StartsWith("rv_", reviewId, StringComparison.Ordinal);

        // Nothing moved: each identifier still resolves to its own child, the new one to none.
        Assert.Equal(a, await Problem.ChildIdAsync(await api.Council209.ResolveAsync(new { nhsNumber = nhsA }), HttpStatusCode.OK));
        Assert.Equal(b, await Problem.ChildIdAsync(await api.Council209.ResolveAsync(new { upn = upnB }), HttpStatusCode.OK));
        await Problem.AssertAsync(await api.Council209.ResolveAsync(new { laChildId = new { la = "202", id = "NEW-1" } }), HttpStatusCode.NotFound, "child-not-found");

        // Resolution with the same disagreeing identifiers is a conflict too, and a retry reuses the open case.
        var again = await Problem.AssertAsync(await api.Council209.ResolveAsync(new { nhsNumber = nhsA, upn = upnB, laChildId = new { la = "202", id = "NEW-1" } }),
            HttpStatusCode.Conflict, "identity-conflict");
        Assert.Equal(reviewId, again.GetProperty("reviewId").GetString());
        _ = upnNew;
    }

    [SkippableFact]
    public async Task ASecondNhsNumberForAKnownChildIsAConflictNotALink()
    {
        var (nhs, other, upn) = (NewNhs(), NewNhs(), NewUpn());
        var id = await Problem.ChildIdAsync(await api.Council202.RegisterAsync(new { nhsNumber = nhs, upn }), HttpStatusCode.Created);
        await Problem.AssertAsync(await api.Council202.RegisterAsync(new { nhsNumber = other, upn }), HttpStatusCode.Conflict, "identity-conflict");
        await Problem.AssertAsync(await api.Council209.ResolveAsync(new { nhsNumber = other }), HttpStatusCode.NotFound, "child-not-found");
        Assert.Equal(id, await Problem.ChildIdAsync(await api.Council209.ResolveAsync(new { upn }), HttpStatusCode.OK));
    }

    [SkippableFact]
    public async Task APermanentUpnCanJoinATemporaryOne()
    {
        var (nhs, temporary, permanent) = (NewNhs(), NewUpn(temporary: true), NewUpn());
        var id = await Problem.ChildIdAsync(await api.Council202.RegisterAsync(new { nhsNumber = nhs, upn = temporary }), HttpStatusCode.Created);
        Assert.Equal(id, await Problem.ChildIdAsync(await api.Council202.RegisterAsync(new { nhsNumber = nhs, upn = permanent }), HttpStatusCode.OK));
        Assert.Equal(id, await Problem.ChildIdAsync(await api.Council209.ResolveAsync(new { upn = permanent }), HttpStatusCode.OK));
        Assert.Equal(id, await Problem.ChildIdAsync(await api.Council209.ResolveAsync(new { upn = temporary }), HttpStatusCode.OK));
    }

    [SkippableFact]
    public async Task AChildInAnotherCouncilsCareCannotBeRegisteredAgain()
    {
        var (nhs, upn) = (NewNhs(), NewUpn());
        await Problem.ChildIdAsync(await api.Council202.RegisterAsync(new { nhsNumber = nhs }), HttpStatusCode.Created);
        await Problem.AssertAsync(await api.Council209.RegisterAsync(new { nhsNumber = nhs, upn }), HttpStatusCode.Conflict, "care-episode-conflict");
        await Problem.AssertAsync(await api.Council209.ResolveAsync(new { upn }), HttpStatusCode.NotFound, "child-not-found");
    }

    [SkippableFact]
    public async Task CouncilSeesItsOwnChildAndNotAnotherCouncils()
    {
        var id = await Problem.ChildIdAsync(await api.Council202.RegisterAsync(new { nhsNumber = NewNhs() }, "2025-04-01"), HttpStatusCode.Created);
        var own = await api.Council202.GetFromJsonAsync<JsonElement>($"/v1/children/{id}");
        Assert.Equal("202", own.GetProperty("careEpisodes")[0].GetProperty("responsibleLa").GetString());
        Assert.Equal("2025-04-01", own.GetProperty("careEpisodes")[0].GetProperty("startDate").GetString());
        await Problem.AssertAsync(await api.Council209.GetAsync($"/v1/children/{id}"), HttpStatusCode.NotFound, "child-not-found");
        await Problem.AssertAsync(await api.Council202.GetAsync("/v1/children/ch_00000000000000000000000000"), HttpStatusCode.NotFound, "child-not-found");
    }

    [SkippableFact]
    public async Task AdminMergesAConflictAndBothIdsKeepResolving()
    {
        var (nhs, upn) = (NewNhs(), NewUpn());
        var first = await Problem.ChildIdAsync(await api.Council202.RegisterAsync(new { nhsNumber = nhs }), HttpStatusCode.Created);
        var second = await Problem.ChildIdAsync(await api.Council202.RegisterAsync(new { upn }), HttpStatusCode.Created);
        var conflict = await Problem.AssertAsync(await api.Council209.ResolveAsync(new { nhsNumber = nhs, upn }), HttpStatusCode.Conflict, "identity-conflict");
        var reviewId = conflict.GetProperty("reviewId").GetString();

        var open = await api.Admin.GetFromJsonAsync<JsonElement>("/v1/identity-reviews?status=open&limit=200");
        var listed = open.GetProperty("items").EnumerateArray().Single(r => r.GetProperty("reviewId").GetString() == reviewId);
        Assert.Equal("identifiers-match-different-children", listed.GetProperty("reason").GetString());
        Assert.DoesNotContain(nhs, listed.GetRawText(), StringComparison.Ordinal);
        Assert.DoesNotContain(upn, listed.GetRawText(), StringComparison.Ordinal);
        var candidates = listed.GetProperty("candidates").EnumerateArray().ToDictionary(c => c.GetProperty("childId").GetString()!, c => c.GetProperty("matchedBy")[0].GetString());
        Assert.Equal("nhsNumber", candidates[first]);
        Assert.Equal("upn", candidates[second]);

        var merge = await api.Admin.PostAsJsonAsync($"/v1/identity-reviews/{reviewId}/merge", new { survivorChildId = first });
        Assert.Equal(HttpStatusCode.OK, merge.StatusCode);
        var merged = await merge.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("merged", merged.GetProperty("status").GetString());
        Assert.Equal(first, merged.GetProperty("survivorChildId").GetString());
        Assert.Equal(second, merged.GetProperty("mergedChildIds")[0].GetString());

        // Every identifier now resolves to the survivor; the old id redirects to it.
        Assert.Equal(first, await Problem.ChildIdAsync(await api.Council209.ResolveAsync(new { upn }), HttpStatusCode.OK));
        Assert.Equal(first, await Problem.ChildIdAsync(await api.Council209.ResolveAsync(new { nhsNumber = nhs, upn }), HttpStatusCode.OK));
        var redirect = await api.Council202.GetAsync($"/v1/children/{second}");
        Assert.Equal(HttpStatusCode.PermanentRedirect, redirect.StatusCode);
        Assert.Equal($"/v1/children/{first}", redirect.Headers.Location?.ToString());
        var survivor = await api.Council202.GetFromJsonAsync<JsonElement>($"/v1/children/{first}");
        Assert.Equal(2, survivor.GetProperty("careEpisodes").GetArrayLength());

        // A closed case cannot be decided again.
        await Problem.AssertAsync(await api.Admin.PostAsync($"/v1/identity-reviews/{reviewId}/dismiss", null), HttpStatusCode.Conflict, "review-closed");
    }

    [SkippableFact]
    public async Task MergeLinksNewIdentifiersButNeverASecondOfTheSameKind()
    {
        var (nhs, other, upn) = (NewNhs(), NewNhs(), NewUpn());
        var laId = "M-" + Guid.NewGuid().ToString("N")[..8].ToUpperInvariant();
        var id = await Problem.ChildIdAsync(await api.Council202.RegisterAsync(new { nhsNumber = nhs, upn }), HttpStatusCode.Created);
        var conflict = await Problem.AssertAsync(await api.Council202.RegisterAsync(new { nhsNumber = other, upn, laChildId = new { la = "202", id = laId } }),
            HttpStatusCode.Conflict, "identity-conflict");
        var reviewId = conflict.GetProperty("reviewId").GetString();

        Assert.Equal(HttpStatusCode.OK, (await api.Admin.PostAsJsonAsync($"/v1/identity-reviews/{reviewId}/merge", new { })).StatusCode);
        Assert.Equal(id, await Problem.ChildIdAsync(await api.Council209.ResolveAsync(new { laChildId = new { la = "202", id = laId } }), HttpStatusCode.OK));
        // The child already has an NHS number: the other one stays unlinked (a discrepancy, not a second identity).
        await Problem.AssertAsync(await api.Council209.ResolveAsync(new { nhsNumber = other }), HttpStatusCode.NotFound, "child-not-found");
    }

    [SkippableFact]
    public async Task MergeReSealsMovedIdentifiersForTheSurvivorAndRecordsWhatMoved()
    {
        var (nhs, upn) = (NewNhs(), NewUpn());
        var laId = "R-" + Guid.NewGuid().ToString("N")[..8].ToUpperInvariant();
        var first = await Problem.ChildIdAsync(await api.Council202.RegisterAsync(new { nhsNumber = nhs }), HttpStatusCode.Created);
        var second = await Problem.ChildIdAsync(await api.Council202.RegisterAsync(new { upn, laChildId = new { la = "202", id = laId } }), HttpStatusCode.Created);
        var reviewId = (await Problem.AssertAsync(await api.Council209.ResolveAsync(new { nhsNumber = nhs, upn }), HttpStatusCode.Conflict, "identity-conflict"))
            .GetProperty("reviewId").GetString()!;
        Assert.Equal(HttpStatusCode.OK, (await api.Admin.PostAsJsonAsync($"/v1/identity-reviews/{reviewId}/merge", new { survivorChildId = first })).StatusCode);

        using var scope = api.Services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<Exchange.Api.Storage.ExchangeDbContext>();
        var protector = scope.ServiceProvider.GetRequiredService<Exchange.Api.Identity.IdentifierProtector>();
        var rows = await db.ChildIdentifiers.AsNoTracking().Where(i => i.ChildId == first).ToListAsync();
        var values = new List<string>();
        foreach (var row in rows)
        {
            var opened = await protector.OpenAsync(row.Sealed, "child_identifiers", first, row.Id, default);
            values.Add(Assert.IsType<Exchange.Crypto.Sealing.OpenedField.Opened>(opened).Value);
        }

        Assert.Equal(new[] { nhs, upn, laId }.Order(), values.Order());
        var record = await db.ChildMerges.AsNoTracking().SingleAsync(m => m.ReviewId == reviewId);
        Assert.Equal((first, second), (record.SurvivorChildId, record.MergedChildId));
        Assert.Equal(rows.Where(r => r.Type != "nhs").Select(r => r.Id).Order(), record.MovedIdentifierIds.Order());

        var view = await api.Admin.GetFromJsonAsync<JsonElement>($"/v1/identity-reviews/{reviewId}");
        Assert.Equal(second, view.GetProperty("mergedChildIds")[0].GetString());
    }

    [SkippableFact]
    public async Task DismissedReviewChangesNothing()
    {
        var (nhs, upn) = (NewNhs(), NewUpn());
        var a = await Problem.ChildIdAsync(await api.Council202.RegisterAsync(new { nhsNumber = nhs }), HttpStatusCode.Created);
        var b = await Problem.ChildIdAsync(await api.Council202.RegisterAsync(new { upn }), HttpStatusCode.Created);
        var reviewId = (await Problem.AssertAsync(await api.Council209.ResolveAsync(new { nhsNumber = nhs, upn }), HttpStatusCode.Conflict, "identity-conflict"))
            .GetProperty("reviewId").GetString();

        var dismissed = await api.Admin.PostAsync($"/v1/identity-reviews/{reviewId}/dismiss", null);
        Assert.Equal("dismissed", (await dismissed.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString());
        Assert.Equal(a, await Problem.ChildIdAsync(await api.Council209.ResolveAsync(new { nhsNumber = nhs }), HttpStatusCode.OK));
        Assert.Equal(b, await Problem.ChildIdAsync(await api.Council209.ResolveAsync(new { upn }), HttpStatusCode.OK));
    }

    [SkippableFact]
    public async Task MergeRejectsASurvivorOutsideTheCaseAndUnknownCases()
    {
        var (nhs, upn) = (NewNhs(), NewUpn());
        await api.Council202.RegisterAsync(new { nhsNumber = nhs });
        await api.Council202.RegisterAsync(new { upn });
        var reviewId = (await Problem.AssertAsync(await api.Council209.ResolveAsync(new { nhsNumber = nhs, upn }), HttpStatusCode.Conflict, "identity-conflict"))
            .GetProperty("reviewId").GetString();

        await Problem.AssertAsync(await api.Admin.PostAsJsonAsync($"/v1/identity-reviews/{reviewId}/merge", new { survivorChildId = "ch_00000000000000000000000000" }),
            HttpStatusCode.BadRequest, "merge-survivor-invalid");
        await Problem.AssertAsync(await api.Admin.PostAsync("/v1/identity-reviews/rv_nope/merge", null), HttpStatusCode.NotFound, "review-not-found");
        await Problem.AssertAsync(await api.Council202.PostAsync($"/v1/identity-reviews/{reviewId}/merge", null), HttpStatusCode.Forbidden, "forbidden");
    }

    [SkippableFact]
    public async Task ReviewListRejectsAnUnknownStatusAndABadCursor()
    {
        await Problem.AssertAsync(await api.Admin.GetAsync("/v1/identity-reviews?status=pending"), HttpStatusCode.BadRequest, "validation-failed");
        await Problem.AssertAsync(await api.Admin.GetAsync("/v1/identity-reviews?status=1"), HttpStatusCode.BadRequest, "validation-failed");
        await Problem.AssertAsync(await api.Admin.GetAsync("/v1/identity-reviews?status=open,merged"), HttpStatusCode.BadRequest, "validation-failed");
        await Problem.AssertAsync(await api.Admin.GetAsync("/v1/identity-reviews?cursor=%%%"), HttpStatusCode.BadRequest, "cursor-invalid");
        await Problem.AssertAsync(await api.Admin.GetAsync("/v1/identity-reviews?limit=201"), HttpStatusCode.BadRequest, "limit-invalid");
    }

    [SkippableFact]
    public async Task ConcurrentRegistrationsOfOneChildCreateOneChild()
    {
        var nhs = NewNhs();
        var responses = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => api.Council202.RegisterAsync(new { nhsNumber = nhs })));
        var ids = new HashSet<string>();
        foreach (var response in responses)
        {
            Assert.True(response.StatusCode is HttpStatusCode.Created or HttpStatusCode.OK, response.StatusCode.ToString());
            ids.Add((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("childId").GetString()!);
        }

        Assert.Single(ids);
        Assert.Single(responses, r => r.StatusCode == HttpStatusCode.Created);
    }
}

public sealed class IdentityResolutionTests(ExchangeApiFactory api)
    : IdentityResolutionTestsBase<ExchangeApiFactory>(api), IClassFixture<ExchangeApiFactory>;

/// <summary>The same behaviour on PostgreSQL (runs in CI; skips with the reason elsewhere).</summary>
public sealed class PostgresIdentityResolutionTests : IdentityResolutionTestsBase<PostgresApiFactory>, IClassFixture<PostgresApiFactory>
{
    public PostgresIdentityResolutionTests(PostgresApiFactory api) : base(api) => Infrastructure.Postgres.SkipUnlessAvailable();
}
