using Exchange.Api.Errors;

namespace Exchange.Api.Purpose;

/// <summary>Why the caller is touching a child's data, declared on every such request.</summary>
public static class PurposeOfUse
{
    public const string Header = "X-Purpose-Of-Use";

    /// <summary>The purposes the loaded policy declares (policies/vocabulary.yaml): the only list there is.</summary>
    public static IReadOnlySet<string> KnownIn(HttpContext context) =>
        context?.RequestServices.GetRequiredService<Policy.PolicySet>().Purposes ?? throw new ArgumentNullException(nameof(context));

    private static readonly object ItemKey = new();

    /// <summary>The purpose the request declared; set by <see cref="RequirePurposeOfUse"/>.</summary>
    public static string? Of(HttpContext context) =>
        context is not null && context.Items.TryGetValue(ItemKey, out var value) ? value as string : null;

    /// <summary>Refuses (400) requests of the group that do not declare a purpose the loaded policy knows.</summary>
    public static TBuilder RequirePurposeOfUse<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder
    {
        builder.AddEndpointFilter(async (context, next) =>
        {
            var values = context.HttpContext.Request.Headers[Header];
            var known = KnownIn(context.HttpContext);
            if (values.Count == 0 || string.IsNullOrWhiteSpace(values.ToString()))
            {
                return Problems.Result(ProblemTypes.PurposeOfUseMissing, $"Send the {Header} header with one of: {string.Join(", ", known)}.");
            }

            var purpose = values.ToString().Trim();
            if (values.Count > 1 || !known.Contains(purpose))
            {
                return Problems.Result(ProblemTypes.PurposeOfUseUnknown, $"{Header} must be exactly one of: {string.Join(", ", known)}.");
            }

            context.HttpContext.Items[ItemKey] = purpose;
            return await next(context).ConfigureAwait(false);
        });
        return builder;
    }

    /// <summary>Refuses (403) a declared purpose other than <paramref name="purpose"/>; add after <see cref="RequirePurposeOfUse"/>.</summary>
    public static TBuilder RequirePurpose<TBuilder>(this TBuilder builder, string purpose) where TBuilder : IEndpointConventionBuilder
    {
        builder.AddEndpointFilter(async (context, next) =>
            Of(context.HttpContext) == purpose
                ? await next(context).ConfigureAwait(false)
                : Problems.Result(ProblemTypes.PurposeNotPermitted, $"Declare {Header}: {purpose} for this operation."));
        return builder;
    }
}
