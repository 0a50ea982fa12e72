using Exchange.Api.Attendance;
using Exchange.Api.Auth;
using Exchange.Api.Configuration;
using Exchange.Api.Dates;
using Exchange.Api.Peps;
using Exchange.Api.Policy;
using Exchange.Api.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Exchange.Api.Cohort;

/// <summary>
/// One child in the council's care as its virtual school (or social worker) sees it. A part the caller may not read
/// for this child (its category is not permitted, or its field is masked) is null; a field the cohort mask hides is
/// left out of the answer altogether.
/// </summary>
/// <param name="School">The current school's URN.</param>
/// <param name="SchoolCouncil">The LA number of the council the current school is in (another council's: out of borough).</param>
/// <param name="PlacementCouncil">The LA number of the council the child is placed in now.</param>
/// <param name="OpenExclusions">Suspensions running today and permanent exclusions with no school since.</param>
/// <param name="PepStatus">The current plan's status; null when there is none the caller may see.</param>
/// <param name="ReviewDue">By when the next PEP must be held and approved (docs/PEPS.md).</param>
public sealed record CohortRow(
    string ChildId, string? School, string? SchoolCouncil, string? PlacementCouncil, int? PossibleSessions, int? AttendedSessions, int? AuthorisedAbsence,
    int? UnauthorisedAbsence, decimal? AttendanceRate, int? OpenExclusions, string? PepStatus, string? ReviewDue, IReadOnlyList<string> Flags);

/// <summary>A page of the cohort: the attendance period the summaries cover, the rows, and where the next page starts (null: none).</summary>
public sealed record CohortPage(string AttendanceFrom, string AttendanceTo, string TermDates, IReadOnlyList<CohortRow> Items, string? Next);

/// <summary>What a request asks for: after which child (the cursor), how many rows, which flags all must be set, which school council, changed since when.</summary>
public sealed record CohortQuery(string? After, int Limit, IReadOnlyList<string> Flags, string? SchoolCouncil, DateTimeOffset? UpdatedSince);

public static class CohortFlags
{
    public const string PersistentAbsence = "persistent-absence";
    public const string SevereAbsence = "severe-absence";
    public const string MissingEducation = "missing-education";
    public const string PepOverdue = "pep-overdue";
    public const string NoCurrentSchool = "no-current-school";

    public static readonly IReadOnlyList<string> All = [PersistentAbsence, SevereAbsence, MissingEducation, PepOverdue, NoCurrentSchool];
}

/// <summary>
/// The virtual school's cohort (docs/COHORT.md): every child the caller's council looks after today, one row each,
/// in child-id order, page by page. Who is in it is the policy's <c>cohort</c> decision per child; each part of a row
/// is released only where the policy lets the caller read the category it comes from (attendance-summary, exclusions,
/// pep, enrolment, placement) for that child, within its periods and under that category's mask, as the per-child
/// read endpoints release them. Decided and read per chunk of children with set queries.
/// </summary>
public sealed class CohortService(ExchangeDbContext db, AccessDecider decider, TimeProvider clock, IOptions<ExchangeOptions> options)
{
    public const string Category = "cohort";
    public const int DefaultLimit = 500;
    public const int MaxLimit = 5_000;

    private const string AttendanceSummaryCategory = "attendance-summary";
    private const string ExclusionsCategory = "exclusions";
    private const string PepCategory = "pep";
    private const string EnrolmentCategory = "enrolment";
    private const string PlacementCategory = "placement";
    private static readonly string[] Categories = [Category, AttendanceSummaryCategory, ExclusionsCategory, PepCategory, EnrolmentCategory, PlacementCategory];

    /// <summary>The answer and the permit it rests on (null when no row was released).</summary>
    public sealed record Result(CohortPage Page, AccessDecision? AnyPermit);

