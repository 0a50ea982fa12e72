using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Mvc;

namespace Exchange.Api.Policy;

/// <summary>
/// The JSON property names an answer can carry, read from its type: the audit event of a read names the
/// released fields the answer really has, not every field the mask would allow (a placement list carries no
/// address even where the policy would release one).
/// </summary>
public static class AnswerFields
{
    private static readonly ConcurrentDictionary<Type, IReadOnlySet<string>?> Cache = new();

    /// <summary>The value an endpoint's result serialises, or null for problems, text and empty answers.</summary>
    public static object? ValueOf(object? result)
    {
        var inner = result is INestedHttpResult nested ? nested.Result : result as IResult;
        var value = inner is null ? result : (inner as IValueHttpResult)?.Value;
        return value is ProblemDetails or string ? null : value;
    }

    /// <summary>
    /// Of <paramref name="released"/>, the fields the answer's type can carry at any depth. Some categories name
    /// whole results rather than JSON properties (the audit log's <c>events</c>, the subject-access <c>export</c>),
    /// and some answers are text or hold raw JSON whose shape the type does not tell: then the endpoint's
    /// <paramref name="declared"/> fields within the mask are what it released, or the whole mask if it declares none.
    /// </summary>
    public static IReadOnlyList<string> Narrow(IReadOnlyList<string> released, object? value, JsonSerializerOptions options, IReadOnlyList<string> declared) =>
        Narrow(released, value?.GetType(), options, declared);

    /// <summary>As <see cref="Narrow(IReadOnlyList{string}, object?, JsonSerializerOptions, IReadOnlyList{string})"/>, for an answer of <paramref name="type"/> not yet made.</summary>
    public static IReadOnlyList<string> Narrow(IReadOnlyList<string> released, Type? type, JsonSerializerOptions options, IReadOnlyList<string> declared)
    {
        ArgumentNullException.ThrowIfNull(released);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(declared);
        var names = type is null ? null : Cache.GetOrAdd(type, t => NamesOf(t, options));
        var carried = names is null ? [] : released.Where(names.Contains).ToList();
        if (carried.Count > 0)
        {
            return carried;
        }

        var named = released.Where(declared.Contains).ToList();
        return named.Count > 0 ? named : released;
    }

    private static HashSet<string>? NamesOf(Type type, JsonSerializerOptions options)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        var seen = new HashSet<Type>();
        var pending = new Stack<Type>([type]);
        while (pending.TryPop(out var next))
        {
            if (!seen.Add(next))
            {
                continue;
            }

            if (next == typeof(object) || typeof(JsonNode).IsAssignableFrom(next) || next == typeof(JsonElement))
            {
                return null;
            }

            var info = options.GetTypeInfo(next);
            switch (info.Kind)
            {
                case JsonTypeInfoKind.Object:
                    foreach (var property in info.Properties)
                    {
                        names.Add(property.Name);
                        pending.Push(property.PropertyType);
                    }

                    break;
                case JsonTypeInfoKind.Enumerable:
                    pending.Push(info.ElementType!);
                    break;
                case JsonTypeInfoKind.Dictionary:
                    pending.Push(info.ElementType!);
                    break;
            }
        }

        return names;
    }
}
