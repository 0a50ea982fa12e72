using Exchange.Api.Decisions;
using Exchange.Api.Dates;
using Exchange.Api.Auditing;
using Exchange.Api.Auth;
using Exchange.Api.Errors;
using Exchange.Api.Storage;
using Exchange.Api.Work;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Exchange.Api.Relationships;

/// <summary>
/// Records relationship facts. Who may record them is the policy's decision, taken before the handler runs; the
/// child is the one the decision resolved (<see cref="Decisions.Decided.ChildId"/>).
/// </summary>
public sealed class RelationshipService(ExchangeDbContext db, UnitOfWork work, TimeProvider clock)
{
    public async Task<Results<Created<RelationshipView>, Ok<RelationshipView>, ProblemHttpResult>> RecordAsync(
        Caller caller, string child, string kind, string organisationId, DateOnly start, DateOnly? end, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(caller);
        if (!await db.Organisations.AsNoTracking().AnyAsync(o => o.Id == organisationId && o.Active, ct).ConfigureAwait(false))
        {
            return Problems.Result(ProblemTypes.OrganisationNotRegistered, $"{organisationId.Split(':')[0]} is not a registered, active organisation.");
        }

        await work.BeginAsync(ct).ConfigureAwait(false);
        var existing = await db.ChildRelationships.AsNoTracking()
            .FirstOrDefaultAsync(r => r.ChildId == child && r.Kind == kind && r.OrganisationId == organisationId && r.StartDate == start, ct).ConfigureAwait(false)
            // An enrolment at the same school already in force on that day is the same fact (a school declaring a pupil
            // the council enrolled, a retry): one enrolment, not two overlapping ones.
            ?? (kind == ChildRelationship.EnrolledSchool
                ? await db.ChildRelationships.AsNoTracking()
                    .Where(r => r.ChildId == child && r.Kind == kind && r.OrganisationId == organisationId && r.StartDate <= start && (r.EndDate == null || r.EndDate >= start))
                    .OrderByDescending(r => r.StartDate).FirstOrDefaultAsync(ct).ConfigureAwait(false)
                : null);
        if (existing is not null)
        {
            return TypedResults.Ok(View(existing));
        }

        var record = new ChildRelationship
        {
            Id = Guid.NewGuid(), ChildId = child, Kind = kind, OrganisationId = organisationId, StartDate = start, EndDate = end,
            RecordedBy = caller.Organisation, RecordedAt = clock.GetUtcNow(),
        };
        db.ChildRelationships.Add(record);
        if (kind == ChildRelationship.EnrolledSchool)
        {
            // Told in the same transaction: the enrolment and its notice are committed together or not at all.
            db.OutboxItems.Add(new OutboxItem { Id = Guid.NewGuid(), Type = OutboxItem.PupilEnrolled, ChildId = child, RaisedBy = caller.Organisation, OccurredAt = record.RecordedAt });
        }
        else if (kind == ChildRelationship.HostCouncil)
        {
            // A child lives in one place at a time: a new placement ends the one before it the day before it starts, so
            // the council the child has left stops being the host council (and stops hearing of the child).
            await work.UpdateAsync(db.ChildRelationships.Where(r => r.ChildId == child && r.Kind == ChildRelationship.HostCouncil
                    && r.StartDate < start && (r.EndDate == null || r.EndDate >= start)),
                u => u.SetProperty(r => r.EndDate, start.AddDays(-1)).SetProperty(r => r.EndedAt, record.RecordedAt), ct).ConfigureAwait(false);
            // A move: the responsible council, and the council the child now lives in, hear of it.
            db.OutboxItems.Add(new OutboxItem { Id = Guid.NewGuid(), Type = OutboxItem.PlacementChanged, ChildId = child, RaisedBy = caller.Organisation, OccurredAt = record.RecordedAt });
        }

        await work.CommitAsync(Outcome.Created(child), ct).ConfigureAwait(false);
        return TypedResults.Created($"/v1/relationships/{record.Id}", View(record));
    }

    public async Task<Results<Ok<RelationshipView>, ProblemHttpResult>> EndAsync(Caller caller, Guid id, DateOnly end, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(caller);
        // The decision was taken on this record's child (the endpoint's locator found it by the same id).
        var record = await db.ChildRelationships.FirstOrDefaultAsync(r => r.Id == id && r.Kind == ChildRelationship.EnrolledSchool, ct).ConfigureAwait(false);
        // A school ends only its own enrolments (a council, responsible for the child, ends any that is wrong).
        if (record is null || (caller.CouncilLaNumber is null && record.OrganisationId != caller.Organisation))
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

        await work.BeginAsync(ct).ConfigureAwait(false);
        record.EndDate = end;
        record.EndedAt = clock.GetUtcNow();
        db.OutboxItems.Add(new OutboxItem { Id = Guid.NewGuid(), Type = OutboxItem.PupilLeft, ChildId = record.ChildId, RaisedBy = caller.Organisation, OccurredAt = record.EndedAt.Value });
        await work.CommitAsync(Outcome.Ok(record.ChildId), ct).ConfigureAwait(false);
        return TypedResults.Ok(View(record));
    }

    public async Task<Results<Ok<RelationshipView>, ProblemHttpResult>> EndCareEpisodeAsync(Caller caller, string child, Guid episodeId, DateOnly end, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(caller);
        // A council ends its own episodes only (the child may have had others, with other councils). An episode
        // that already ended answers the same again (a retry).
        var la = caller.CouncilLaNumber;
        var episode = la is null
            ? null
            : await db.CareEpisodes.FirstOrDefaultAsync(e => e.Id == episodeId && e.ChildId == child && e.ResponsibleLaNumber == la, ct).ConfigureAwait(false);
        if (episode is null)
        {
            return Problems.Result(ProblemTypes.RelationshipNotFound);
        }

        if (end < episode.StartDate)
        {
            return Problems.Result(ProblemTypes.RelationshipDate, "endDate must not be before the care episode's start.");
        }

        var view = new RelationshipView(episode.Id, ChildRelationship.ResponsibleCouncil, episode.ChildId, "la:" + episode.ResponsibleLaNumber, episode.StartDate.Iso(), end.Iso());
        if (episode.EndDate is { } ended)
        {
            return ended == end ? TypedResults.Ok(view) : Problems.Result(ProblemTypes.RelationshipEnded);
        }

        await work.BeginAsync(ct).ConfigureAwait(false);
        episode.EndDate = end;
        episode.EndedAt = clock.GetUtcNow();
        await work.CommitAsync(Outcome.Ok(episode.ChildId), ct).ConfigureAwait(false);
        return TypedResults.Ok(view);
    }

    private static RelationshipView View(ChildRelationship r) => new(r.Id, r.Kind, r.ChildId, r.OrganisationId, r.StartDate.Iso(), r.EndDate?.Iso());
}
