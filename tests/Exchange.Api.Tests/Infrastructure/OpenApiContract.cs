using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Json.Schema;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Exchange.Api.Tests.Infrastructure;

/// <summary>
/// openapi.yaml as a checker of real responses: finds the operation a request hit (method and path
/// template), and says where a response departs from what that operation declares: a status it does
/// not list, a content type it does not list, or a body its schema refuses (with the JSON pointer).
/// Response schemas are read strictly: an object that lists its properties may carry no other
/// (the contract must say everything the service says), and formats (date, date-time, uuid, uri,
/// byte) are checked.
/// </summary>
public sealed class OpenApiContract
{
    private static readonly Lazy<OpenApiContract> Loaded = new(() => new OpenApiContract(File.ReadAllText(Path.Combine(RepoRoot(), "openapi.yaml"))));

    private static readonly string[] Methods = ["get", "put", "post", "delete", "patch"];

    private readonly JsonObject _document;
    private readonly List<(string Template, Regex Pattern, int Literals, JsonObject Item)> _paths = [];
    private readonly Dictionary<string, JsonSchema> _schemas = new(StringComparer.Ordinal);

    static OpenApiContract()
    {
        // OpenAPI's own formats; like every format, each applies only to its kind of value.
        Formats.Register(new PredicateFormat("byte", node => node is not JsonValue value || value.GetValueKind() != JsonValueKind.String || IsBase64(value.GetValue<string>())));
        Formats.Register(new PredicateFormat("int64", node => node is not JsonValue value || value.GetValueKind() != JsonValueKind.Number || value.TryGetValue<long>(out _)));
        Formats.Register(new PredicateFormat("int32", node => node is not JsonValue value || value.GetValueKind() != JsonValueKind.Number || value.TryGetValue<int>(out _)));
    }

    public OpenApiContract(string yaml)
    {
        _document = (JsonObject)YamlToJson(yaml);
        foreach (var (template, item) in (JsonObject)_document["paths"]!)
        {
            var segments = template.Trim('/').Split('/');
            var pattern = "^/" + string.Join('/', segments.Select(s => s.StartsWith('{') ? $"(?<{s[1..^1].Replace("-", "_", StringComparison.Ordinal)}>[^/]+)" : Regex.Escape(s))) + "/?$";
            _paths.Add((template, new Regex(pattern, RegexOptions.CultureInvariant), segments.Count(s => !s.StartsWith('{')), (JsonObject)item!));
        }
    }

    public static OpenApiContract Instance => Loaded.Value;

