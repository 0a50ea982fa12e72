using Exchange.Api.Auth;
using Exchange.Api.Dates;
using Exchange.Api.Decisions;
using Exchange.Api.Errors;
using Exchange.Api.Storage;
using Exchange.Api.Work;
using Exchange.Crypto.Sealing;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Exchange.Api.Exclusions;

/// <summary>
/// Records a school's suspension or permanent exclusion of a pupil, and reads them back as the policy releases them.
/// Who may record is the policy's decision, taken before the handler (the <c>school-mis-own-pupils</c> rule: a
/// current enrolment); here the exclusion's own date is checked against the school's enrolment and the child's care.
/// </summary>
public sealed class ExclusionService(ExchangeDbContext db, UnitOfWork work, FieldSealer sealer, TimeProvider clock)
{
    public const string ReasonEntity = "exclusions";

    /// <summary>Where an exclusion's reason text is sealed: bound to the child's data key and to the record.</summary>
    public static FieldPlace ReasonPlace(string childId, Guid exclusionId) => new(ReasonEntity, "reasonText", childId, exclusionId.ToString("N"));

    /// <summary>
    /// Stores the exclusion with an <c>exclusion-recorded</c> outbox item for the responsible council, in one unit of
    /// work; a permanent exclusion also ends the school's enrolment on its start date. The same exclusion sent again
    /// answers 200 with the record held; one of the same type from the same day with other details is 409.
    /// </summary>
    public async Task<Results<Created<ExclusionView>, Ok<ExclusionView>, ProblemHttpResult>> RecordAsync(
        Caller caller, Decided decided, ExclusionRequest request, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(caller);
        ArgumentNullException.ThrowIfNull(decided);
        ArgumentNullException.ThrowIfNull(request);
        var school = caller.Organisation;
        if (!school.StartsWith("school:", StringComparison.Ordinal))
        {
            // An exclusion is the head teacher's decision, recorded by the school that made it; a council reads it.
            return Problems.Result(ProblemTypes.Forbidden, "Exclusions are recorded by the school's MIS.");
        }

        var child = decided.ChildId;
        var start = IsoDates.ParseIso(request.StartDate!);
        if (!await db.ChildRelationships.AsNoTracking().AnyAsync(r => r.ChildId == child && r.Kind == ChildRelationship.EnrolledSchool
                && r.OrganisationId == school && r.StartDate <= start && (r.EndDate == null || r.EndDate >= start), ct).ConfigureAwait(false))
        {
            return Problems.Result(ProblemTypes.ExclusionNotEnrolled);
        }

        if (!await db.CareEpisodes.AsNoTracking().AnyAsync(e => e.ChildId == child && e.StartDate <= start && (e.EndDate == null || e.EndDate >= start), ct)
                .ConfigureAwait(false))
        {
            return Problems.Result(ProblemTypes.ExclusionNotInCare);
        }

        var id = Guid.NewGuid();
        // Sealed before the write gate: key work may be remote.
        var sealedText = request.ReasonText is { } text ? await sealer.SealAsync(ReasonPlace(child, id), text, ct).ConfigureAwait(false) : [];

        await work.BeginAsync(ct).ConfigureAwait(false);
        if (db.Database.IsNpgsql())
        {
            // Check-then-insert per child: a retry racing the first request finds its record instead of failing on the index.
            await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock(hashtext({"exclusion:" + child}))", ct).ConfigureAwait(false);
        }

        var existing = await db.Exclusions.AsNoTracking()
            .FirstOrDefaultAsync(x => x.ChildId == child && x.SchoolId == school && x.Type == request.Type && x.StartDate == start, ct).ConfigureAwait(false);
        if (existing is not null)
        {
            var existingText = await TextOfAsync(existing, ct).ConfigureAwait(false);
            return existing.Sessions == request.Sessions && existing.ReasonCode == request.ReasonCode && existingText == request.ReasonText
                ? TypedResults.Ok(View(existing, existingText))
                : Problems.Result(ProblemTypes.ExclusionExists);
        }

        var record = new Exclusion
        {
            Id = id, ChildId = child, SchoolId = school, Type = request.Type!, StartDate = start, Sessions = request.Sessions,
            ReasonCode = request.ReasonCode!, SealedReasonText = sealedText, RecordedAt = clock.UtcNowToMillisecond(),
        };
        db.Exclusions.Add(record);
        // Told in the same transaction: the exclusion and its notice are committed together or not at all.
        db.OutboxItems.Add(new OutboxItem { Id = Guid.NewGuid(), Type = OutboxItem.ExclusionRecorded, ChildId = child, RaisedBy = school, OccurredAt = record.RecordedAt });
        if (record.Type == Exclusion.Permanent)
        {
            // A permanently excluded pupil leaves the school's roll: the enrolment ends on the exclusion's date.
            var ended = await work.UpdateAsync(db.ChildRelationships.Where(r => r.ChildId == child && r.Kind == ChildRelationship.EnrolledSchool && r.OrganisationId == school
                    && r.StartDate <= start && (r.EndDate == null || r.EndDate > start)),
                set => set.SetProperty(r => r.EndDate, start).SetProperty(r => r.EndedAt, record.RecordedAt), ct).ConfigureAwait(false);
            if (ended > 0)
            {
                db.OutboxItems.Add(new OutboxItem { Id = Guid.NewGuid(), Type = OutboxItem.PupilLeft, ChildId = child, RaisedBy = school, OccurredAt = record.RecordedAt });
            }
        }

        await work.CommitAsync(Outcome.Created(child), ct).ConfigureAwait(false);
        return TypedResults.Created($"/v1/children/{child}/exclusions", View(record, request.ReasonText));
    }

    /// <summary>
    /// The child's exclusions the permit releases: a school only its own, a council every school's, each within the
    /// caller's periods. The reason text is opened only for a caller whose mask shows it.
    /// </summary>
    public async Task<ExclusionsView> ListAsync(Caller caller, Decided decided, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(caller);
        ArgumentNullException.ThrowIfNull(decided);
        var query = db.Exclusions.AsNoTracking().Where(x => x.ChildId == decided.ChildId);
        if (caller.Organisation.StartsWith("school:", StringComparison.Ordinal))
        {
            query = query.Where(x => x.SchoolId == caller.Organisation);
        }

        var rows = (await query.ToListAsync(ct).ConfigureAwait(false))
            .Where(x => decided.Windows is not { } windows || windows.Overlaps(x.StartDate, x.StartDate, x.RecordedAt))
            .OrderByDescending(x => x.StartDate).ThenByDescending(x => x.RecordedAt).ToList();
        var showText = !decided.Mask.Hides("reasonText");
        var items = new List<ExclusionView>(rows.Count);
        foreach (var row in rows)
        {
            items.Add(View(row, showText ? await TextOfAsync(row, ct).ConfigureAwait(false) : null));
        }

        return new ExclusionsView(items);
    }

    private async Task<string?> TextOfAsync(Exclusion row, CancellationToken ct) =>
        row.SealedReasonText.Length == 0 ? null
        : await sealer.OpenAsync(ReasonPlace(row.ChildId, row.Id), row.SealedReasonText, ct).ConfigureAwait(false) is OpenedField.Opened opened ? opened.Value : null;

    private static ExclusionView View(Exclusion x, string? text) =>
        new(x.Id, x.ChildId, x.Type, x.StartDate.Iso(), x.Sessions, x.ReasonCode, text, x.SchoolId, x.RecordedAt);
}
