using Exchange.Api.Decisions;
using Exchange.Api.Auditing;
using Exchange.Api.Errors;
using Exchange.Api.Dates;
using Exchange.Api.Policy;
using Exchange.Api.Purpose;
using Exchange.Api.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Exchange.Api.Relationships;

public sealed record PlacementView(Guid Id, string ChildId, string HostLa, string StartDate, string? EndDate);

public sealed record EnrolmentView(Guid Id, string ChildId, string Urn, string StartDate, string? EndDate, string RecordedBy);

public sealed record ListView<T>(IReadOnlyList<T> Items);

/// <summary>The placement notice a host council receives: who the child is (pseudonymously), where they go to school, who is responsible.</summary>
public sealed record PlacementNoticeView(string ChildId, string? Urn, string? ResponsibleLa);

/// <summary>
/// Reading a child's placements, enrolments and placement notice. The policy decides who may and which fields
/// they see (a hidden field is absent and cannot be filtered or sorted by). A child has a handful of each, so
/// lists come whole rather than paged. Filters: <c>hostLa</c> / <c>urn</c>, <c>current=true</c>; sort:
/// <c>startDate</c> or <c>-startDate</c> (the default; by record id where the caller may not see the dates).
/// </summary>
public static class RelationshipReadsApi
{
    // current=true selects by the dates, so it is refused to a caller who may not see them.
    private static readonly Dictionary<string, string[]> DateFilters = new(StringComparer.OrdinalIgnoreCase) { ["current"] = ["startDate", "endDate"] };

    public static IEndpointRouteBuilder MapRelationshipReadsApi(this IEndpointRouteBuilder app)
    {
        var children = app.MapGroup("/v1/children/{childId}").WithTags("Relationships").RequirePurposeOfUse();
        children.MapGet("/placements", PlacementsAsync).Audited("placement.list", "placement", "placements").Decides("read", queryFields: DateFilters);
        children.MapGet("/enrolments", EnrolmentsAsync).Audited("enrolment.list", "enrolment", "enrolments").Decides("read", queryFields: DateFilters);
        children.MapGet("/placement-notice", NoticeAsync).Audited("placement-notice.read", "placement-notice", "placementNotice").Decides("read");
        return app;
    }

    private static async Task<Results<Ok<ListView<PlacementView>>, ProblemHttpResult>> PlacementsAsync(
        Decided decided, HttpContext http, ExchangeDbContext db, TimeProvider clock, string? hostLa, bool? current, string? sort, CancellationToken ct)
    {
        if (hostLa is not null && !Identity.IdentifierRules.IsLaNumber(hostLa))
        {
            return Problems.Result(ProblemTypes.LaNumberFormat, "hostLa must be a three-digit LA number.");
        }

        var rows = await RowsAsync(decided, http, db, clock, ChildRelationship.HostCouncil, hostLa is null ? null : "la:" + hostLa, ct).ConfigureAwait(false);
        return Listed(decided, http, rows, clock, current, sort, r => new PlacementView(r.Id, r.ChildId, r.OrganisationId[3..], r.StartDate.Iso(), r.EndDate?.Iso()));
    }

    private static async Task<Results<Ok<ListView<EnrolmentView>>, ProblemHttpResult>> EnrolmentsAsync(
        Decided decided, HttpContext http, ExchangeDbContext db, TimeProvider clock, string? urn, bool? current, string? sort, CancellationToken ct)
    {
        if (urn is not null && !RelationshipRules.Urn().IsMatch(urn))
        {
            return Problems.Result(ProblemTypes.UrnFormat, "urn must be a six-digit school URN.");
        }

        var rows = await RowsAsync(decided, http, db, clock, ChildRelationship.EnrolledSchool, urn is null ? null : "school:" + urn, ct).ConfigureAwait(false);
        return Listed(decided, http, rows, clock, current, sort, r => new EnrolmentView(r.Id, r.ChildId, r.OrganisationId["school:".Length..], r.StartDate.Iso(), r.EndDate?.Iso(), r.RecordedBy));
    }

