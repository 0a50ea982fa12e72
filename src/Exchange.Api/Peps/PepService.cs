using System.Text.Json;
using Exchange.Api.Auth;
using Exchange.Api.Dates;
using Exchange.Api.Decisions;
using Exchange.Api.Errors;
using Exchange.Api.Policy;
using Exchange.Api.Storage;
using Exchange.Api.Work;
using Exchange.Crypto.Sealing;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Exchange.Api.Peps;

/// <summary>
/// A child's Personal Education Plan (docs/PEPS.md): saved as versions, moved through draft → submitted → returned or
/// approved, each step a new version with optimistic concurrency on the version number (ETag / If-Match), and its due
/// date computed from the child's care, school and last approved review. Who may act is the policy's decision, taken
/// before the handler; which step belongs to whom (the school submits, the council returns or approves) is checked here.
/// </summary>
public sealed class PepService(ExchangeDbContext db, UnitOfWork work, FieldSealer sealer, TimeProvider clock)
{
    public const string Entity = "pep_versions";

    private static readonly string[] ContentFields =
        ["designatedTeacher", "attendees", "targets", "pupilPremiumPlus", "senStatus", "attainment", "pupilVoice", "carerViews"];

    private static readonly JsonSerializerOptions ContentJson = new(JsonSerializerDefaults.Web);

    /// <summary>Where a version's sealed part is bound: to the child's data key, the version row and the part (content, healthSection, returnReason).</summary>
    public static FieldPlace Place(string childId, Guid versionId, string field) => new(Entity, field, childId, versionId.ToString("N"));

    /// <summary>The answer to a write: the status and the version saved (its ETag), or the refusal.</summary>
    public sealed record Saved(int Status, PepView? View, ProblemTypes.ProblemType? Problem = null, string? Detail = null);

    /// <summary>The current plan, or null when the child has none (or none the caller may see).</summary>
    public async Task<PepView?> CurrentAsync(Decided decided, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(decided);
        var (versions, care) = await ReadAsync(decided.ChildId, ct).ConfigureAwait(false);
        var released = Released(decided, versions, care);
        return released.Count == 0 || released[^1] != versions[^1] ? null : await ViewAsync(decided, released, versions[^1], care, ct).ConfigureAwait(false);
    }

    /// <summary>The plan's history the permit releases (see <see cref="Released"/>).</summary>
    public async Task<PepVersionsView> HistoryAsync(Decided decided, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(decided);
        var (versions, care) = await ReadAsync(decided.ChildId, ct).ConfigureAwait(false);
        return new PepVersionsView(Released(decided, versions, care)
            .Select(v => new PepVersionSummary(v.Version, v.Status, v.MeetingDate.Iso(), v.Quality, v.RecordedBy, v.RecordedAt)).ToList());
    }

    /// <summary>One version of the plan, if the permit releases it.</summary>
    public async Task<PepView?> VersionAsync(Decided decided, int number, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(decided);
        var (versions, care) = await ReadAsync(decided.ChildId, ct).ConfigureAwait(false);
        var released = Released(decided, versions, care);
        var version = released.FirstOrDefault(v => v.Version == number);
        return version is null ? null : await ViewAsync(decided, released, version, care, ct).ConfigureAwait(false);
    }

