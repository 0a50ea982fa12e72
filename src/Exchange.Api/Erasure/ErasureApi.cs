using Exchange.Api.Decisions;
using Exchange.Api.Auditing;
using Exchange.Api.Errors;
using Exchange.Api.Identity;
using Exchange.Api.Policy;
using Exchange.Api.Purpose;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Exchange.Api.Erasure;

/// <summary><c>POST /v1/children/{childId}/erase</c>: the operator's DPO erases a child (policy action <c>erase</c>).</summary>
public static class ErasureApi
{
    public static IEndpointRouteBuilder MapErasureApi(this IEndpointRouteBuilder app)
    {
        app.MapGroup("/v1/children").WithTags("Identity").RequirePurposeOfUse()
            .MapPost("/{childId}/erase", EraseAsync)
            .Audited("child.erase", "erasure", "childId", "erasedAt")
            .Decides("erase");
        return app;
    }

    public sealed record ErasedView(string ChildId, DateTimeOffset ErasedAt);

    /// <summary>Idempotent: erasing an erased child answers the same.</summary>
    private static async Task<Results<Ok<ErasedView>, ProblemHttpResult>> EraseAsync(string childId, ErasureService erasure, CancellationToken ct)
    {
        var erased = Ids.LooksLikeChildId(childId) ? await erasure.EraseAsync(childId, ct).ConfigureAwait(false) : null;
        return erased is { } e
            ? TypedResults.Ok(new ErasedView(e.ChildId, e.ErasedAt))
            : Problems.Result(ProblemTypes.ChildNotFound, "There is no child with this id.");
    }
}
