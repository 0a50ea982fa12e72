using System.Text.Json;
using System.Text.Json.Nodes;
using HttpJsonOptions = Microsoft.AspNetCore.Http.Json.JsonOptions;
using Microsoft.Extensions.Options;

namespace Exchange.Api.Policy;

/// <summary>
/// A decision's field mask over one category: the category's fields the decision does not release are hidden.
/// Hidden fields are absent from answers (not null), and cannot be filtered or sorted by.
/// </summary>
public sealed class FieldMask
{
    private static readonly string[] SortParameters = ["sort", "orderBy"];
    private readonly HashSet<string> _hidden;

    public FieldMask(IEnumerable<string> categoryFields, IEnumerable<string> released)
    {
        _hidden = categoryFields.Except(released, StringComparer.Ordinal).ToHashSet(StringComparer.OrdinalIgnoreCase);
    }

    public bool HidesAnything => _hidden.Count > 0;

    public bool Hides(string field) => _hidden.Contains(field);

    /// <summary>
    /// The first hidden field a query names, as a parameter, as a sort key (<c>sort=-startDate</c>), or through a
    /// parameter that <paramref name="derived"/> says filters on fields (<c>current</c> filters on the dates).
    /// </summary>
    public string? HiddenFieldNamedBy(IQueryCollection query, IReadOnlyDictionary<string, string[]>? derived = null)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (!HidesAnything)
        {
            return null;
        }

        foreach (var (key, values) in query)
        {
            if (_hidden.Contains(key))
            {
                return key;
            }

            if (derived is not null && derived.TryGetValue(key, out var fields) && fields.Any(_hidden.Contains))
            {
                return key;
            }

            if (SortParameters.Contains(key, StringComparer.OrdinalIgnoreCase)
                && values.SelectMany(v => (v ?? "").Split(',')).Select(v => v.Trim().TrimStart('-', '+')).FirstOrDefault(_hidden.Contains) is { } sorted)
            {
                return sorted;
            }
        }

        return null;
    }

    /// <summary>
    /// Removes hidden fields, at any depth, from the JSON value of any answer (a plain returned object included);
    /// problem details and answers without a value pass unchanged.
    /// </summary>
    public object? Apply(object? result, HttpContext http)
    {
        ArgumentNullException.ThrowIfNull(http);
        if (!HidesAnything || result is null)
        {
            return result;
        }

        var inner = result is INestedHttpResult nested ? nested.Result : result as IResult;
        var value = AnswerFields.ValueOf(result);
        if (value is null)
        {
            return result;
        }

        var options = http.RequestServices.GetRequiredService<IOptions<HttpJsonOptions>>().Value.SerializerOptions;
        var node = JsonSerializer.SerializeToNode(value, value.GetType(), options);
        Strip(node);
        if (inner?.GetType().GetProperty("Location")?.GetValue(inner) is string location)
        {
            http.Response.Headers.Location = location;
        }

        return TypedResults.Json(node, options, statusCode: (inner as IStatusCodeHttpResult)?.StatusCode ?? StatusCodes.Status200OK);
    }

    private void Strip(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var name in obj.Select(p => p.Key).Where(_hidden.Contains).ToList())
                {
                    obj.Remove(name);
                }

                foreach (var (_, child) in obj)
                {
                    Strip(child);
                }

                break;
            case JsonArray array:
                foreach (var item in array)
                {
                    Strip(item);
                }

                break;
        }
    }
}
