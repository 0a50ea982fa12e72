using Exchange.Api.Auditing;
using Exchange.Api.Auth;
using Exchange.Api.Errors;
using Exchange.Api.Paging;
using Exchange.Api.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Exchange.Api.Identity;

public static class IdentityReviewsApi
{
    /// <summary>A candidate child, the identifier types that matched it, and the organisations holding a relationship to it now.</summary>
    public sealed record CandidateView(string ChildId, IReadOnlyList<string> MatchedBy, IReadOnlyList<string> Organisations);

    public sealed record ReviewView(
        string ReviewId, string Status, string Reason, DateTimeOffset CreatedAt, string RaisedBy,
        IReadOnlyList<CandidateView> Candidates, IReadOnlyList<string> UnmatchedIdentifiers,
        DateTimeOffset? ClosedAt, string? SurvivorChildId, IReadOnlyList<string>? MergedChildIds);

    public sealed record MergeRequest(string? SurvivorChildId);

    public static IEndpointRouteBuilder MapIdentityReviewsApi(this IEndpointRouteBuilder app)
    {
        // The admin sees child ids and which identifier types matched, never identifier values.
        var group = app.MapGroup("/v1/identity-reviews").WithTags("Identity reviews").RequireAuthorization(AuthPolicies.Administer);
        group.MapGet("/", ListAsync).Audited("identity-review.list", "identity", "reviewId", "candidates");
        group.MapGet("/{reviewId}", GetAsync).Audited("identity-review.read", "identity", "reviewId", "candidates");
        group.MapPost("/{reviewId}/merge", MergeAsync).Audited("identity-review.merge", "identity", "reviewId", "survivorChildId", "mergedChildIds").RejectsExplicitNulls();
        group.MapPost("/{reviewId}/dismiss", DismissAsync).Audited("identity-review.dismiss", "identity", "reviewId");
        return app;
    }

    private static async Task<Results<Ok<Page<ReviewView>>, ProblemHttpResult>> ListAsync(
        ExchangeDbContext db, string? status, string? cursor, int? limit, CancellationToken ct)
    {
        if (!PageRequest.TryParse(cursor, limit, out var page, out var problem))
        {
            return problem;
        }

        var query = db.IdentityReviews.AsNoTracking().Include(r => r.Identifiers).AsQueryable();
        if (status is not null)
        {
            // Names only: Enum.TryParse would also take "1" or "open,merged".
            var wanted = Enum.GetValues<ReviewStatus>().Cast<ReviewStatus?>()
                .FirstOrDefault(v => string.Equals(v.ToString(), status, StringComparison.OrdinalIgnoreCase));
            if (wanted is null)
            {
                return Problems.Result(ProblemTypes.ValidationFailed, "status must be open, merged or dismissed.");
            }

            query = query.Where(r => r.Status == wanted.Value);
        }

        if (page.After is { } after)
        {
            query = query.Where(r => r.CreatedAt > after.At || (r.CreatedAt == after.At && string.Compare(r.Id, after.Id) > 0));
        }

        var rows = await query.OrderBy(r => r.CreatedAt).ThenBy(r => r.Id).Take(page.Limit + 1).ToListAsync(ct).ConfigureAwait(false);
        var holders = await HoldersAsync(db, rows, ct).ConfigureAwait(false);
        return TypedResults.Ok(Pages.From(rows, page.Limit, r => View(r, null, holders), r => new PageCursor(r.CreatedAt, r.Id)));
    }

    private static async Task<Results<Ok<ReviewView>, ProblemHttpResult>> GetAsync(string reviewId, ExchangeDbContext db, CancellationToken ct)
    {
        var review = await db.IdentityReviews.AsNoTracking().Include(r => r.Identifiers).FirstOrDefaultAsync(r => r.Id == reviewId, ct).ConfigureAwait(false);
        return review is null ? Problems.Result(ProblemTypes.ReviewNotFound) : TypedResults.Ok(View(review, null, await HoldersAsync(db, [review], ct).ConfigureAwait(false)));
    }

    private static async Task<Results<Ok<ReviewView>, ProblemHttpResult>> MergeAsync(
        string reviewId, MergeRequest? request, HttpContext http, ExchangeDbContext db, IdentityReviewService reviews, CancellationToken ct)
    {
        var outcome = await reviews.MergeAsync(Caller.From(http.User), reviewId, request?.SurvivorChildId, ct).ConfigureAwait(false);
        return Answer(outcome, await HoldersAsync(db, outcome, ct).ConfigureAwait(false));
    }

    private static async Task<Results<Ok<ReviewView>, ProblemHttpResult>> DismissAsync(
        string reviewId, HttpContext http, ExchangeDbContext db, IdentityReviewService reviews, CancellationToken ct)
    {
        var outcome = await reviews.DismissAsync(Caller.From(http.User), reviewId, ct).ConfigureAwait(false);
        return Answer(outcome, await HoldersAsync(db, outcome, ct).ConfigureAwait(false));
    }

    private static Task<Dictionary<string, List<string>>> HoldersAsync(ExchangeDbContext db, ReviewOutcome outcome, CancellationToken ct) =>
        outcome is ReviewOutcome.Done done ? HoldersAsync(db, [done.Review], ct) : Task.FromResult(new Dictionary<string, List<string>>());

    /// <summary>Which organisations hold each candidate of these reviews, so the admin has something to judge a merge on.</summary>
    private static async Task<Dictionary<string, List<string>>> HoldersAsync(ExchangeDbContext db, IEnumerable<IdentityReview> reviews, CancellationToken ct)
    {
        var holders = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var child in reviews.SelectMany(r => r.CandidateChildIds).Distinct(StringComparer.Ordinal))
        {
            holders[child] = await IdentityReviewService.HoldersAsync(db, child, ct).ConfigureAwait(false);
        }

        return holders;
    }

    private static Results<Ok<ReviewView>, ProblemHttpResult> Answer(ReviewOutcome outcome, Dictionary<string, List<string>> holders) => outcome switch
    {
        ReviewOutcome.Done done => TypedResults.Ok(View(done.Review, done.MergedChildIds, holders)),
        ReviewOutcome.Closed => Problems.Result(ProblemTypes.ReviewClosed),
        ReviewOutcome.BadSurvivor => Problems.Result(ProblemTypes.MergeSurvivorInvalid),
        ReviewOutcome.EpisodeOverlap => Problems.Result(ProblemTypes.MergeEpisodeOverlap),
        _ => Problems.Result(ProblemTypes.ReviewNotFound),
    };

    private static ReviewView View(IdentityReview r, IReadOnlyList<string>? merged, Dictionary<string, List<string>> holders) => new(
        r.Id,
        r.Status.ToString().ToLowerInvariant(),
        r.Reason,
        r.CreatedAt,
        r.RaisedByOrganisation,
        r.CandidateChildIds.Select(c => new CandidateView(c, r.Identifiers.Where(i => i.MatchedChildId == c).Select(Name).ToList(),
            holders.TryGetValue(c, out var held) ? held : [])).ToList(),
        r.Identifiers.Where(i => i.MatchedChildId is null).Select(Name).ToList(),
        r.ClosedAt,
        r.SurvivorChildId,
        merged ?? (r.Status == ReviewStatus.Merged ? r.MergedChildIds : null));

    private static string Name(IdentityReviewIdentifier i) => new PresentedIdentifier(i.Type, "", i.IsTemporary).PublicName;
}