    private static async Task<Ok<PlacementNoticeView>> NoticeAsync(Decided decided, HttpContext http, ExchangeDbContext db, TimeProvider clock, CancellationToken ct)
    {
        var childId = decided.ChildId;
        var today = DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime);
        var school = await db.ChildRelationships.AsNoTracking()
            .Where(r => r.ChildId == childId && r.Kind == ChildRelationship.EnrolledSchool && r.StartDate <= today && (r.EndDate == null || r.EndDate >= today))
            .OrderByDescending(r => r.StartDate).Select(r => r.OrganisationId).FirstOrDefaultAsync(ct).ConfigureAwait(false);
        var responsible = await db.CareEpisodes.AsNoTracking()
            .Where(e => e.ChildId == childId && e.StartDate <= today && (e.EndDate == null || e.EndDate >= today))
            .OrderByDescending(e => e.StartDate).Select(e => e.ResponsibleLaNumber).FirstOrDefaultAsync(ct).ConfigureAwait(false);
        return TypedResults.Ok(new PlacementNoticeView(childId, school?["school:".Length..], responsible));
    }

    /// <summary>
    /// The child's records of one kind that the decision releases: those in force on some day of the caller's
    /// windows (a placement or enrolment overlapping one of its care episodes, or one handed over to it), those the
    /// caller's organisation recorded itself, and the current enrolment whatever its start, which the council now
    /// responsible needs.
    /// </summary>
    private static async Task<List<ChildRelationship>> RowsAsync(Decided decided, HttpContext http, ExchangeDbContext db, TimeProvider clock, string kind, string? organisation, CancellationToken ct)
    {
        var childId = decided.ChildId;
        var query = db.ChildRelationships.AsNoTracking().Where(r => r.ChildId == childId && r.Kind == kind);
        if (organisation is not null)
        {
            query = query.Where(r => r.OrganisationId == organisation);
        }

        var rows = await query.ToListAsync(ct).ConfigureAwait(false);
        if (decided.Windows is not { } windows)
        {
            return rows;
        }

        // A child has a handful of these: the windows are applied to the child's rows here rather than in SQL.
        // Hook for PEPs (not built yet): the current PEP is released the same way as the current enrolment.
        var today = DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime);
        var caller = Auth.Caller.From(http.User).Organisation;
        return rows.Where(r => windows.Overlaps(r.StartDate, r.EndDate, r.RecordedAt) || r.RecordedBy == caller
            || (kind == ChildRelationship.EnrolledSchool && r.StartDate <= today && (r.EndDate is null || r.EndDate >= today))).ToList();
    }

    private static Results<Ok<ListView<T>>, ProblemHttpResult> Listed<T>(
        Decided decided, HttpContext http, List<ChildRelationship> rows, TimeProvider clock, bool? current, string? sort, Func<ChildRelationship, T> view)
    {
        if (sort is not (null or "startDate" or "-startDate"))
        {
            return Problems.Result(ProblemTypes.ValidationFailed, "sort must be startDate or -startDate.");
        }

        var today = DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime);
        IEnumerable<ChildRelationship> selected = current == true
            ? rows.Where(r => r.StartDate <= today && (r.EndDate is null || r.EndDate >= today))
            : rows;
        // Where the caller may not see the dates, the default order must not reveal them either: the records'
        // random ids order the list instead (an explicit sort=startDate was already refused).
        selected = decided.Mask.Hides("startDate") ? selected.OrderBy(r => r.Id)
            : sort == "startDate" ? selected.OrderBy(r => r.StartDate).ThenBy(r => r.Id)
            : selected.OrderByDescending(r => r.StartDate).ThenBy(r => r.Id);
        return TypedResults.Ok(new ListView<T>(selected.Select(view).ToList()));
    }
}