    /// <summary>
    /// Saves the plan as a new draft version. The first save needs no If-Match; every later one names the version it
    /// changes. A caller whose mask hides the health section (the designated teacher) may not send one, and keeps the
    /// one held. A submitted plan is with the virtual school and is not changed until it is returned or approved.
    /// </summary>
    public async Task<Saved> SaveAsync(Caller caller, Decided decided, PepRequest request, string? ifMatch, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(caller);
        ArgumentNullException.ThrowIfNull(decided);
        ArgumentNullException.ThrowIfNull(request);
        if (request.HealthSection is not null && decided.Mask.Hides("healthSection"))
        {
            return new Saved(0, null, ProblemTypes.PepHealthNotWritable);
        }

        var child = decided.ChildId;
        var id = Guid.NewGuid();
        var content = new PepContent(request.DesignatedTeacher, request.Attendees, request.Targets, request.PupilPremiumPlus, request.SenStatus,
            request.Attainment, request.PupilVoice, request.CarerViews);
        // Sealed before the write gate: key work may be remote.
        var sealedContent = await sealer.SealAsync(Place(child, id, "content"), JsonSerializer.Serialize(content, ContentJson), ct).ConfigureAwait(false);
        var sealedHealth = request.HealthSection is { } health ? await sealer.SealAsync(Place(child, id, "healthSection"), health, ct).ConfigureAwait(false) : [];

        return await StepAsync(child, ifMatch, allowFirst: true, async latest =>
        {
            if (latest?.Status == PepVersion.Submitted)
            {
                return (null, ProblemTypes.PepUnderReview);
            }

            var keptHealth = sealedHealth;
            if (request.HealthSection is null && latest is not null && latest.SealedHealth.Length > 0)
            {
                // A save that leaves the health section out keeps the one held, sealed again for this version: the designated
                // teacher cannot see it, and a council's client that does not send it back must not delete it by omission.
                keptHealth = await ResealAsync(child, latest, "healthSection", latest.SealedHealth, id, ct).ConfigureAwait(false);
            }

            return (new PepVersion
            {
                Id = id, ChildId = child, Version = (latest?.Version ?? 0) + 1, Status = PepVersion.Draft, MeetingDate = IsoDates.ParseIso(request.MeetingDate!),
                NextReviewDate = request.NextReviewDate is { } next ? IsoDates.ParseIso(next) : null, SealedContent = sealedContent, SealedHealth = keptHealth,
                SealedReturnReason = [], SchoolId = await CurrentSchoolAsync(child, ct).ConfigureAwait(false), RecordedBy = caller.Organisation,
                RecordedAt = clock.UtcNowToMillisecond(),
            }, null);
        }, decided, ct).ConfigureAwait(false);
    }

    /// <summary>The designated teacher's school submits a draft or returned plan to the virtual school.</summary>
    public Task<Saved> SubmitAsync(Caller caller, Decided decided, string? ifMatch, CancellationToken ct) =>
        TransitionAsync(caller, decided, ifMatch, School, [PepVersion.Draft, PepVersion.Returned], PepVersion.Submitted, OutboxItem.PepSubmitted, null, null, ct);

    /// <summary>The virtual school returns a submitted plan with what it needs.</summary>
    public Task<Saved> ReturnAsync(Caller caller, Decided decided, PepReturnRequest request, string? ifMatch, CancellationToken ct) =>
        TransitionAsync(caller, decided, ifMatch, Council, [PepVersion.Submitted], PepVersion.Returned, OutboxItem.PepReturned, request?.Reason, null, ct);

    /// <summary>The virtual school approves a submitted plan, rating its quality.</summary>
    public Task<Saved> ApproveAsync(Caller caller, Decided decided, PepApproveRequest request, string? ifMatch, CancellationToken ct) =>
        TransitionAsync(caller, decided, ifMatch, Council, [PepVersion.Submitted], PepVersion.Approved, OutboxItem.PepApproved, null, request?.Quality, ct);

    private const string School = "school:";
    private const string Council = "la:";

    private async Task<Saved> TransitionAsync(
        Caller caller, Decided decided, string? ifMatch, string actor, string[] from, string to, string notice, string? reason, string? quality, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(caller);
        ArgumentNullException.ThrowIfNull(decided);
        if (!caller.Organisation.StartsWith(actor, StringComparison.Ordinal))
        {
            return new Saved(0, null, ProblemTypes.PepStepNotYours);
        }

        var child = decided.ChildId;
        var id = Guid.NewGuid();
        var sealedReason = reason is null ? [] : await sealer.SealAsync(Place(child, id, "returnReason"), reason, ct).ConfigureAwait(false);
        // The plan itself is unchanged: its sealed parts are sealed again for the new version's place. That key work is
        // done before the write gate on the version read now; under the gate it is redone only if another step came first.
        var seen = await db.PepVersions.AsNoTracking().Where(v => v.ChildId == child).OrderByDescending(v => v.Version).FirstOrDefaultAsync(ct).ConfigureAwait(false);
        (byte[] Content, byte[] Health)? resealed = seen is null ? null : await ResealPlanAsync(child, seen, id, ct).ConfigureAwait(false);
        return await StepAsync(child, ifMatch, allowFirst: false, async latest =>
        {
            if (!from.Contains(latest!.Status, StringComparer.Ordinal))
            {
                return (null, ProblemTypes.PepTransition);
            }

            var (content, health) = latest.Id == seen?.Id ? resealed!.Value : await ResealPlanAsync(child, latest, id, ct).ConfigureAwait(false);
            return (new PepVersion
            {
                Id = id, ChildId = child, Version = latest.Version + 1, Status = to, MeetingDate = latest.MeetingDate, NextReviewDate = latest.NextReviewDate,
                Quality = quality, SealedContent = content, SealedHealth = health, SealedReturnReason = sealedReason, SchoolId = latest.SchoolId,
                RecordedBy = caller.Organisation, RecordedAt = clock.UtcNowToMillisecond(),
            }, null);
        }, decided, ct, notice).ConfigureAwait(false);
    }

