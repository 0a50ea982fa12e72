using Exchange.Api.Decisions;
using Exchange.Api.Dates;
using System.Globalization;
using Exchange.Api.Auditing;
using Exchange.Api.Auth;
using Exchange.Api.Errors;
using Exchange.Api.Policy;
using Exchange.Api.Purpose;
using Exchange.Api.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Exchange.Api.Identity;

public static class IdentityApi
{
    public static IEndpointRouteBuilder MapIdentityApi(this IEndpointRouteBuilder app)
    {
        var children = app.MapGroup("/v1/children").WithTags("Identity").RequirePurposeOfUse();
        children.MapPost("/", RegisterAsync)
            .Audited("child.register", "identity", "childId")
            .Decides("register", noChild: true)
            .Validates<RegisterChildRequest>();
        children.MapGet("/{childId}", GetAsync)
            .Audited("child.read", "identity", "childId", "careEpisodes")
            .Decides("read");

        app.MapGroup("/v1/identities").WithTags("Identity").RequirePurposeOfUse()
            .MapPost("/resolve", ResolveAsync)
            .Audited("identity.resolve", "identity-resolution", "childId")
            .Decides("read", noChild: true, findsChild: true)
            .Validates<ResolveIdentityRequest>();
        return app;
    }

    private static async Task<Results<Created<ChildIdResponse>, Ok<ChildIdResponse>, ProblemHttpResult>> RegisterAsync(
        RegisterChildRequest request, HttpContext http, IdentityService identity, ChildDecisions decisions, CancellationToken ct)
    {
        var caller = Caller.From(http.User);
        if (caller.CouncilLaNumber is not { } laNumber)
        {
            return Problems.Result(ProblemTypes.CallerNotCouncil);
        }

        if (request.Identifiers!.LaChildId is { La: { } la } && la.Trim() != laNumber)
        {
            return Problems.Result(ProblemTypes.LaChildIdNotOwn, "laChildId.la must be the caller's own LA number.");
        }

        var start = DateOnly.ParseExact(request.CareEpisode!.StartDate!, "yyyy-MM-dd", CultureInfo.InvariantCulture);
        using var registration = await identity.PrepareRegistrationAsync(caller, laNumber, PresentedIdentifier.From(request.Identifiers), start, ct)
            .ConfigureAwait(false);
        IdentityOutcome? outcome = null;
        while (outcome is null)
        {
            var match = await identity.MatchRegistrationAsync(registration, ct).ConfigureAwait(false);
            if (match.Retry)
            {
                continue; // a concurrent registration of the same identifier won: match again
            }

            // Identifiers that match a child already: the same action is decided on that child (its erasure, its
            // restriction as it bears on the council about to be responsible) before anything is linked to it.
            if (match.ExistingChildId is { } existing && await decisions.DecideAgainAsync(existing, ct).ConfigureAwait(false) is { } refusal)
            {
                await identity.AbandonRegistrationAsync(registration, ct).ConfigureAwait(false);
                return refusal;
            }

            outcome = match.Answer ?? await identity.CompleteRegistrationAsync(registration, match, ct).ConfigureAwait(false);
        }

        return outcome switch
        {
            IdentityOutcome.Created created => TypedResults.Created($"/v1/children/{created.ChildId}", new ChildIdResponse(created.ChildId)),
            IdentityOutcome.Matched matched => TypedResults.Ok(new ChildIdResponse(matched.ChildId)),
            IdentityOutcome.Conflict conflict => ConflictProblem(conflict),
            IdentityOutcome.Erased => Problems.Result(ProblemTypes.ChildErased, "The child was erased while this request ran; nothing was changed."),
            IdentityOutcome.CareOverlap => Problems.Result(ProblemTypes.CareEpisodeOverlap,
                "The care episode would start before, or overlap, another council's care episode for this child; nothing was changed."),
            _ => Problems.Result(ProblemTypes.CareEpisodeConflict, "The child has an open care episode with another council; nothing was changed."),
        };
    }

