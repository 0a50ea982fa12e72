using Exchange.Api.Auditing;
using Exchange.Api.Auth;
using Exchange.Api.Errors;
using Exchange.Api.Paging;
using Exchange.Api.Storage;
using Exchange.Api.Work;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Exchange.Api.Organisations;

/// <summary>The registry of councils, schools and health bodies, kept by the exchange admin.</summary>
public static partial class OrganisationsApi
{
    public static IEndpointRouteBuilder MapOrganisationsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/organisations").WithTags("Organisations").RequireAuthorization(AuthPolicies.Administer);
        // Changing who may use the exchange is audited like access to data: who did it, when, to which organisation.
        group.MapPost("/", RegisterAsync).Audited("organisation.register", "organisation", "id").Validates<RegisterOrganisationRequest>();
        group.MapGet("/", ListAsync);
        group.MapGet("/{organisationId}", GetAsync);
        group.MapPost("/{organisationId}/deactivate", DeactivateAsync).Audited("organisation.deactivate", "organisation", "active");
        return app;
    }

    /// <summary>Idempotent: registering the same organisation again with the same details answers 200.</summary>
    private static async Task<Results<Created<OrganisationView>, Ok<OrganisationView>, ProblemHttpResult>> RegisterAsync(
        RegisterOrganisationRequest request, ExchangeDbContext db, UnitOfWork work, AuditTrail audit, TimeProvider clock, ILoggerFactory logs, CancellationToken ct)
    {
        await work.BeginAsync(ct).ConfigureAwait(false);
        var id = request.Id!;
        audit.Concerning(id); // validated: a well-formed organisation id, nothing else the caller typed
        var kind = OrganisationIds.KindOf(id);
        var laNumber = kind == OrganisationKind.Council ? id[3..] : request.LaNumber;
        var name = request.Name!.Trim();
        var existing = await db.Organisations.AsNoTracking().FirstOrDefaultAsync(o => o.Id == id, ct).ConfigureAwait(false);
        if (existing is not null)
        {
            return existing.Name == name && existing.LaNumber == laNumber
                ? TypedResults.Ok(OrganisationView.Of(existing))
                : Problems.Result(ProblemTypes.OrganisationExists);
        }

        var organisation = new Organisation { Id = id, Kind = kind, Name = name, LaNumber = laNumber, CreatedAt = clock.GetUtcNow() };
        db.Organisations.Add(organisation);
        await work.CommitAsync(Outcome.Created(), ct).ConfigureAwait(false);
        var logger = logs.CreateLogger(typeof(OrganisationsApi));
        LogRegistered(logger, id);
        return TypedResults.Created($"/v1/organisations/{id}", OrganisationView.Of(organisation));
    }

    private static async Task<Results<Ok<Page<OrganisationView>>, ProblemHttpResult>> ListAsync(
        ExchangeDbContext db, string? cursor, int? limit, CancellationToken ct)
    {
        if (!PageRequest.TryParse(cursor, limit, out var page, out var problem))
        {
            return problem;
        }

        var query = db.Organisations.AsNoTracking();
        if (page.After is { } after)
        {
            query = query.Where(o => o.CreatedAt > after.At || (o.CreatedAt == after.At && string.Compare(o.Id, after.Id) > 0));
        }

        var rows = await query.OrderBy(o => o.CreatedAt).ThenBy(o => o.Id).Take(page.Limit + 1).ToListAsync(ct).ConfigureAwait(false);
        return TypedResults.Ok(Pages.From(rows, page.Limit, OrganisationView.Of, o => new PageCursor(o.CreatedAt, o.Id)));
    }

    private static async Task<Results<Ok<OrganisationView>, ProblemHttpResult>> GetAsync(string organisationId, ExchangeDbContext db, CancellationToken ct)
    {
        var organisation = await db.Organisations.AsNoTracking().FirstOrDefaultAsync(o => o.Id == organisationId, ct).ConfigureAwait(false);
        return organisation is null ? Problems.Result(ProblemTypes.OrganisationNotFound) : TypedResults.Ok(OrganisationView.Of(organisation));
    }

    /// <summary>Deactivation takes effect on the organisation's next request: its tokens are refused (403).</summary>
    private static async Task<Results<Ok<OrganisationView>, ProblemHttpResult>> DeactivateAsync(
        string organisationId, ExchangeDbContext db, UnitOfWork work, AuditTrail audit, TimeProvider clock, ILoggerFactory logs, CancellationToken ct)
    {
        if (organisationId == DatabaseInitializer.OperatorId)
        {
            return Problems.Result(ProblemTypes.OperatorImmutable);
        }

        await work.BeginAsync(ct).ConfigureAwait(false);
        var organisation = await db.Organisations.FirstOrDefaultAsync(o => o.Id == organisationId, ct).ConfigureAwait(false);
        if (organisation is null)
        {
            return Problems.Result(ProblemTypes.OrganisationNotFound);
        }

        audit.Concerning(organisation.Id);
        if (organisation.Active)
        {
            organisation.Active = false;
            organisation.DeactivatedAt = clock.GetUtcNow();
            await work.CommitAsync(Outcome.Ok(), ct).ConfigureAwait(false);
            var logger = logs.CreateLogger(typeof(OrganisationsApi));
            LogDeactivated(logger, organisationId);
        }

        return TypedResults.Ok(OrganisationView.Of(organisation));
    }

    [LoggerMessage(EventId = 9501, EventName = "OrganisationRegistered", Level = LogLevel.Information, Message = "Organisation {OrganisationId} registered")]
    private static partial void LogRegistered(ILogger logger, string organisationId);

    [LoggerMessage(EventId = 9502, EventName = "OrganisationDeactivated", Level = LogLevel.Information, Message = "Organisation {OrganisationId} deactivated")]
    private static partial void LogDeactivated(ILogger logger, string organisationId);
}
