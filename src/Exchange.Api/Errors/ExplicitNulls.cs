using System.Text.Json;

namespace Exchange.Api.Errors;

/// <summary>
/// Request bodies never carry <c>null</c>: openapi.yaml types every request field as a string,
/// number, boolean, object or array, and a field that is not given is left out. Without this
/// check an explicit null would bind like an absent field and be accepted where the contract says
/// a string. Each null found is listed (400 validation-failed) by its field path, never its value.
/// </summary>
internal sealed class ExplicitNullFilter : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var nulls = await ExplicitNulls.FindAsync(context.HttpContext.Request, context.HttpContext.RequestAborted).ConfigureAwait(false);
        if (nulls.Count == 0)
        {
            return await next(context).ConfigureAwait(false);
        }

        var errors = nulls.Select(field => new ValidationError(field, ProblemTypes.ValidationFailed.Code, $"{field} must not be null: give a value or leave it out.")).ToList();
        return Problems.Result(ProblemTypes.ValidationFailed, errors[0].Detail, new Dictionary<string, object?> { ["errors"] = errors });
    }
}

internal static class ExplicitNulls
{
    private const int MaxReported = 20;

    /// <summary>Keeps JSON request bodies readable again after binding, so <see cref="ExplicitNullFilter"/> can look at them.</summary>
    public static IApplicationBuilder UseJsonBodyRewind(this IApplicationBuilder app) =>
        app.Use((context, next) =>
        {
            if (context.Request.HasJsonContentType())
            {
                context.Request.EnableBuffering();
            }

            return next(context);
        });

    /// <summary>The paths (identifiers.nhsNumber, categories[0]) of every explicit null in the JSON body; empty when there is none or no JSON body.</summary>
    public static async Task<IReadOnlyList<string>> FindAsync(HttpRequest request, CancellationToken ct)
    {
        if (!request.HasJsonContentType() || !request.Body.CanSeek)
        {
            return [];
        }

        request.Body.Position = 0;
        try
        {
            using var document = await JsonDocument.ParseAsync(request.Body, default, ct).ConfigureAwait(false);
            var found = new List<string>();
            Walk(document.RootElement, "", found);
            return found;
        }
        catch (JsonException)
        {
            return []; // binding has already answered malformed-json for a body that is not JSON
        }
        finally
        {
            request.Body.Position = 0;
        }
    }

    private static void Walk(JsonElement element, string path, List<string> found)
    {
        if (found.Count >= MaxReported)
        {
            return;
        }

        switch (element.ValueKind)
        {
            case JsonValueKind.Null when path.Length > 0:
                found.Add(path);
                break;
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    Walk(property.Value, path.Length == 0 ? property.Name : $"{path}.{property.Name}", found);
                }

                break;
            case JsonValueKind.Array:
                var index = 0;
                foreach (var item in element.EnumerateArray())
                {
                    Walk(item, $"{path}[{index++}]", found);
                }

                break;
        }
    }
}