    private async Task<(byte[] Content, byte[] Health)> ResealPlanAsync(string child, PepVersion from, Guid to, CancellationToken ct) =>
        (await ResealAsync(child, from, "content", from.SealedContent, to, ct).ConfigureAwait(false),
         from.SealedHealth.Length == 0 ? [] : await ResealAsync(child, from, "healthSection", from.SealedHealth, to, ct).ConfigureAwait(false));

    /// <summary>
    /// One step of the plan in one unit of work: the version it changes is read under the write gate (and, on PostgreSQL,
    /// a per-child lock), If-Match is checked against it, and the new version, its outbox item and the audit event are
    /// committed together. The unique (child, version) index backs the check.
    /// </summary>
    private async Task<Saved> StepAsync(
        string child, string? ifMatch, bool allowFirst, Func<PepVersion?, Task<(PepVersion? Next, ProblemTypes.ProblemType? Problem)>> next, Decided decided,
        CancellationToken ct, string? notice = null)
    {
        await work.BeginAsync(ct).ConfigureAwait(false);
        if (db.Database.IsNpgsql())
        {
            await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock(hashtext({"pep:" + child}))", ct).ConfigureAwait(false);
        }

        if (!await InCareAsync(child, ct).ConfigureAwait(false))
        {
            await work.RollbackAsync(ct).ConfigureAwait(false);
            return new Saved(0, null, ProblemTypes.PepNotInCare);
        }

        var latest = await db.PepVersions.AsNoTracking().Where(v => v.ChildId == child).OrderByDescending(v => v.Version).FirstOrDefaultAsync(ct).ConfigureAwait(false);
        var precondition = Precondition(latest, ifMatch, allowFirst);
        if (precondition is not null)
        {
            await work.RollbackAsync(ct).ConfigureAwait(false);
            return new Saved(0, null, precondition);
        }

        var (version, refusal) = await next(latest).ConfigureAwait(false);
        if (refusal is not null)
        {
            await work.RollbackAsync(ct).ConfigureAwait(false);
            return new Saved(0, null, refusal);
        }

        db.PepVersions.Add(version!);
        if (notice is not null)
        {
            // Told in the same transaction: the step and its notice are committed together or not at all.
            db.OutboxItems.Add(new OutboxItem { Id = Guid.NewGuid(), Type = notice, ChildId = child, RaisedBy = version!.RecordedBy, OccurredAt = version.RecordedAt });
        }

        var created = latest is null;
        await work.CommitAsync(created ? Outcome.Created(child) : Outcome.Ok(child), ct).ConfigureAwait(false);
        var (versions, care) = await ReadAsync(child, ct).ConfigureAwait(false);
        return new Saved(created ? StatusCodes.Status201Created : StatusCodes.Status200OK,
            await ViewAsync(decided, Released(decided, versions, care), version!, care, ct).ConfigureAwait(false));
    }

    /// <summary>RFC 9110 If-Match: none may create the first version; an existing plan needs it (428) and it must match (412).</summary>
    private static ProblemTypes.ProblemType? Precondition(PepVersion? latest, string? ifMatch, bool allowFirst)
    {
        if (latest is null)
        {
            // No current representation: any If-Match fails; a step other than the first save needs a plan.
            return !allowFirst ? ProblemTypes.PepNotFound : ifMatch is not null ? ProblemTypes.PreconditionFailed : null;
        }

        if (ifMatch is null)
        {
            return ProblemTypes.PreconditionRequired;
        }

        return PepETag.Matches(ifMatch, latest.Version) ? null : ProblemTypes.PreconditionFailed;
    }

