using Exchange.Api.Auditing;
using Exchange.Api.Auth;
using Exchange.Api.Decisions;
using Exchange.Api.Purpose;
using Exchange.Api.Errors;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Exchange.Api.Exclusions;

/// <summary>
/// Suspensions and permanent exclusions (docs/EXCLUSIONS.md): a school's MIS records them for its enrolled pupils
/// (<c>POST /v1/children/{childId}/exclusions</c>); the school reads its own, the responsible council's virtual school
/// every school's, its social worker the facts without the school's words, as <c>policies/rules.yaml</c> says.
/// </summary>
public static class ExclusionsApi
{
    public static IEndpointRouteBuilder MapExclusionsApi(this IEndpointRouteBuilder app)
    {
        var children = app.MapGroup("/v1/children/{childId}/exclusions").WithTags("Exclusions").RequirePurposeOfUse();
        children.MapPost("/", RecordAsync).Audited("exclusion.record", "exclusions", "exclusionId").Decides("write").Validates<ExclusionRequest>();
        children.MapGet("/", ListAsync).Audited("exclusion.list", "exclusions", "exclusions").Decides("read");
        return app;
    }

    private static Task<Results<Created<ExclusionView>, Ok<ExclusionView>, ProblemHttpResult>> RecordAsync(
        ExclusionRequest request, Decided decided, HttpContext http, ExclusionService exclusions, CancellationToken ct) =>
        exclusions.RecordAsync(Caller.From(http.User), decided, request, ct);

    private static async Task<Ok<ExclusionsView>> ListAsync(Decided decided, HttpContext http, ExclusionService exclusions, CancellationToken ct) =>
        TypedResults.Ok(await exclusions.ListAsync(Caller.From(http.User), decided, ct).ConfigureAwait(false));
}