    /// <summary>Every departure of <paramref name="response"/> from the contract; empty when it conforms or no operation matches.</summary>
    public IReadOnlyList<string> Check(string method, string path, int status, string? mediaType, string body)
    {
        var match = _paths.Where(p => p.Pattern.IsMatch(path)).OrderByDescending(p => p.Literals).FirstOrDefault();
        if (match.Item is null)
        {
            return []; // no documented route here: the routing tests cover unknown addresses (404 not-found)
        }

        var operationName = $"{method.ToUpperInvariant()} {match.Template}";
        if (match.Item[method.ToLowerInvariant()] is not JsonObject operation)
        {
            // The route exists for other methods: 405 method-not-allowed is the framework's answer.
            return status == 405 ? [] : [$"{operationName}: the operation is not in openapi.yaml (answered {status})."];
        }

        var responses = operation["responses"] as JsonObject;
        var code = status.ToString(CultureInfo.InvariantCulture);
        var response = Resolve(responses?[code]) ?? Resolve(responses?[code[0] + "XX"]) ?? Resolve(responses?["default"]);
        if (response is not JsonObject declared)
        {
            return [$"{operationName}: status {status} is not documented (documented: {string.Join(", ", responses?.Select(r => r.Key) ?? [])}). Body: {Shorten(body)}"];
        }

        var content = declared["content"] as JsonObject;
        if (content is null || content.Count == 0)
        {
            return body.Length == 0 ? [] : [$"{operationName} {status}: the contract declares no body, the service sent {mediaType ?? "no content type"}: {Shorten(body)}"];
        }

        if (body.Length == 0 || mediaType is null)
        {
            return [$"{operationName} {status}: the contract declares {string.Join(" or ", content.Select(c => c.Key))}, the service sent no body."];
        }

        if (Resolve(content[mediaType]) is not JsonObject media)
        {
            return [$"{operationName} {status}: content type {mediaType} is not documented (documented: {string.Join(", ", content.Select(c => c.Key))})."];
        }

        if (media["schema"] is null)
        {
            return [];
        }

        JsonNode? instance;
        if (mediaType == "application/json" || mediaType.EndsWith("+json", StringComparison.Ordinal))
        {
            try
            {
                instance = JsonNode.Parse(body);
            }
            catch (JsonException)
            {
                return [$"{operationName} {status}: the body is not JSON: {Shorten(body)}"];
            }
        }
        else if (mediaType.StartsWith("text/", StringComparison.Ordinal))
        {
            instance = JsonValue.Create(body);
        }
        else
        {
            return []; // e.g. application/x-ndjson: a stream of lines, described in prose
        }

        var pointer = $"/paths/{Escape(match.Template)}/{method.ToLowerInvariant()}/responses/{code}/content/{Escape(mediaType)}/schema";
        var schema = SchemaAt(pointer, media["schema"]!);
        var result = schema.Evaluate(instance, new EvaluationOptions { OutputFormat = OutputFormat.List, RequireFormatValidation = true });
        if (result.IsValid)
        {
            return [];
        }

        return result.Details
            .Where(d => d.HasErrors)
            .SelectMany(d => d.Errors!.Select(e => $"{operationName} {status} ({mediaType}): body at '{d.InstanceLocation}' fails '{e.Key}' (schema {d.EvaluationPath}): {e.Value}"))
            .Distinct()
            .Take(10)
            .Append($"  body: {Shorten(body)}")
            .ToList();
    }

    /// <summary>
    /// Follows the link <paramref name="name"/> that openapi.yaml declares on the response a request got, as a
    /// stateful client would: the target operation's method and path, and the header parameters, with every
    /// runtime expression ($response.body#/..., $request.path.x, $request.header.X) evaluated.
    /// </summary>
    public (HttpMethod Method, string Path, IReadOnlyDictionary<string, string> Headers) FollowLink(
        HttpRequestMessage request, int status, string responseBody, string name)
    {
        ArgumentNullException.ThrowIfNull(request);
        var path = request.RequestUri!.AbsolutePath;
        var match = _paths.Where(p => p.Pattern.IsMatch(path)).OrderByDescending(p => p.Literals).First();
        var code = status.ToString(CultureInfo.InvariantCulture);
        var response = Resolve(match.Item[request.Method.Method.ToLowerInvariant()]?["responses"]?[code])
            ?? throw new InvalidOperationException($"{request.Method} {match.Template} declares no {status} response.");
        var link = Resolve(response["links"]?[name]) as JsonObject
            ?? throw new InvalidOperationException($"{request.Method} {match.Template} {status} declares no link {name}.");
        var operationId = link["operationId"]!.GetValue<string>();
        var (targetTemplate, targetMethod, target) = _paths
            .SelectMany(p => Methods.Where(m => p.Item[m]?["operationId"]?.GetValue<string>() == operationId).Select(m => (p.Template, m, (JsonObject)p.Item[m]!)))
            .Single();
        var body = responseBody.Length > 0 ? JsonNode.Parse(responseBody) : null;
        var pathValues = match.Pattern.Match(path);
        string Evaluate(string expression)
        {
            if (expression.StartsWith("$response.body#", StringComparison.Ordinal))
            {
                JsonNode? node = body;
                foreach (var part in expression["$response.body#/".Length..].Split('/'))
                {
                    node = node?[part];
                }

                return node?.GetValue<string>() ?? throw new InvalidOperationException($"Link {name}: {expression} is absent from the response.");
            }

            if (expression.StartsWith("$request.path.", StringComparison.Ordinal))
            {
                return Uri.UnescapeDataString(pathValues.Groups[expression["$request.path.".Length..].Replace("-", "_", StringComparison.Ordinal)].Value);
            }

            if (expression.StartsWith("$request.header.", StringComparison.Ordinal))
            {
                return request.Headers.GetValues(expression["$request.header.".Length..]).Single();
            }

            return expression;
        }

        var values = ((JsonObject?)link["parameters"] ?? []).ToDictionary(p => p.Key, p => Evaluate(p.Value!.GetValue<string>()));
        var parameters = ((JsonArray?)target["parameters"] ?? []).Concat((JsonArray?)_paths.Single(p => p.Template == targetTemplate).Item["parameters"] ?? [])
            .Select(Resolve).OfType<JsonObject>().ToList();
        var targetPath = Regex.Replace(targetTemplate, "{([^}]+)}", m => Uri.EscapeDataString(values.TryGetValue(m.Groups[1].Value, out var v)
            ? v : throw new InvalidOperationException($"Link {name} gives no value for the path parameter {m.Groups[1].Value} of {operationId}.")));
        var headers = parameters.Where(p => p["in"]?.GetValue<string>() == "header")
            .Select(p => p["name"]!.GetValue<string>())
            .Where(values.ContainsKey)
            .ToDictionary(h => h, h => values[h]);
        return (new HttpMethod(targetMethod.ToUpperInvariant()), targetPath, headers);
    }

