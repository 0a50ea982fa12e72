using Exchange.Api.Hosting;
using Exchange.Api.Auditing;
using Exchange.Api.Auth;
using Exchange.Api.Errors;
using Exchange.Api.Identity;
using Exchange.Api.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Exchange.Api.Relationships;

/// <summary>Records relationship facts for children in the caller council's care.</summary>
public sealed class RelationshipService(ExchangeDbContext db, IdentityService identity, IWriteGate gate, AuditTrail audit, TimeProvider clock)
{
    public async Task<Results<Created<RelationshipView>, Ok<RelationshipView>, ProblemHttpResult>> RecordAsync(
        Caller caller, string childId, string kind, string organisationId, DateOnly start, DateOnly? end, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(caller);
        var (child, problem) = await InCallersCareAsync(caller, childId, ct).ConfigureAwait(false);
        if (problem is not null)
        {
            return problem;
        }

        if (!await db.Organisations.AsNoTracking().AnyAsync(o => o.Id == organisationId && o.Active, ct).ConfigureAwait(false))
        {
            return Problems.Result(ProblemTypes.OrganisationNotRegistered, $"{organisationId.Split(':')[0]} is not a registered, active organisation.");
        }

        using var _ = await gate.EnterAsync(ct).ConfigureAwait(false);
        var existing = await db.ChildRelationships.AsNoTracking()
            .FirstOrDefaultAsync(r => r.ChildId == child && r.Kind == kind && r.OrganisationId == organisationId && r.StartDate == start, ct).ConfigureAwait(false);
        if (existing is not null)
        {
            return TypedResults.Ok(View(existing));
        }

        var record = new ChildRelationship
        {
            Id = Guid.NewGuid(), ChildId = child!, Kind = kind, OrganisationId = organisationId, StartDate = start, EndDate = end,
            RecordedBy = caller.Organisation, RecordedAt = clock.GetUtcNow(),
        };
        db.ChildRelationships.Add(record);
        audit.Expect(StatusCodes.Status201Created, child);
        await db.SaveChangesAsync(ct).ConfigureAwait(false);
        return TypedResults.Created($"/v1/relationships/{record.Id}", View(record));
    }

    public async Task<Results<Ok<RelationshipView>, ProblemHttpResult>> EndAsync(Caller caller, Guid id, DateOnly end, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(caller);
        var record = await db.ChildRelationships.FirstOrDefaultAsync(r => r.Id == id && r.Kind == ChildRelationship.EnrolledSchool, ct).ConfigureAwait(false);
        if (record is null || (await InCallersCareAsync(caller, record.ChildId, ct).ConfigureAwait(false)).Problem is not null)
        {
            return Problems.Result(ProblemTypes.RelationshipNotFound);
        }

        if (end < record.StartDate)
        {
            return Problems.Result(ProblemTypes.RelationshipDate, "endDate must not be before the enrolment's start.");
        }

        if (record.EndDate is { } ended)
        {
            return ended == end ? TypedResults.Ok(View(record)) : Problems.Result(ProblemTypes.RelationshipEnded);
        }

        using var _ = await gate.EnterAsync(ct).ConfigureAwait(false);
        record.EndDate = end;
        audit.Expect(StatusCodes.Status200OK, record.ChildId);
        await db.SaveChangesAsync(ct).ConfigureAwait(false);
        return TypedResults.Ok(View(record));
    }

    public async Task<Results<Ok<RelationshipView>, ProblemHttpResult>> EndCareEpisodeAsync(Caller caller, string childId, Guid episodeId, DateOnly end, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(caller);
        // Not the open-episode check: ending an episode that already ended must answer the same again (a retry).
        var survivor = Ids.LooksLikeChildId(childId) ? await identity.SurvivorOfAsync(childId, ct).ConfigureAwait(false) : null;
        var la = caller.CouncilLaNumber;
        var episode = survivor is null || la is null
            ? null
            : await db.CareEpisodes.FirstOrDefaultAsync(e => e.Id == episodeId && e.ChildId == survivor && e.ResponsibleLaNumber == la, ct).ConfigureAwait(false);
        if (episode is null)
        {
            return Problems.Result(ProblemTypes.RelationshipNotFound);
        }

        if (end < episode.StartDate)
        {
            return Problems.Result(ProblemTypes.RelationshipDate, "endDate must not be before the care episode's start.");
        }

        var view = new RelationshipView(episode.Id, "responsible-council", episode.ChildId, "la:" + episode.ResponsibleLaNumber, episode.StartDate.Iso(), end.Iso());
        if (episode.EndDate is { } ended)
        {
            return ended == end ? TypedResults.Ok(view) : Problems.Result(ProblemTypes.RelationshipEnded);
        }

        using var _ = await gate.EnterAsync(ct).ConfigureAwait(false);
        episode.EndDate = end;
        audit.Expect(StatusCodes.Status200OK, episode.ChildId);
        await db.SaveChangesAsync(ct).ConfigureAwait(false);
        return TypedResults.Ok(view);
    }

    /// <summary>The caller must be the council with the child's open care episode; anyone else learns nothing (404).</summary>
    public async Task<(string? ChildId, ProblemHttpResult? Problem)> InCallersCareAsync(Caller caller, string childId, CancellationToken ct)
    {
        var notFound = Problems.Result(ProblemTypes.ChildNotFound, "No child with this id is in the caller's care.");
        if (!Ids.LooksLikeChildId(childId) || caller.CouncilLaNumber is not { } la)
        {
            return (null, notFound);
        }

        var survivor = await identity.SurvivorOfAsync(childId, ct).ConfigureAwait(false);
        if (!await db.CareEpisodes.AsNoTracking().AnyAsync(e => e.ChildId == survivor && e.ResponsibleLaNumber == la && e.EndDate == null, ct).ConfigureAwait(false))
        {
            return (null, notFound);
        }

        return await db.Children.AsNoTracking().AnyAsync(c => c.Id == survivor && c.ErasedAt != null, ct).ConfigureAwait(false)
            ? (null, Problems.Result(ProblemTypes.ChildErased, "This child's data has been erased."))
            : (survivor, null);
    }

    private static RelationshipView View(ChildRelationship r) => new(r.Id, r.Kind, r.ChildId, r.OrganisationId, r.StartDate.Iso(), r.EndDate?.Iso());
}
