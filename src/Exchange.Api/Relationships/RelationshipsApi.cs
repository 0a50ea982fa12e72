using Exchange.Api.Decisions;
using Exchange.Api.Dates;
using System.Globalization;
using Exchange.Api.Auditing;
using Exchange.Api.Auth;
using Exchange.Api.Errors;
using Exchange.Api.Identity;
using Exchange.Api.Policy;
using Exchange.Api.Purpose;
using Exchange.Api.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Exchange.Api.Relationships;

/// <summary>
/// The relationships that decide access, recorded as dated facts by the child's responsible council (its
/// virtual school): placements (host council), enrolments (school), health responsibility (health body), and
/// the end of the care episode itself. A council that is not responsible for the child gets 404: it must not
/// learn that the child exists. Recording the same fact again answers 200 with the first record. A school declares
/// the enrolment of a child its roll check found (the <c>school-declares-enrolment</c> rule); every enrolment
/// writes a <c>pupil-enrolled</c> outbox item in the same transaction.
/// </summary>
public static class RelationshipsApi
{
    public static IEndpointRouteBuilder MapRelationshipsApi(this IEndpointRouteBuilder app)
    {
        var children = app.MapGroup("/v1/children/{childId}").WithTags("Relationships").RequirePurposeOfUse();
        children.MapPost("/placements", PlaceAsync).Audited("placement.record", "placement", "placementId").Decides("write").Validates<PlacementRequest>();
        children.MapPost("/health-responsibility", HealthAsync).Audited("health-responsibility.record", "health-responsibility", "relationshipId")
            .Decides("write").Validates<HealthResponsibilityRequest>();
        children.MapPost("/care-episodes/{episodeId}/end", EndCareAsync).Audited("care-episode.end", "identity", "endDate").Decides("write").Validates<EndRequest>();

        var enrolments = app.MapGroup("/v1/enrolments").WithTags("Relationships").RequirePurposeOfUse();
        // The child is named in the body: validated first, then decided.
        enrolments.MapPost("/", EnrolAsync).Audited("enrolment.record", "enrolment", "enrolmentId").Validates<EnrolmentRequest>()
            .Decides("write", context => ValueTask.FromResult(context.Arguments.OfType<EnrolmentRequest>().FirstOrDefault()?.ChildId));
        enrolments.MapPost("/{enrolmentId}/end", EndEnrolmentAsync).Audited("enrolment.end", "enrolment", "endDate")
            .Decides("write", ChildOfEnrolmentAsync, notFound: ProblemTypes.RelationshipNotFound).Validates<EndRequest>();
        return app;
    }

    private static Task<Results<Created<RelationshipView>, Ok<RelationshipView>, ProblemHttpResult>> PlaceAsync(
        PlacementRequest request, Decided decided, HttpContext http, RelationshipService relationships, CancellationToken ct) =>
        relationships.RecordAsync(Caller.From(http.User), decided.ChildId, ChildRelationship.HostCouncil, "la:" + request.La, Date(request.StartDate), request.EndDate is null ? null : Date(request.EndDate), ct);

    private static Task<Results<Created<RelationshipView>, Ok<RelationshipView>, ProblemHttpResult>> HealthAsync(
        HealthResponsibilityRequest request, Decided decided, HttpContext http, RelationshipService relationships, CancellationToken ct) =>
        relationships.RecordAsync(Caller.From(http.User), decided.ChildId, ChildRelationship.HealthResponsibility, "health:" + request.Ods, Date(request.StartDate), null, ct);

    private static async Task<Results<Created<RelationshipView>, Ok<RelationshipView>, ProblemHttpResult>> EnrolAsync(
        EnrolmentRequest request, Decided decided, HttpContext http, RelationshipService relationships, TimeProvider clock, CancellationToken ct)
    {
        var caller = Caller.From(http.User);
        var school = "school:" + request.Urn;
        var start = Date(request.StartDate);
        // A school (permitted by its roll check's match) declares its own pupil, from the day it declares it: it
        // cannot place a child at another school, nor back-date the enrolment into weeks it did not have the child.
        if (caller.Organisation.StartsWith("school:", StringComparison.Ordinal)
            && (school != caller.Organisation || start != DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime)))
        {
            return Problems.Result(ProblemTypes.SchoolEnrolmentInvalid, "A school declares only its own enrolment (urn: its own URN), with startDate today.");
        }

        return await relationships.RecordAsync(caller, decided.ChildId, ChildRelationship.EnrolledSchool, school, start, null, ct).ConfigureAwait(false);
    }

    private static Task<Results<Ok<RelationshipView>, ProblemHttpResult>> EndEnrolmentAsync(
        string enrolmentId, EndRequest request, HttpContext http, RelationshipService relationships, CancellationToken ct) =>
        Guid.TryParse(enrolmentId, CultureInfo.InvariantCulture, out var id)
            ? relationships.EndAsync(Caller.From(http.User), id, Date(request.EndDate), ct)
            : Task.FromResult<Results<Ok<RelationshipView>, ProblemHttpResult>>(Problems.Result(ProblemTypes.RelationshipNotFound));

    private static async Task<Results<Ok<RelationshipView>, ProblemHttpResult>> EndCareAsync(
        string episodeId, EndRequest request, Decided decided, HttpContext http, RelationshipService relationships, CancellationToken ct) =>
        Guid.TryParse(episodeId, CultureInfo.InvariantCulture, out var id)
            ? await relationships.EndCareEpisodeAsync(Caller.From(http.User), decided.ChildId, id, Date(request.EndDate), ct).ConfigureAwait(false)
            : Problems.Result(ProblemTypes.RelationshipNotFound);

    /// <summary>The child an enrolment is for: the decision is about that child (an unknown id has no relationship: 404).</summary>
    private static async ValueTask<string?> ChildOfEnrolmentAsync(EndpointFilterInvocationContext context)
    {
        if (!Guid.TryParse(context.HttpContext.GetRouteValue("enrolmentId") as string, CultureInfo.InvariantCulture, out var id))
        {
            return null;
        }

        var db = context.HttpContext.RequestServices.GetRequiredService<ExchangeDbContext>();
        return await db.ChildRelationships.AsNoTracking().Where(r => r.Id == id && r.Kind == ChildRelationship.EnrolledSchool)
            .Select(r => r.ChildId).FirstOrDefaultAsync(context.HttpContext.RequestAborted).ConfigureAwait(false);
    }

    // Validated by the request's validator before the handler runs.
    private static DateOnly Date(string? text) => IsoDates.ParseIso(text!);
}