    /// <summary>
    /// The policy decides, for every child the identifiers match, whether the caller may resolve it; the others
    /// count as unknown (<see cref="IdentityService.ResolveAsync"/>). A child the caller may not resolve, for any
    /// reason (no relationship, restricted, erased), answers exactly as an unknown one: same status, body and audit
    /// event, which names no child. Every lookup costs one decision, matched or not, so timing says little either.
    /// </summary>
    private static async Task<Results<Ok<ChildIdResponse>, ProblemHttpResult>> ResolveAsync(
        ResolveIdentityRequest request, HttpContext http, IdentityService identity, ChildDecisions decisions, CancellationToken ct)
    {
        var candidates = await identity.FindForResolutionAsync(PresentedIdentifier.From(request.Identifiers!), ct).ConfigureAwait(false);
        var visible = new List<string>();
        foreach (var childId in candidates.Children)
        {
            var access = await decisions.DecideOnAsync(childId, ct).ConfigureAwait(false);
            if (access.Decision.Permit && !access.Erased)
            {
                if (visible.Count == 0)
                {
                    // The answer (a match, or a conflict about children the caller may resolve) rests on this permit.
                    decisions.Adopt(access);
                }

                visible.Add(childId);
            }
        }

        if (candidates.Children.Count == 0)
        {
            // Nothing matched: decide on an id no child has, so an unknown identifier costs what a known one does.
            await decisions.DecideOnAsync(Ids.NewChildId(), ct).ConfigureAwait(false);
        }

        var outcome = await identity.ResolveAsync(Caller.From(http.User), candidates, visible, ct).ConfigureAwait(false);
        return outcome switch
        {
            IdentityOutcome.Matched matched => TypedResults.Ok(new ChildIdResponse(matched.ChildId)),
            IdentityOutcome.Conflict conflict => ConflictProblem(conflict),
            _ => Problems.Result(ProblemTypes.ChildNotFound, "No registered child matches these identifiers."),
        };
    }

    private static ProblemHttpResult ConflictProblem(IdentityOutcome.Conflict conflict) =>
        Problems.Result(ProblemTypes.IdentityConflict,
            conflict.ReviewId is null
                ? "The identifiers do not agree with the register. Nothing was linked or merged; no review case was opened because your organisation has too many open cases."
                : "The identifiers do not agree with the register. Nothing was linked or merged; the exchange admin will review the case.",
            new Dictionary<string, object?> { ["reviewId"] = conflict.ReviewId });

    public sealed record CareEpisodeView(Guid Id, string ResponsibleLa, string StartDate, string? EndDate);

    public sealed record ChildView(string ChildId, IReadOnlyList<CareEpisodeView> CareEpisodes);

    public sealed record MergedChildView(string ChildId, string MergedInto);

    /// <summary>
    /// A council sees the children in its care. A merged child id answers 308 with the survivor's
    /// address, so ids held by partners keep working after a merge.
    /// </summary>
    private static async Task<Results<Ok<ChildView>, JsonHttpResult<MergedChildView>, ProblemHttpResult>> GetAsync(
        string childId, Decided decided, HttpContext http, ExchangeDbContext db, IdentityService identity, CancellationToken ct)
    {
        var caller = Caller.From(http.User);
        var notFound = Problems.Result(ProblemTypes.ChildNotFound, "No child with this id is in the caller's care.");
        if (!Ids.LooksLikeChildId(childId) || caller.CouncilLaNumber is not { } laNumber)
        {
            return notFound;
        }

        var survivor = await identity.SurvivorOfAsync(childId, ct).ConfigureAwait(false);
        var episodes = await db.CareEpisodes.AsNoTracking()
            .Where(e => e.ChildId == survivor)
            .OrderBy(e => e.StartDate)
            .Select(e => new { e.Id, e.ResponsibleLaNumber, e.StartDate, e.EndDate, e.RecordedAt })
            .ToListAsync(ct).ConfigureAwait(false);
        if (!episodes.Any(e => e.ResponsibleLaNumber == laNumber))
        {
            return notFound;
        }

        // Its own episodes, and another council's only where handed over (or, in data from before the overlap
        // rule or from a merge, overlapping its own).
        var windows = decided.Windows;
        episodes = episodes.Where(e => e.ResponsibleLaNumber == laNumber || windows?.Overlaps(e.StartDate, e.EndDate, e.RecordedAt) != false).ToList();

        // An erased child never reaches here: the decision point answers 410 for it.
        if (survivor != childId)
        {
            http.Response.Headers.Location = $"/v1/children/{survivor}";
            return TypedResults.Json(new MergedChildView(childId, survivor), statusCode: StatusCodes.Status308PermanentRedirect);
        }

        return TypedResults.Ok(new ChildView(childId, episodes
            .Select(e => new CareEpisodeView(e.Id, e.ResponsibleLaNumber, Iso(e.StartDate), e.EndDate is { } end ? Iso(end) : null))
            .ToList()));
    }

    private static string Iso(DateOnly date) => date.Iso();
}
