using Exchange.Api.Auditing;
using Exchange.Api.Auth;
using Exchange.Api.Decisions;
using Exchange.Api.Errors;
using Exchange.Api.Purpose;
using Microsoft.Net.Http.Headers;

namespace Exchange.Api.Peps;

/// <summary>
/// Personal Education Plans (docs/PEPS.md): <c>GET/PUT /v1/children/{childId}/pep</c>, its versions, and the steps
/// submit (the designated teacher's school), return and approve (the responsible council's virtual school). Every
/// write names the version it changes with <c>If-Match</c>; every answer carries the version's <c>ETag</c>.
/// </summary>
public static class PepsApi
{
    public static IEndpointRouteBuilder MapPepsApi(this IEndpointRouteBuilder app)
    {
        var pep = app.MapGroup("/v1/children/{childId}/pep").WithTags("PEPs").RequirePurposeOfUse();
        pep.MapGet("/", CurrentAsync).Audited("pep.read", "pep", "pep").Decides("read");
        pep.MapPut("/", SaveAsync).Audited("pep.save", "pep", "pep").Decides("write").Validates<PepRequest>();
        pep.MapGet("/versions", VersionsAsync).Audited("pep.versions", "pep", "versions").Decides("read");
        pep.MapGet("/versions/{version:int}", VersionAsync).Audited("pep.version", "pep", "pep").Decides("read");
        pep.MapPost("/submit", SubmitAsync).Audited("pep.submit", "pep", "pep").Decides("write");
        pep.MapPost("/return", ReturnAsync).Audited("pep.return", "pep", "pep").Decides("write").Validates<PepReturnRequest>();
        pep.MapPost("/approve", ApproveAsync).Audited("pep.approve", "pep", "pep").Decides("write").Validates<PepApproveRequest>();
        return app;
    }

    private static async Task<IResult> CurrentAsync(Decided decided, HttpContext http, PepService peps, CancellationToken ct) =>
        Answer(http, new PepService.Saved(StatusCodes.Status200OK, await peps.CurrentAsync(decided, ct).ConfigureAwait(false)), ETagShown(decided));

    private static async Task<IResult> VersionAsync(int version, Decided decided, HttpContext http, PepService peps, CancellationToken ct) =>
        Answer(http, new PepService.Saved(StatusCodes.Status200OK, await peps.VersionAsync(decided, version, ct).ConfigureAwait(false)), etag: false);

    // A caller whose mask hides the version number (the health body) gets neither the history nor the number in a header.
    private static async Task<IResult> VersionsAsync(Decided decided, PepService peps, CancellationToken ct) =>
        decided.Mask.Hides("version")
            ? Problems.Result(ProblemTypes.Forbidden, "The plan's history is not released to your role.")
            : TypedResults.Ok(await peps.HistoryAsync(decided, ct).ConfigureAwait(false));

    private static bool ETagShown(Decided decided) => !decided.Mask.Hides("version");

    private static async Task<IResult> SaveAsync(PepRequest request, Decided decided, HttpContext http, PepService peps, CancellationToken ct) =>
        Answer(http, await peps.SaveAsync(Caller.From(http.User), decided, request, IfMatch(http), ct).ConfigureAwait(false), ETagShown(decided));

    private static async Task<IResult> SubmitAsync(Decided decided, HttpContext http, PepService peps, CancellationToken ct) =>
        Answer(http, await peps.SubmitAsync(Caller.From(http.User), decided, IfMatch(http), ct).ConfigureAwait(false), ETagShown(decided));

    private static async Task<IResult> ReturnAsync(PepReturnRequest request, Decided decided, HttpContext http, PepService peps, CancellationToken ct) =>
        Answer(http, await peps.ReturnAsync(Caller.From(http.User), decided, request, IfMatch(http), ct).ConfigureAwait(false), ETagShown(decided));

    private static async Task<IResult> ApproveAsync(PepApproveRequest request, Decided decided, HttpContext http, PepService peps, CancellationToken ct) =>
        Answer(http, await peps.ApproveAsync(Caller.From(http.User), decided, request, IfMatch(http), ct).ConfigureAwait(false), ETagShown(decided));

    private static string? IfMatch(HttpContext http) => http.Request.Headers.IfMatch.Count == 0 ? null : string.Join(",", http.Request.Headers.IfMatch.ToArray());

    private static IResult Answer(HttpContext http, PepService.Saved saved, bool etag = true)
    {
        if (saved.Problem is { } problem)
        {
            return Problems.Result(problem, saved.Detail);
        }

        if (saved.View is not { } view)
        {
            return Problems.Result(ProblemTypes.PepNotFound);
        }

        if (etag)
        {
            http.Response.Headers[HeaderNames.ETag] = PepETag.Of(view.Version);
        }

        return saved.Status == StatusCodes.Status201Created
            ? TypedResults.Created($"/v1/children/{view.ChildId}/pep", view)
            : TypedResults.Ok(view);
    }
}
