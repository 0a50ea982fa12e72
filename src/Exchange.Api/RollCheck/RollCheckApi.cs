using System.Globalization;
using Exchange.Api.Auditing;
using Exchange.Api.Auth;
using Exchange.Api.Decisions;
using Exchange.Api.Errors;
using Exchange.Api.Purpose;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Exchange.Api.RollCheck;

/// <summary>
/// <c>POST /v1/schools/roll-check</c>: a school's MIS sends its roll and learns which pupils are children in care
/// now. Always 200 with the same shape, whatever share of the roll is in care; the answer names only pupils in care.
/// The decision point has permitted the school (the <c>school-roll-check</c> rule) before the handler runs; each
/// child found is then decided on its own by <see cref="RollCheckService"/>.
/// </summary>
public static class RollCheckApi
{
    public static IEndpointRouteBuilder MapRollCheckApi(this IEndpointRouteBuilder app)
    {
        app.MapGroup("/v1/schools").WithTags("Roll check").RequirePurposeOfUse()
            .MapPost("/roll-check", CheckAsync).Audited("roll-check.run", "roll-check", "matches")
            .Decides("read", noChild: true).Validates<RollCheckRequest>();
        return app;
    }

    private static async Task<Results<Ok<RollCheckAnswer>, ProblemHttpResult>> CheckAsync(
        RollCheckRequest request, HttpContext http, RollCheckService rollCheck, CancellationToken ct)
    {
        var pupils = request.Pupils!;
        if (pupils.Count > RollPupils.MaxPerCall)
        {
            return Problems.Result(ProblemTypes.BatchTooLarge, $"A roll check carries at most {RollPupils.MaxPerCall} pupils; this one carried {pupils.Count}. Send the roll in parts.");
        }

        var result = await rollCheck.CheckAsync(Caller.From(http.User), PurposeOfUse.Of(http)!, pupils, ct).ConfigureAwait(false);
        if (result.RetryAfter is { } wait)
        {
            http.Response.Headers.RetryAfter = Math.Ceiling(wait.TotalSeconds).ToString(CultureInfo.InvariantCulture);
            return Problems.Result(ProblemTypes.RollCheckLimit);
        }

        return TypedResults.Ok(result.Answer!);
    }
}
