using Exchange.Api.AuditReview;
using Exchange.Api.Auditing;
using Exchange.Api.Auth;
using Exchange.Api.Hosting;
using Exchange.Api.Errors;
using Exchange.Api.Identity;
using Exchange.Api.Paging;
using Exchange.Api.Policy;
using Exchange.Api.Purpose;
using Exchange.Api.Storage;
using Exchange.Crypto.Sealing;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Exchange.Api.BreakGlass;

/// <summary>
/// Break-glass: a person at a council with no relationship to a child, facing a safeguarding emergency, opens a
/// grant with a written reason for at most an hour. Who may (roles, purpose <c>safeguarding</c>) is the policy's
/// <c>break-glass-request</c> rule; what the grant then lets them read is the policy's break-glass rules. Opening
/// it and every access under it are flagged in the audit log, and each grant is an alert DPOs review at
/// <c>GET /v1/audit/alerts</c>.
/// </summary>
public static partial class BreakGlassApi
{
    public const string ReasonEntity = "break_glass_grants";

    public static IEndpointRouteBuilder MapBreakGlassApi(this IEndpointRouteBuilder app)
    {
        app.MapGroup("/v1/children/{childId}").WithTags("Break-glass").RequirePurposeOfUse()
            .MapPost("/break-glass", OpenAsync)
            .Audited("break-glass.open", "break-glass", "grantId", "expiresAt")
            .Decides("write")
            .Validates<BreakGlassRequest>();

        app.MapGroup("/v1/audit").WithTags("Audit").RequirePurposeOfUse()
            .MapGet("/alerts", AlertsAsync)
            .Audited("audit.alerts", "audit", "alerts")
            .Decides("read", noChild: true);
        return app;
    }

    private static async Task<Results<Created<BreakGlassGrantView>, ProblemHttpResult>> OpenAsync(
        BreakGlassRequest request, HttpContext http, ExchangeDbContext db, FieldSealer sealer,
        AuditTrail audit, TimeProvider clock, ILoggerFactory loggers, CancellationToken ct)
    {
        // The decision point resolved a merged id to its survivor, and answered 404 or 410 for no or an erased child.
        var survivor = PolicyDecidedEndpointExtensions.DecidedChild(http);
        var caller = Caller.From(http.User);
        var now = clock.UtcNowToMillisecond();
        var id = Guid.NewGuid();
        var grant = new BreakGlassGrant
        {
            Id = id,
            ChildId = survivor,
            OrganisationId = caller.Organisation,
            Subject = caller.Subject,
            SealedReason = await sealer.SealAsync(ReasonPlace(survivor, id), request.Reason!.Trim(), ct).ConfigureAwait(false),
            StartsAt = now,
            ExpiresAt = now.AddMinutes(request.DurationMinutes!.Value),
        };
        db.BreakGlassGrants.Add(grant);
        audit.Expect(StatusCodes.Status201Created, survivor);
        await db.SaveChangesAsync(ct).ConfigureAwait(false);
        LogOpened(loggers.CreateLogger(typeof(BreakGlassApi)), id, caller.Organisation, request.DurationMinutes.Value);
        return TypedResults.Created((string?)null, new BreakGlassGrantView(id, survivor, grant.StartsAt, grant.ExpiresAt));
    }

    /// <summary>
    /// The DPO's alert feed: break-glass grants, newest first. The operator's DPO sees all; an organisation's DPO
    /// sees grants its own staff opened and grants about children it registered or looks after.
    /// </summary>
    private static async Task<Results<Ok<Page<BreakGlassAlertView>>, ProblemHttpResult>> AlertsAsync(
        HttpContext http, ExchangeDbContext db, FieldSealer sealer, TimeProvider clock, string? cursor, int? limit, CancellationToken ct)
    {
        if (!PageRequest.TryParse(cursor, limit, out var page, out var problem))
        {
            return problem;
        }

        var scope = await AuditReviewScope.ForAsync(Caller.From(http.User), db, ct).ConfigureAwait(false);
        var query = db.BreakGlassGrants.AsNoTracking();
        if (!scope.SeesAll)
        {
            var children = scope.Children.ToList();
            query = query.Where(g => g.OrganisationId == scope.Organisation || children.Contains(g.ChildId));
        }

        // Newest first by (start, id). Guids do not compare in SQL here, so grants sharing the cursor's millisecond
        // (rare) are fetched and ordered in memory.
        var rows = new List<BreakGlassGrant>();
        if (page.After is { } after)
        {
            var afterId = Guid.TryParse(after.Id, out var parsed) ? parsed : Guid.Empty;
            rows.AddRange((await query.Where(g => g.StartsAt == after.At).ToListAsync(ct).ConfigureAwait(false))
                .Where(g => g.Id.CompareTo(afterId) < 0));
            query = query.Where(g => g.StartsAt < after.At);
        }

        var newest = await query.OrderByDescending(g => g.StartsAt).Take(page.Limit + 1).ToListAsync(ct).ConfigureAwait(false);
        rows.AddRange(newest);
        if (newest.Count > 0)
        {
            // SQL cut the oldest millisecond anywhere among its grants: take all of them, so none is skipped.
            var boundary = newest[^1].StartsAt;
            var seen = newest.Select(g => g.Id).ToHashSet();
            rows.AddRange((await query.Where(g => g.StartsAt == boundary).ToListAsync(ct).ConfigureAwait(false)).Where(g => !seen.Contains(g.Id)));
        }

        rows = rows.OrderByDescending(g => g.StartsAt).ThenByDescending(g => g.Id).Take(page.Limit + 1).ToList();
        var now = clock.GetUtcNow();
        var views = new List<BreakGlassAlertView>();
        foreach (var g in rows)
        {
            var reason = await sealer.OpenAsync(ReasonPlace(g.ChildId, g.Id), g.SealedReason, ct).ConfigureAwait(false);
            views.Add(new BreakGlassAlertView(g.Id, g.ChildId, g.OrganisationId, g.Subject, (reason as OpenedField.Opened)?.Value,
                g.StartsAt, g.ExpiresAt, g.StartsAt <= now && now < g.ExpiresAt));
        }

        return TypedResults.Ok(Pages.From(views, page.Limit, v => v, v => new PageCursor(v.StartsAt, v.GrantId.ToString())));
    }

    /// <summary>Where a grant's reason is sealed: bound to the child's data key and to the grant.</summary>
    public static FieldPlace ReasonPlace(string childId, Guid grantId) => new(ReasonEntity, "reason", childId, grantId.ToString("N"));

    [LoggerMessage(Level = LogLevel.Warning, EventId = 9201, EventName = "BreakGlassOpened",
        Message = "Break-glass grant {GrantId} opened by {Organisation} for {Minutes} minutes")]
    private static partial void LogOpened(ILogger logger, Guid grantId, string organisation, int minutes);
}