    /// <summary>The declared responses of each operation, as "METHOD /template" → status codes.</summary>
    public IEnumerable<(string Operation, JsonObject Definition)> Operations() =>
        _paths.SelectMany(p => Methods.Where(m => p.Item[m] is JsonObject).Select(m => ($"{m.ToUpperInvariant()} {p.Template}", (JsonObject)p.Item[m]!)));

    private JsonSchema SchemaAt(string pointer, JsonNode schema)
    {
        lock (_schemas)
        {
            if (!_schemas.TryGetValue(pointer, out var compiled))
            {
                var inlined = Inline(schema, []);
                Close(inlined);
                compiled = JsonSchema.FromText(inlined.ToJsonString());
                _schemas[pointer] = compiled;
            }

            return compiled;
        }
    }

    /// <summary>A copy with every local $ref replaced by what it points at (the contract has no recursive schemas).</summary>
    private JsonNode Inline(JsonNode node, HashSet<string> seen)
    {
        switch (node)
        {
            case JsonObject obj when obj["$ref"] is JsonValue reference && reference.TryGetValue<string>(out var target):
                if (!seen.Add(target))
                {
                    throw new InvalidOperationException($"Recursive $ref {target} in openapi.yaml.");
                }

                var inlined = Inline(Pointer(target), seen);
                seen.Remove(target);
                return inlined;
            case JsonObject obj:
                var copy = new JsonObject();
                foreach (var (key, value) in obj)
                {
                    copy[key] = value is null ? null : Inline(value, seen);
                }

                return copy;
            case JsonArray array:
                return new JsonArray(array.Select(item => item is null ? null : Inline(item, seen)).ToArray());
            default:
                return node.DeepClone();
        }
    }

    /// <summary>Objects that list their properties carry no others, unless the schema says what else they may carry.</summary>
    private static void Close(JsonNode node)
    {
        if (node is JsonObject obj)
        {
            if (obj["properties"] is JsonObject && !obj.ContainsKey("additionalProperties") && !obj.ContainsKey("unevaluatedProperties"))
            {
                obj["unevaluatedProperties"] = false;
            }

            foreach (var (key, value) in obj.ToList())
            {
                if (value is not null && key is not ("example" or "examples" or "enum" or "const" or "default"))
                {
                    Close(value);
                }
            }
        }
        else if (node is JsonArray array)
        {
            foreach (var item in array)
            {
                if (item is not null)
                {
                    Close(item);
                }
            }
        }
    }

    private JsonNode? Resolve(JsonNode? node) =>
        node is JsonObject obj && obj["$ref"] is JsonValue reference && reference.TryGetValue<string>(out var target) ? Resolve(Pointer(target)) : node;

