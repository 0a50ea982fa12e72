using FluentValidation;

namespace Exchange.Api.Errors;

/// <summary>
/// Runs the FluentValidation validator of the request argument; a failure becomes a 400
/// problem whose type is the first failed rule's stable code, with every failure listed.
/// Messages name the rule, never the value.
/// </summary>
internal sealed class ValidationFilter<T>(IValidator<T> validator) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var argument = context.Arguments.OfType<T>().FirstOrDefault();
        if (argument is null)
        {
            return Problems.Result(ProblemTypes.MalformedJson, "The request body is missing.");
        }

        var result = await validator.ValidateAsync(argument, context.HttpContext.RequestAborted).ConfigureAwait(false);
        if (result.IsValid)
        {
            return await next(context).ConfigureAwait(false);
        }

        var first = ProblemTypes.ForCode(result.Errors[0].ErrorCode);
        var errors = result.Errors.Select(e => new ValidationError(e.PropertyName, ProblemTypes.ForCode(e.ErrorCode).Code, e.ErrorMessage)).ToList();
        return Problems.Result(first, result.Errors[0].ErrorMessage, new Dictionary<string, object?> { ["errors"] = errors });
    }
}

public sealed record ValidationError(string Field, string Code, string Detail);

public static class ValidationFilterExtensions
{
    public static RouteHandlerBuilder Validates<T>(this RouteHandlerBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.AddEndpointFilter<ExplicitNullFilter>().AddEndpointFilter<ValidationFilter<T>>().ProducesProblem(StatusCodes.Status400BadRequest);
    }

    /// <summary>Refuses (400) a JSON body with an explicit null, for an endpoint whose body is optional and has no validator.</summary>
    public static RouteHandlerBuilder RejectsExplicitNulls(this RouteHandlerBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.AddEndpointFilter<ExplicitNullFilter>().ProducesProblem(StatusCodes.Status400BadRequest);
    }
}