    private Task<bool> InCareAsync(string child, CancellationToken ct)
    {
        var today = DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime);
        return db.CareEpisodes.AsNoTracking().AnyAsync(e => e.ChildId == child && e.StartDate <= today && (e.EndDate == null || e.EndDate >= today), ct);
    }

    private async Task<string?> CurrentSchoolAsync(string child, CancellationToken ct)
    {
        var today = DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime);
        return await db.ChildRelationships.AsNoTracking()
            .Where(r => r.ChildId == child && r.Kind == ChildRelationship.EnrolledSchool && r.StartDate <= today && (r.EndDate == null || r.EndDate >= today))
            .OrderByDescending(r => r.StartDate).Select(r => r.OrganisationId).FirstOrDefaultAsync(ct).ConfigureAwait(false);
    }

    /// <summary>The care that decides the plan's timetable and what is current (see <see cref="CareOf"/>).</summary>
    internal sealed record Care(DateOnly? Since, DateOnly? ChangedSchoolOn);

    private async Task<(List<PepVersion> Versions, Care Care)> ReadAsync(string child, CancellationToken ct) =>
        (await db.PepVersions.AsNoTracking().Where(v => v.ChildId == child).OrderBy(v => v.Version).ToListAsync(ct).ConfigureAwait(false),
         await CareOfAsync(child, ct).ConfigureAwait(false));

    private static List<PepVersion> Released(Decided decided, List<PepVersion> versions, Care care) => Released(decided.Windows, versions, care);

    /// <summary>
    /// The versions (in version order) a permit with <paramref name="windows"/> releases: those recorded within the
    /// caller's periods, and the current one when it was recorded during the child's present care (a new school or
    /// council takes over the plan it needs). A plan from an earlier time in care is not current for a child who came
    /// back into care: it needs a handover like other history. The cohort (docs/COHORT.md) releases the same.
    /// </summary>
    internal static List<PepVersion> Released(DateWindows? windows, List<PepVersion> versions, Care care) =>
        versions.Where(v => (v == versions[^1] && care.Since is { } since && DateOnly.FromDateTime(v.RecordedAt.UtcDateTime) >= since)
            || windows is null
            || windows.Overlaps(DateOnly.FromDateTime(v.RecordedAt.UtcDateTime), DateOnly.FromDateTime(v.RecordedAt.UtcDateTime), v.RecordedAt)).ToList();

    /// <summary>A version as the caller sees it; its first and last-reviewed dates come from the versions it may see.</summary>
    private async Task<PepView> ViewAsync(Decided decided, List<PepVersion> released, PepVersion v, Care care, CancellationToken ct)
    {
        var mask = decided.Mask;
        // Only what the mask shows is opened: a social worker's read opens nothing.
        var content = ContentFields.Any(f => !mask.Hides(f))
            ? await OpenAsync(v, "content", v.SealedContent, ct).ConfigureAwait(false) is { } json ? JsonSerializer.Deserialize<PepContent>(json, ContentJson) : null
            : null;
        var health = !mask.Hides("healthSection") && v.SealedHealth.Length > 0 ? await OpenAsync(v, "healthSection", v.SealedHealth, ct).ConfigureAwait(false) : null;
        var reason = !mask.Hides("returnReason") && v.SealedReturnReason.Length > 0
            ? await OpenAsync(v, "returnReason", v.SealedReturnReason, ct).ConfigureAwait(false) : null;
        var lastReviewed = LastReviewedOn(released);
        var due = care.Since is { } since ? PepSchedule.DueFor(since, care.ChangedSchoolOn, lastReviewed) : null;
        var today = DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime);
        return new PepView(v.ChildId, v.Version, v.Status, released[0].MeetingDate.Iso(), v.MeetingDate.Iso(), v.NextReviewDate?.Iso(), due?.Due.Iso(), due?.Reason,
            due?.IsOverdue(today), lastReviewed?.Iso(), v.Quality, reason, content?.DesignatedTeacher, content?.Attendees, content?.Targets, content?.PupilPremiumPlus,
            content?.SenStatus, content?.Attainment, content?.PupilVoice, content?.CarerViews, health, v.RecordedBy, v.RecordedAt, PepSchedule.TermDates);
    }

    /// <summary>
    /// The versions of these children's plans without their sealed parts, oldest first per child: for readers of many
    /// children (the cohort, the scheduled checks) that need status and dates and open nothing.
    /// </summary>
    internal static async Task<Dictionary<string, List<PepVersion>>> StatusesOfAsync(ExchangeDbContext db, List<string> children, CancellationToken ct) =>
        (await db.PepVersions.AsNoTracking().Where(v => EF.Parameter(children).Contains(v.ChildId))
            .Select(v => new PepVersion
            {
                Id = v.Id, ChildId = v.ChildId, Version = v.Version, Status = v.Status, MeetingDate = v.MeetingDate, RecordedAt = v.RecordedAt, RecordedBy = v.RecordedBy,
                SealedContent = Array.Empty<byte>(), SealedHealth = Array.Empty<byte>(), SealedReturnReason = Array.Empty<byte>(),
            }).ToListAsync(ct).ConfigureAwait(false))
        .GroupBy(v => v.ChildId, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.OrderBy(v => v.Version).ToList(), StringComparer.Ordinal);

    internal static DateOnly? LastReviewedOn(List<PepVersion> versions) =>
        versions.Where(x => x.Status == PepVersion.Approved).Select(x => (DateOnly?)x.MeetingDate).Max();

    /// <summary>
    /// Since when the child has been in care without a break (episodes with one council after another, with no day
    /// out of care between them, count as one: a move between councils is not entering care), and the day it changed
    /// school during that care, if it did: its current enrolment started after another school's enrolment during the
    /// same care. A school declaring a pupil it has long taught, or a second school (dual registration), is not a change.
    /// </summary>
    private async Task<Care> CareOfAsync(string child, CancellationToken ct)
    {
        var today = DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime);
        var episodes = await db.CareEpisodes.AsNoTracking().Where(e => e.ChildId == child && e.StartDate <= today)
            .Select(e => new { e.StartDate, e.EndDate }).ToListAsync(ct).ConfigureAwait(false);
        var enrolments = await db.ChildRelationships.AsNoTracking().Where(r => r.ChildId == child && r.Kind == ChildRelationship.EnrolledSchool && r.StartDate <= today)
            .Select(r => new { r.OrganisationId, r.StartDate, r.EndDate }).ToListAsync(ct).ConfigureAwait(false);
        return CareOf(episodes.Select(e => (e.StartDate, e.EndDate)), enrolments.Select(r => (r.OrganisationId, r.StartDate, r.EndDate)), today);
    }

    /// <summary>
    /// <see cref="CareOfAsync"/> from the child's care episodes (any council's) and enrolments, for callers that read
    /// many children's at once (the cohort).
    /// </summary>
    internal static Care CareOf(IEnumerable<(DateOnly Start, DateOnly? End)> allEpisodes, IEnumerable<(string School, DateOnly Start, DateOnly? End)> allEnrolments, DateOnly today)
    {
        // Loops rather than queries: the cohort and the checks work this out for every child in care.
        var episodes = allEpisodes.Where(e => e.Start <= today).ToList();
        (DateOnly Start, DateOnly? End)? current = null;
        foreach (var e in episodes)
        {
            // The latest current episode (the first of equals).
            if ((e.End is null || e.End >= today) && (current is null || e.Start > current.Value.Start))
            {
                current = e;
            }
        }

        if (current is null)
        {
            return new Care(null, null);
        }

        // Back through episodes that ended the day before (or after) the one found began: care without a break.
        var since = current.Value.Start;
        for (var found = true; found;)
        {
            found = false;
            foreach (var e in episodes)
            {
                if (e.Start < since && e.End is { } end && end >= since.AddDays(-1))
                {
                    since = e.Start;
                    found = true;
                    break;
                }
            }
        }

        var enrolments = allEnrolments.Where(r => r.Start <= today).ToList();
        (string School, DateOnly Start, DateOnly? End)? school = null;
        foreach (var r in enrolments)
        {
            if ((r.End is null || r.End >= today) && (school is null || r.Start > school.Value.Start))
            {
                school = r;
            }
        }

        var moved = school is { } now && now.Start > since
            && enrolments.Any(r => r.School != now.School && r.Start < now.Start && (r.End is null || r.End >= since)
                && !(r.End is null || r.End >= today));
        return new Care(since, moved ? school!.Value.Start : null);
    }

    private async Task<string?> OpenAsync(PepVersion v, string field, byte[] sealedValue, CancellationToken ct) =>
        await sealer.OpenAsync(Place(v.ChildId, v.Id, field), sealedValue, ct).ConfigureAwait(false) is OpenedField.Opened opened ? opened.Value : null;

    private async Task<byte[]> ResealAsync(string child, PepVersion from, string field, byte[] sealedValue, Guid to, CancellationToken ct) =>
        await OpenAsync(from, field, sealedValue, ct).ConfigureAwait(false) is { } value
            ? await sealer.SealAsync(Place(child, to, field), value, ct).ConfigureAwait(false)
            : [];
}