    private JsonNode Pointer(string reference)
    {
        if (!reference.StartsWith("#/", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"Only local references are supported: {reference}");
        }

        JsonNode? node = _document;
        foreach (var part in reference[2..].Split('/'))
        {
            node = node?[part.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal)];
        }

        return node ?? throw new InvalidOperationException($"openapi.yaml: {reference} points at nothing.");
    }

    private static string Escape(string part) => part.Replace("~", "~0", StringComparison.Ordinal).Replace("/", "~1", StringComparison.Ordinal);

    private static string Shorten(string body) => body.Length > 600 ? body[..600] + "..." : body;

    private static bool IsBase64(string text)
    {
        var buffer = new byte[text.Length];
        return Convert.TryFromBase64String(text, buffer, out _);
    }

    /// <summary>YAML 1.2 core schema to JSON: plain scalars may be null, booleans or numbers; quoted ones are strings.</summary>
    public static JsonNode YamlToJson(string yaml)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        return Convert(stream.Documents[0].RootNode)!;

        static JsonNode? Convert(YamlNode node) => node switch
        {
            YamlMappingNode map => new JsonObject(map.Children.Select(c => KeyValuePair.Create(((YamlScalarNode)c.Key).Value!, Convert(c.Value)))),
            YamlSequenceNode seq => new JsonArray(seq.Children.Select(Convert).ToArray()),
            YamlScalarNode { Style: ScalarStyle.Plain } scalar => Plain(scalar.Value ?? ""),
            YamlScalarNode scalar => JsonValue.Create(scalar.Value ?? ""),
            _ => throw new InvalidOperationException($"Unsupported YAML node at {node.Start}"),
        };

        static JsonNode? Plain(string value)
        {
            if (value is "" or "~" or "null")
            {
                return null;
            }

            if (value is "true" or "false")
            {
                return JsonValue.Create(value == "true");
            }

            if (Regex.IsMatch(value, "^-?[0-9]+$") && long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var integer))
            {
                return JsonValue.Create(integer);
            }

            if (Regex.IsMatch(value, @"^-?[0-9]+\.[0-9]+([eE][-+]?[0-9]+)?$") && double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number))
            {
                return JsonValue.Create(number);
            }

            return JsonValue.Create(value);
        }
    }

    internal static string RepoRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Exchange.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("Exchange.sln not found above the test output.");
    }
}

/// <summary>
/// Checks every response a test receives against openapi.yaml (<see cref="OpenApiContract"/>) and
/// fails the call, naming the operation, the status and the JSON pointer of each mismatch.
/// </summary>
public sealed class ContractCheckingHandler : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await base.SendAsync(request, cancellationToken);
        if (request.RequestUri is null || request.Method == HttpMethod.Head || request.Method == HttpMethod.Options)
        {
            return response;
        }

        // Buffer the body so the test can still read it after us.
        var bytes = await response.Content.ReadAsByteArrayAsync(cancellationToken);
        var headers = response.Content.Headers.ToList();
        var replaced = new ByteArrayContent(bytes);
        foreach (var (name, values) in headers)
        {
            replaced.Headers.TryAddWithoutValidation(name, values);
        }

        response.Content = replaced;
        var body = Encoding.UTF8.GetString(bytes);
        var failures = OpenApiContract.Instance.Check(request.Method.Method, request.RequestUri.AbsolutePath, (int)response.StatusCode,
            response.Content.Headers.ContentType?.MediaType, body);
        if (failures.Count > 0 && System.Environment.GetEnvironmentVariable("CONTRACT_SURVEY") is { Length: > 0 } survey)
        {
            // Survey mode (for fixing the contract in bulk): record every departure and let the test go on.
            lock (typeof(ContractCheckingHandler))
            {
                File.AppendAllLines(survey, failures.Select(f => f.Replace('\n', ' ')));
            }
        }
        else if (failures.Count > 0)
        {
            throw new ContractViolationException(
                $"The response departs from openapi.yaml:{System.Environment.NewLine}  " + string.Join(System.Environment.NewLine + "  ", failures));
        }

        return response;
    }
}

public sealed class ContractViolationException(string message) : Exception(message);