    /// <summary>The cohort fields the policy lets the caller's roles read for <paramref name="purpose"/> (whatever the child): what a filter may name.</summary>
    public IReadOnlySet<string> FieldsFor(Caller caller, string purpose)
    {
        ArgumentNullException.ThrowIfNull(caller);
        var policy = decider.Policy;
        var all = policy.Categories[Category].Fields;
        return policy.Rules.Where(r => r.Categories.Contains(Category) && r.Actions.Contains("read") && r.Purposes.Contains(purpose) && r.Roles.Any(caller.Roles.Contains))
            .SelectMany(r => r.Fields ?? all).ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>
    /// The page <paramref name="query"/> asks for. <paramref name="listing"/> is told, chunk by chunk and as soon as they
    /// are known, which children the page will list and the permit they are listed under (the audit records them while
    /// the next chunk is read: <see cref="Auditing.AuditTrail.DisclosingAhead"/>).
    /// </summary>
    public async Task<Result> PageAsync(Caller caller, string purpose, CohortQuery query, Action<AccessDecision, IReadOnlyList<string>>? listing, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(caller);
        ArgumentNullException.ThrowIfNull(query);
        var now = clock.GetUtcNow();
        var today = DateOnly.FromDateTime(now.UtcDateTime);
        var year = AcademicYear.Containing(today);
        var rows = new List<CohortRow>();
        AccessDecision? anyPermit = null;
        string? next = null;
        if (caller.Organisation.StartsWith("la:", StringComparison.Ordinal))
        {
            var la = caller.Organisation[3..];
            var after = query.After ?? "";
            // Unfiltered, a page needs one candidate more than its rows (to know whether another follows); filtered, more.
            var unfiltered = query.Flags.Count == 0 && query.SchoolCouncil is null && query.UpdatedSince is null;
            var chunk = Math.Clamp(options.Value.Cohort.ChunkSize, 10, MaxLimit);
            var take = unfiltered ? Math.Min(chunk, query.Limit + 1) : chunk;
            while (next is null)
            {
                var from = after;
                // Child-id order as the database compares (the cursor is compared the same way), so pages neither repeat nor skip.
                var ids = await db.CareEpisodes.AsNoTracking()
                    .Where(e => e.ResponsibleLaNumber == la && e.StartDate <= today && (e.EndDate == null || e.EndDate >= today) && e.ChildId.CompareTo(from) > 0)
                    .Select(e => e.ChildId).Distinct().OrderBy(id => id).Take(take).ToListAsync(ct).ConfigureAwait(false);
                if (ids.Count == 0)
                {
                    break;
                }

                var decisions = await decider.DecideManyAsync(caller, "read", Categories, purpose, ids, ct).ConfigureAwait(false);
                var members = ids.Where(id => decisions[Category][id] is { Decision.Permit: true, Erased: false } d && d.ChildId == id).ToList();
                void Listing(IReadOnlyList<string> listed)
                {
                    if (listed.Count > 0)
                    {
                        anyPermit ??= decisions[Category][listed[0]];
                        listing?.Invoke(anyPermit, listed);
                    }
                }

                // Unfiltered, every member the page has room for is listed: known before its row is built.
                if (unfiltered)
                {
                    Listing(members.Take(query.Limit - rows.Count).ToList());
                }

                var built = await BuildAsync(caller, members, decisions, today, year, query.UpdatedSince, ct).ConfigureAwait(false);
                var matching = ids.Where(id => built.TryGetValue(id, out var row) && Matches(row, query)).ToList();
                var shown = matching.Take(query.Limit - rows.Count).ToList();
                Listing(shown);
                rows.AddRange(shown.Select(id => built[id]));

                if (rows.Count == query.Limit)
                {
                    // A next page when a further row is known (in this chunk) or may follow (in the next chunk).
                    var lastShown = rows[^1].ChildId;
                    if (matching[^1] != lastShown || ids.Count == take)
                    {
                        next = lastShown;
                    }

                    break;
                }

                if (ids.Count < take)
                {
                    break;
                }

                after = ids[^1];
            }
        }

        return new Result(new CohortPage(year.From.Iso(), year.To.Iso(), PepSchedule.TermDates, rows, next is null ? null : CohortCursor.Encode(next)), anyPermit);
    }

    private static bool Matches(CohortRow row, CohortQuery query) =>
        query.Flags.All(row.Flags.Contains) && (query.SchoolCouncil is null || row.SchoolCouncil == query.SchoolCouncil);

    private sealed record Relationship(string ChildId, string Kind, string OrganisationId, DateOnly StartDate, DateOnly? EndDate, string RecordedBy, DateTimeOffset RecordedAt, DateTimeOffset? EndedAt);

    private sealed record Episode(string ChildId, DateOnly StartDate, DateOnly? EndDate, DateTimeOffset RecordedAt, DateTimeOffset? EndedAt);

    private sealed record Merge(string SurvivorChildId, DateTimeOffset MergedAt);

    private sealed record ExclusionFact(string ChildId, string SchoolId, string Type, DateOnly StartDate, int? Sessions, DateTimeOffset RecordedAt);

    /// <summary>The rows of <paramref name="members"/> that pass <paramref name="updatedSince"/>, keyed by child: a handful of set queries for all of them.</summary>
    private async Task<Dictionary<string, CohortRow>> BuildAsync(
        Caller caller, List<string> members, IReadOnlyDictionary<string, IReadOnlyDictionary<string, AccessDecision>> decisions, DateOnly today,
        (DateOnly From, DateOnly To) year, DateTimeOffset? updatedSince, CancellationToken ct)
    {
        var result = new Dictionary<string, CohortRow>(StringComparer.Ordinal);
        if (members.Count == 0)
        {
            return result;
        }

        var relationships = (await db.ChildRelationships.AsNoTracking()
                .Where(r => EF.Parameter(members).Contains(r.ChildId) && (r.Kind == ChildRelationship.EnrolledSchool || r.Kind == ChildRelationship.HostCouncil))
                .Select(r => new Relationship(r.ChildId, r.Kind, r.OrganisationId, r.StartDate, r.EndDate, r.RecordedBy, r.RecordedAt, r.EndedAt)).ToListAsync(ct).ConfigureAwait(false))
            .ToLookup(r => r.ChildId, StringComparer.Ordinal);
        // Every council's episodes: the PEP timetable counts care across councils without a break (PepService.CareOf).
        var episodes = (await db.CareEpisodes.AsNoTracking().Where(e => EF.Parameter(members).Contains(e.ChildId))
                .Select(e => new Episode(e.ChildId, e.StartDate, e.EndDate, e.RecordedAt, e.EndedAt)).ToListAsync(ct).ConfigureAwait(false))
            .ToLookup(e => e.ChildId, StringComparer.Ordinal);
        // A suspension lasts at most 45 school days; a permanent exclusion stays open until the child has a new school.
        var recent = today.AddDays(-120);
        var exclusions = (await db.Exclusions.AsNoTracking()
                .Where(x => EF.Parameter(members).Contains(x.ChildId) && (x.Type == Exclusion.Permanent || x.StartDate >= recent))
                .Select(x => new ExclusionFact(x.ChildId, x.SchoolId, x.Type, x.StartDate, x.Sessions, x.RecordedAt)).ToListAsync(ct).ConfigureAwait(false))
            .ToLookup(x => x.ChildId, StringComparer.Ordinal);
        // The plan's versions without their sealed parts: the cohort opens nothing.
        var versions = await PepService.StatusesOfAsync(db, members, ct).ConfigureAwait(false);
        // This year's current marks counted by school and code as they were stored (YearCounts).
        var marks = await YearCounts.OfYearAsync(db, members, year.From, ct).ConfigureAwait(false);
        var schoolIds = relationships.SelectMany(g => g).Where(r => r.Kind == ChildRelationship.EnrolledSchool).Select(r => r.OrganisationId).Distinct(StringComparer.Ordinal).ToList();
        var schoolCouncils = await db.Organisations.AsNoTracking().Where(o => EF.Parameter(schoolIds).Contains(o.Id))
            .Select(o => new { o.Id, o.LaNumber }).ToDictionaryAsync(o => o.Id, o => o.LaNumber, StringComparer.Ordinal, ct).ConfigureAwait(false);

        // Children whose marks cannot be counted from the totals: two schools marking them on overlapping days (a session
        // may have two marks), or periods that do not cover the whole year. Their marks are read and counted one by one.
        var exact = members.Where(id => decisions[AttendanceSummaryCategory][id] is { Decision.Permit: true } d
            && (!YearCounts.AreSessions(marks[id]) || !CoversYear(d.Windows, year.From))).ToList();
        var exactMarks = exact.Count == 0 ? Array.Empty<AttendanceMark>().ToLookup(m => m.ChildId, StringComparer.Ordinal) : (await db.AttendanceMarks.AsNoTracking()
                .Where(m => EF.Parameter(exact).Contains(m.ChildId) && m.ReplacedAt == null && m.Date >= year.From && m.Date <= today)
                .ToListAsync(ct).ConfigureAwait(false))
            .ToLookup(m => m.ChildId, StringComparer.Ordinal);
        var exactSet = exact.ToHashSet(StringComparer.Ordinal);

        var schoolDays = Math.Clamp(options.Value.Cohort.MissingEducation.SchoolDays, 1, 60);
        var policy = decider.Policy;
        // The fields a permit releases follow from its decision, one category's, which children decided alike share
        // (PolicyEngine.Decide): one mask for each.
        var masks = new Dictionary<PolicyDecision, FieldMask>(ReferenceEqualityComparer.Instance);
        FieldMask MaskOf(AccessDecision d, string category)
        {
            if (!masks.TryGetValue(d.Decision, out var mask))
            {
                masks[d.Decision] = mask = new FieldMask(policy.Categories[category].Fields, d.Decision.Fields);
            }

            return mask;
        }
        var changed = new ChangedSince(updatedSince, today);
        // A merge moves the merged child's records onto the survivor with their own times: the merge is the change.
        // Merges are few: compared here, as every time of change is (ChangedSince), whatever the store.
        List<Merge> merges = updatedSince is null ? [] : await db.ChildMerges.AsNoTracking()
            .Where(m => EF.Parameter(members).Contains(m.SurvivorChildId))
            .Select(m => new Merge(m.SurvivorChildId, m.MergedAt)).ToListAsync(ct).ConfigureAwait(false);
        var mergedSince = merges.ToLookup(m => m.SurvivorChildId, m => m.MergedAt, StringComparer.Ordinal);

        foreach (var id in members)
        {
            changed.Start(year.From);
            foreach (var mergedAt in mergedSince[id])
            {
                changed.Recorded(mergedAt);
            }

            var childRelationships = relationships[id].ToList();
            foreach (var r in childRelationships)
            {
                changed.Recorded(r.EndedAt ?? r.RecordedAt);
                changed.Dated(r.StartDate);
                if (r.EndDate is { } end)
                {
                    changed.Dated(end.AddDays(1));
                }
            }

            foreach (var e in episodes[id])
            {
                changed.Recorded(e.EndedAt ?? e.RecordedAt);
                changed.Dated(e.StartDate);
                if (e.EndDate is { } end)
                {
                    changed.Dated(end.AddDays(1));
                }
            }

            static bool Current(Relationship r, DateOnly day) => r.StartDate <= day && (r.EndDate is null || r.EndDate >= day);
            var enrolment = childRelationships.Where(r => r.Kind == ChildRelationship.EnrolledSchool && Current(r, today)).MaxBy(r => r.StartDate);
            var placement = childRelationships.Where(r => r.Kind == ChildRelationship.HostCouncil && Current(r, today)).MaxBy(r => r.StartDate);

            // Where the child goes to school: the current enrolment is released whatever its start (RelationshipReadsApi).
            var enrolmentAccess = decisions[EnrolmentCategory][id];
            string? school = null, schoolCouncil = null;
            if (enrolment is not null && enrolmentAccess.Decision.Permit && !MaskOf(enrolmentAccess, EnrolmentCategory).Hides("urn"))
            {
                school = enrolment.OrganisationId["school:".Length..];
                schoolCouncil = schoolCouncils.GetValueOrDefault(enrolment.OrganisationId);
            }

            // Where the child lives: the current placement, within the caller's periods.
            var placementAccess = decisions[PlacementCategory][id];
            string? placementCouncil = null;
            if (placement is not null && placementAccess.Decision.Permit && !MaskOf(placementAccess, PlacementCategory).Hides("hostLa")
                && (placementAccess.Windows is not { } pw || pw.Overlaps(placement.StartDate, placement.EndDate, placement.RecordedAt) || placement.RecordedBy == caller.Organisation))
            {
                placementCouncil = placement.OrganisationId[3..];
            }

            var flags = new List<string>();

            // This academic year's attendance, within the caller's periods, counted as AttendanceApi counts it.
            var attendanceAccess = decisions[AttendanceSummaryCategory][id];
            AttendanceSummary? summary = null;
            FieldMask? attendanceMask = null;
            if (attendanceAccess.Decision.Permit)
            {
                attendanceMask = MaskOf(attendanceAccess, AttendanceSummaryCategory);
                if (exactSet.Contains(id))
                {
                    var released = exactMarks[id].Where(m => attendanceAccess.Windows is not { } w || w.Overlaps(m.Date, m.Date, m.RecordedAt)).ToList();
                    summary = AttendanceSummary.Of(AttendanceApi.SessionsOf(released));
                    foreach (var m in released)
                    {
                        changed.Recorded(m.RecordedAt);
                    }
                }
                else
                {
                    summary = YearCounts.Summary(marks[id]);
                    foreach (var m in marks[id])
                    {
                        changed.Recorded(m.LastRecordedAt);
                    }
                }

                if (summary.PersistentAbsence && !attendanceMask.Hides("persistentAbsence"))
                {
                    flags.Add(CohortFlags.PersistentAbsence);
                }

                if (summary.SevereAbsence && !attendanceMask.Hides("severeAbsence"))
                {
                    flags.Add(CohortFlags.SevereAbsence);
                }
            }

            // Missing education: no current school, or no mark from it for the configured number of school days. Today's
            // registers may not be in yet, so the school days counted are those before today.
            if (enrolment is null)
            {
                flags.Add(CohortFlags.MissingEducation);
                flags.Add(CohortFlags.NoCurrentSchool);
            }
            else
            {
                var lastMark = YearCounts.LastMarkFrom(marks[id], enrolment.OrganisationId);
                var missingFrom = Checks.MissingEducationRule.From(enrolment.StartDate, lastMark, year.From, schoolDays);
                changed.Dated(missingFrom);
                if (missingFrom <= today)
                {
                    flags.Add(CohortFlags.MissingEducation);
                }
            }

            // Open exclusions the caller may read, within its periods.
            var exclusionsAccess = decisions[ExclusionsCategory][id];
            int? openExclusions = null;
            if (exclusionsAccess.Decision.Permit && !MaskOf(exclusionsAccess, ExclusionsCategory).Hides("startDate"))
            {
                var visible = exclusions[id].Where(x => exclusionsAccess.Windows is not { } w || w.Overlaps(x.StartDate, x.StartDate, x.RecordedAt)).ToList();
                openExclusions = 0;
                foreach (var x in visible)
                {
                    changed.Recorded(x.RecordedAt);
                    changed.Dated(x.StartDate);
                    if (x.Type == Exclusion.Permanent)
                    {
                        // Open until the child has a current school other than the one that excluded it, started since.
                        if (x.StartDate <= today && !(enrolment is not null && enrolment.OrganisationId != x.SchoolId && enrolment.StartDate >= x.StartDate))
                        {
                            openExclusions++;
                        }
                    }
                    else
                    {
                        // A suspension's sessions are half days, from its first day.
                        var days = Math.Max(1, ((x.Sessions ?? 1) + 1) / 2);
                        var lastDay = days == 1 ? x.StartDate : PepSchedule.AddSchoolDays(x.StartDate, days - 1);
                        changed.Dated(lastDay.AddDays(1));
                        if (x.StartDate <= today && today <= lastDay)
                        {
                            openExclusions++;
                        }
                    }
                }
            }

            // The plan: its current status and when the next is due, from the versions the caller may see (PepService).
            var pepAccess = decisions[PepCategory][id];
            string? pepStatus = null, reviewDue = null;
            if (pepAccess.Decision.Permit)
            {
                var pepMask = MaskOf(pepAccess, PepCategory);
                var care = PepService.CareOf(episodes[id].Select(e => (e.StartDate, e.EndDate)),
                    childRelationships.Where(r => r.Kind == ChildRelationship.EnrolledSchool).Select(r => (r.OrganisationId, r.StartDate, r.EndDate)), today);
                var all = versions.GetValueOrDefault(id) ?? [];
                var released = all.Count == 0 ? [] : PepService.Released(pepAccess.Windows, all, care);
                foreach (var v in released)
                {
                    changed.Recorded(v.RecordedAt);
                }
                if (released.Count > 0 && released[^1] == all[^1] && !pepMask.Hides("status"))
                {
                    pepStatus = all[^1].Status;
                }

                if (care.Since is { } since)
                {
                    var due = PepSchedule.DueFor(since, care.ChangedSchoolOn, PepService.LastReviewedOn(released));
                    changed.Dated(due.Due.AddDays(1));
                    reviewDue = pepMask.Hides("reviewDue") ? null : due.Due.Iso();
                    if (due.IsOverdue(today) && !pepMask.Hides("overdue"))
                    {
                        flags.Add(CohortFlags.PepOverdue);
                    }
                }
            }

            // Changed since: anything it shows was recorded after then, or a date it depends on has come since.
            if (!changed.Any)
            {
                continue;
            }

            int? Shown(int value, string field) => attendanceMask is null || attendanceMask.Hides(field) ? null : value;
            result[id] = new CohortRow(
                id, school, schoolCouncil, placementCouncil,
                summary is null ? null : Shown(summary.PossibleSessions, "possibleSessions"),
                summary is null ? null : Shown(summary.AttendedSessions, "attendedSessions"),
                summary is null ? null : Shown(summary.AuthorisedAbsence, "authorisedAbsence"),
                summary is null ? null : Shown(summary.UnauthorisedAbsence, "unauthorisedAbsence"),
                summary is null || attendanceMask!.Hides("attendanceRate") ? null : summary.AttendanceRate,
                openExclusions, pepStatus, reviewDue, CohortFlags.All.Where(flags.Contains).ToList());
        }

        return result;
    }

    /// <summary>
    /// Whether anything a row shows may have changed since <c>updatedSince</c>: something it draws on recorded after
    /// then, or a date it depends on come since (after that day, by today). Without <c>updatedSince</c>, every row has.
    /// One per chunk, started again for each child: the cohort asks this of every child it lists.
    /// </summary>
    private sealed class ChangedSince(DateTimeOffset? after, DateOnly today)
    {
        private readonly DateOnly? _sinceDay = after is { } at ? DateOnly.FromDateTime(at.UtcDateTime) : null;

        public bool Any { get; private set; }

        public void Start(DateOnly yearStart)
        {
            Any = after is null;
            Dated(yearStart);
        }

        public void Recorded(DateTimeOffset at) => Any |= at > after;

        public void Dated(DateOnly day) => Any |= day > _sinceDay && day <= today;
    }

    /// <summary>Whether the periods release every mark of the year so far: one of them began by the year's start and has not ended.</summary>
    private static bool CoversYear(DateWindows? windows, DateOnly yearStart) =>
        windows is null || windows.Periods.Any(p => p.Start <= yearStart && p.End is null);
}
