using Exchange.Api.Decisions;
using Exchange.Api.AuditReview;
using Exchange.Api.Auditing;
using Exchange.Api.Auth;
using Exchange.Api.Dates;
using Exchange.Api.Errors;
using Exchange.Api.Identity;
using Exchange.Api.Paging;
using Exchange.Api.Policy;
using Exchange.Api.Purpose;
using Exchange.Api.Storage;
using Exchange.Api.Work;
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
        BreakGlassRequest request, Decided decided, HttpContext http, ExchangeDbContext db, FieldSealer sealer, UnitOfWork work,
        TimeProvider clock, ILoggerFactory loggers, CancellationToken ct)
    {
        // The decision point resolved a merged id to its survivor, and answered 404 or 410 for no or an erased child.
        var survivor = decided.ChildId;
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
        await work.BeginAsync(ct).ConfigureAwait(false);
        db.BreakGlassGrants.Add(grant);
        await work.CommitAsync(Outcome.Created(survivor), ct).ConfigureAwait(false);
        LogOpened(loggers.CreateLogger(typeof(BreakGlassApi)), id, caller.Organisation, request.DurationMinutes.Value);
        return TypedResults.Created((string?)null, new BreakGlassGrantView(id, survivor, grant.StartsAt, grant.ExpiresAt));
    }

    /// <summary>
    /// The DPO's alert feed, newest first: break-glass grants, care episodes opened for children the exchange knew, and
    /// merges that gave an organisation a new relationship. The operator's DPO sees all; an organisation's DPO sees
    /// grants its own staff opened, grants about children in its audit scope opened while it held them, and the
    /// other alerts that name it.
    /// </summary>
    private static async Task<Results<Ok<Page<DpoAlertView>>, ProblemHttpResult>> AlertsAsync(
        HttpContext http, ExchangeDbContext db, FieldSealer sealer, TimeProvider clock, string? cursor, int? limit, CancellationToken ct)
    {
        if (!PageRequest.TryParse(cursor, limit, out var page, out var problem))
        {
            return problem;
        }

        var scope = await AuditReviewScope.ForAsync(Caller.From(http.User), db, ct).ConfigureAwait(false);
        var grants = db.BreakGlassGrants.AsNoTracking();
        var alerts = db.DpoAlerts.AsNoTracking();
        if (!scope.SeesAll)
        {
            var org = scope.Organisation!;
            var children = scope.Children.ToList();
            grants = grants.Where(g => g.OrganisationId == org || children.Contains(g.ChildId));
            alerts = alerts.Where(a => a.Organisations.Contains(org));
        }

        // Newest first by (time, id). Guids do not compare in SQL here, so each source is cut by time in SQL (with every
        // row sharing the cut's millisecond) and ordered, merged and cut by id in memory. A DPO's scope is small: all
        // of it is read, and each grant is held to the periods the scope gives for its child.
        var take = scope.SeesAll ? page.Limit + 1 : int.MaxValue;
        var at = page.After?.At;
        var afterId = page.After is { } after && Guid.TryParse(after.Id, out var parsed) ? parsed : (Guid?)null;
        var grantRows = await NewestAsync(at is { } g1 ? grants.Where(g => g.StartsAt <= g1) : grants, take,
            (q, n) => q.OrderByDescending(g => g.StartsAt).Take(n), (q, t) => q.Where(g => g.StartsAt == t), g => g.StartsAt, g => g.Id, ct).ConfigureAwait(false);
        var alertRows = await NewestAsync(at is { } a1 ? alerts.Where(a => a.RaisedAt <= a1) : alerts, take,
            (q, n) => q.OrderByDescending(a => a.RaisedAt).Take(n), (q, t) => q.Where(a => a.RaisedAt == t), a => a.RaisedAt, a => a.Id, ct).ConfigureAwait(false);

        var now = clock.GetUtcNow();
        var candidates = grantRows.Where(g => scope.Sees(g.OrganisationId, g.ChildId, g.StartsAt.ToUnixTimeMilliseconds()))
            .Select(g => (At: g.StartsAt, Id: g.Id, Grant: (BreakGlassGrant?)g, Alert: (DpoAlert?)null))
            .Concat(alertRows.Select(a => (At: a.RaisedAt, Id: a.Id, Grant: (BreakGlassGrant?)null, Alert: (DpoAlert?)a)))
            .Where(c => at is null || c.At < at || (c.At == at && afterId is { } id && c.Id.CompareTo(id) < 0))
            .OrderByDescending(c => c.At).ThenByDescending(c => c.Id).Take(page.Limit + 1).ToList();
        var views = new List<DpoAlertView>();
        foreach (var c in candidates)
        {
            if (c.Grant is { } g)
            {
                var reason = await sealer.OpenAsync(ReasonPlace(g.ChildId, g.Id), g.SealedReason, ct).ConfigureAwait(false);
                views.Add(new DpoAlertView(DpoAlertView.BreakGlass, g.Id, g.ChildId, g.OrganisationId, [g.OrganisationId], g.StartsAt,
                    g.Id, g.Subject, (reason as OpenedField.Opened)?.Value, g.StartsAt, g.ExpiresAt, g.StartsAt <= now && now < g.ExpiresAt));
            }
            else if (c.Alert is { } a)
            {
                views.Add(new DpoAlertView(a.Kind, a.Id, a.ChildId, a.RaisedBy, a.Organisations, a.RaisedAt));
            }
        }

        return TypedResults.Ok(Pages.From(views, page.Limit, v => v, v => new PageCursor(v.RaisedAt, v.AlertId.ToString())));
    }

    /// <summary>The newest <paramref name="take"/> rows by time, and every other row sharing the oldest one's time (SQL cut among them anywhere).</summary>
    private static async Task<List<T>> NewestAsync<T>(IQueryable<T> query, int take, Func<IQueryable<T>, int, IQueryable<T>> newest,
        Func<IQueryable<T>, DateTimeOffset, IQueryable<T>> at, Func<T, DateTimeOffset> time, Func<T, Guid> id, CancellationToken ct)
    {
        var rows = await newest(query, take).ToListAsync(ct).ConfigureAwait(false);
        if (rows.Count > 0 && take != int.MaxValue)
        {
            var boundary = time(rows[^1]);
            var seen = rows.Select(id).ToHashSet();
            rows.AddRange((await at(query, boundary).ToListAsync(ct).ConfigureAwait(false)).Where(r => !seen.Contains(id(r))));
        }

        return rows;
    }

    /// <summary>Where a grant's reason is sealed: bound to the child's data key and to the grant.</summary>
    public static FieldPlace ReasonPlace(string childId, Guid grantId) => new(ReasonEntity, "reason", childId, grantId.ToString("N"));

    [LoggerMessage(Level = LogLevel.Warning, EventId = 9201, EventName = "BreakGlassOpened",
        Message = "Break-glass grant {GrantId} opened by {Organisation} for {Minutes} minutes")]
    private static partial void LogOpened(ILogger logger, Guid grantId, string organisation, int minutes);
}
