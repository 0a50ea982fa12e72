using System.Globalization;
using Exchange.Api.Decisions;
using Exchange.Api.Auditing;
using Exchange.Api.Auth;
using Exchange.Api.Errors;
using Exchange.Api.Dates;
using Exchange.Api.Policy;
using Exchange.Api.Purpose;
using Exchange.Api.Relationships;
using Exchange.Api.Storage;
using Exchange.Api.Work;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Exchange.Api.Handovers;

/// <summary>
/// Handovers of a child's history. A council reads only the facts dated within its own care episodes (and the
/// current enrolment); a council that looked after the child, during or after its episode, or the operator's DPO
/// for it, hands the history of that council's episodes in some categories over to another council that has an
/// episode for the child. Who may is the policy's <c>council-handover</c> and <c>operator-dpo-handover</c> rules.
/// A handover can be revoked by whoever could record it; it then widens nothing from the next request on (what
/// was read meanwhile stays read, and audited). Recording, listing and revoking are audited.
/// </summary>
public static class HandoversApi
{
    public const string Category = "handover";

    public static IEndpointRouteBuilder MapHandoversApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/children/{childId}/handovers").WithTags("Handovers").RequirePurposeOfUse();
        group.MapPost("/", RecordAsync).Audited("handover.record", Category, "handoverId").Decides("write").Validates<HandoverRequest>();
        group.MapGet("/", ListAsync).Audited("handover.list", Category, "handovers").Decides("read");
        group.MapPost("/{handoverId}/revoke", RevokeAsync).Audited("handover.revoke", Category, "revokedAt").Decides("write");
        return app;
    }

    private static async Task<Results<Created<HandoverView>, Ok<HandoverView>, ProblemHttpResult>> RecordAsync(
        HandoverRequest request, Decided decided, HttpContext http, ExchangeDbContext db, UnitOfWork work, TimeProvider clock, CancellationToken ct)
    {
        var caller = Caller.From(http.User);
        var child = decided.ChildId;
        string from;
        if (caller.CouncilLaNumber is { } own)
        {
            if (request.From is not null && request.From != caller.Organisation)
            {
                return Invalid("A council hands over the history of its own care episodes only: leave from out.");
            }

            from = own;
        }
        else if (request.From is null)
        {
            return Invalid("from is required: name the council whose care episodes' history is handed over.");
        }
        else
        {
            from = request.From[3..];
        }

        var to = request.To![3..];
        await work.BeginAsync(ct).ConfigureAwait(false);
        var councils = await db.CareEpisodes.AsNoTracking().Where(e => e.ChildId == child).Select(e => e.ResponsibleLaNumber).Distinct()
            .ToListAsync(ct).ConfigureAwait(false);
        if (!councils.Contains(from) || !councils.Contains(to) || from == to)
        {
            return Invalid("from must be a council that looked after the child, and to another council with a care episode for the child.");
        }

        var categories = request.Categories!.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        // A retry finds the handover it recorded.
        var existing = (await db.CareHandovers.AsNoTracking()
                .Where(h => h.ChildId == child && h.FromLaNumber == from && h.ToLaNumber == to && h.RevokedAt == null).ToListAsync(ct).ConfigureAwait(false))
            .FirstOrDefault(h => h.Categories.Order(StringComparer.Ordinal).SequenceEqual(categories));
        if (existing is not null)
        {
            return TypedResults.Ok(View(existing));
        }

        var handover = new CareHandover
        {
            Id = Guid.NewGuid(), ChildId = child, FromLaNumber = from, ToLaNumber = to, Categories = categories,
            RecordedBy = caller.Organisation, RecordedAt = clock.UtcNowToMillisecond(),
        };
        db.CareHandovers.Add(handover);
        await work.CommitAsync(Outcome.Created(child), ct).ConfigureAwait(false);
        return TypedResults.Created($"/v1/children/{child}/handovers/{handover.Id}", View(handover));
    }

    /// <summary>A council sees the handovers it gave or received; the operator's DPO all of the child's.</summary>
    private static async Task<Ok<ListView<HandoverView>>> ListAsync(Decided decided, HttpContext http, ExchangeDbContext db, CancellationToken ct)
    {
        var child = decided.ChildId;
        var la = Caller.From(http.User).CouncilLaNumber;
        var query = db.CareHandovers.AsNoTracking().Where(h => h.ChildId == child);
        if (la is not null)
        {
            query = query.Where(h => h.FromLaNumber == la || h.ToLaNumber == la);
        }

        var rows = await query.OrderBy(h => h.RecordedAt).ToListAsync(ct).ConfigureAwait(false);
        return TypedResults.Ok(new ListView<HandoverView>(rows.Select(View).ToList()));
    }

    /// <summary>Idempotent: revoking a revoked handover answers the same. A council revokes the handovers it gave.</summary>
    private static async Task<Results<Ok<HandoverView>, ProblemHttpResult>> RevokeAsync(
        string handoverId, Decided decided, HttpContext http, ExchangeDbContext db, UnitOfWork work, TimeProvider clock, CancellationToken ct)
    {
        var caller = Caller.From(http.User);
        var child = decided.ChildId;
        var la = caller.CouncilLaNumber;
        await work.BeginAsync(ct).ConfigureAwait(false);
        var handover = Guid.TryParse(handoverId, CultureInfo.InvariantCulture, out var id)
            ? await db.CareHandovers.FirstOrDefaultAsync(h => h.Id == id && h.ChildId == child && (la == null || h.FromLaNumber == la), ct).ConfigureAwait(false)
            : null;
        if (handover is null)
        {
            return Problems.Result(ProblemTypes.HandoverNotFound);
        }

        if (handover.RevokedAt is null)
        {
            handover.RevokedAt = clock.UtcNowToMillisecond();
            handover.RevokedBy = caller.Organisation;
            await work.CommitAsync(Outcome.Ok(child), ct).ConfigureAwait(false);
        }

        return TypedResults.Ok(View(handover));
    }

    private static ProblemHttpResult Invalid(string detail) => Problems.Result(ProblemTypes.HandoverInvalid, detail);

    private static HandoverView View(CareHandover h) =>
        new(h.Id, h.ChildId, "la:" + h.FromLaNumber, "la:" + h.ToLaNumber, h.Categories, h.RecordedBy, h.RecordedAt, h.RevokedAt);
}
