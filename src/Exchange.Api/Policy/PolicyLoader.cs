using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Exchange.Api.Policy;

/// <summary>
/// Reads <c>policies/*.yaml</c> (not its <c>tests/</c>) into a <see cref="PolicySet"/> and validates it:
/// every name a rule uses must be declared, field lists must belong to the rule's categories, ids are unique
/// and unknown keys are refused (a misspelt condition must not silently widen access). Any fault throws
/// <see cref="PolicyException"/> naming the file, the line and the problem.
/// </summary>
public static class PolicyLoader
{
    /// <summary>read and write touch a category's data; register opens a child's record; erase crypto-shreds it.</summary>
    public static readonly IReadOnlySet<string> Actions = new HashSet<string>(StringComparer.Ordinal) { "read", "write", "register", "erase" };

    /// <summary>The kinds of organisation a role or a rule may name.</summary>
    public static readonly IReadOnlySet<string> OrganisationKinds = new HashSet<string>(StringComparer.Ordinal) { "council", "school", "health", "operator" };

    private static readonly string[] Sections = ["roles", "purposes", "relationships", "categories", "rules", "agreements"];

    public static PolicySet LoadDirectory(string directory)
    {
        if (!Directory.Exists(directory))
        {
            throw new PolicyException($"The policy directory '{directory}' does not exist.");
        }

        var files = Directory.GetFiles(directory, "*.yaml").Order(StringComparer.Ordinal)
            .Select(f => (Name: Path.GetFileName(f), Text: File.ReadAllText(f))).ToList();
        if (files.Count == 0)
        {
            throw new PolicyException($"The policy directory '{directory}' holds no .yaml files.");
        }

        return Load(files);
    }

    /// <summary>Loads policy documents given as (file name, text), in order.</summary>
    public static PolicySet Load(IReadOnlyList<(string Name, string Text)> files)
    {
        ArgumentNullException.ThrowIfNull(files);
        var raw = new Raw();
        foreach (var (name, text) in files)
        {
            ReadFile(name, text, raw);
        }

        return Validate(raw, Hash(files));
    }

    private sealed class Raw
    {
        public List<(YamlMappingNode Node, string File)> Roles { get; } = [];
        public List<(YamlMappingNode Node, string File)> Purposes { get; } = [];
        public List<(YamlMappingNode Node, string File)> Relationships { get; } = [];
        public List<(YamlMappingNode Node, string File)> Categories { get; } = [];
        public List<(YamlMappingNode Node, string File)> Rules { get; } = [];
        public List<(YamlMappingNode Node, string File)> Agreements { get; } = [];
    }

    private static void ReadFile(string file, string text, Raw raw)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlException ex)
        {
            throw new PolicyException(file, (int)ex.Start.Line, "not valid YAML: " + ex.Message);
        }

        foreach (var document in stream.Documents)
        {
            if (document.RootNode is not YamlMappingNode root)
            {
                throw new PolicyException(file, Line(document.RootNode), "the document must be a mapping of sections (" + string.Join(", ", Sections) + ").");
            }

            foreach (var (key, value) in root.Children)
            {
                // A section is named by plain text; a list or mapping as a key (`? [roles]: ...`) is a fault, not a crash.
                if (key is not YamlScalarNode { Value: { } section })
                {
                    throw new PolicyException(file, Line(key), "a section's name must be plain text (" + string.Join(", ", Sections) + ").");
                }

                var target = section switch
                {
                    "roles" => raw.Roles,
                    "purposes" => raw.Purposes,
                    "relationships" => raw.Relationships,
                    "categories" => raw.Categories,
                    "rules" => raw.Rules,
                    "agreements" => raw.Agreements,
                    _ => throw new PolicyException(file, Line(key), $"unknown section '{section}' (expected one of: {string.Join(", ", Sections)})."),
                };
                if (value is not YamlSequenceNode items)
                {
                    throw new PolicyException(file, Line(value), $"'{section}' must be a list.");
                }

                foreach (var item in items)
                {
                    target.Add((item as YamlMappingNode ?? throw new PolicyException(file, Line(item), $"each entry of '{section}' must be a mapping with an id."), file));
                }
            }
        }
    }

    private static PolicySet Validate(Raw raw, string hash)
    {
        var roles = new Dictionary<string, PolicyRole>(StringComparer.Ordinal);
        foreach (var (node, file) in raw.Roles)
        {
            var e = new Entry(node, file, "role", "id", "organisations", "description");
            var id = e.Id(roles.Keys);
            var organisations = e.List("organisations", required: true)!;
            if (organisations.FirstOrDefault(o => !OrganisationKinds.Contains(o)) is { } unknownKind)
            {
                throw e.Fault("organisations", $"unknown organisation kind '{unknownKind}' (council, school, health, operator).");
            }

            roles[id] = new PolicyRole(id, organisations);
        }

        var purposes = IdsOf(raw.Purposes, "purpose");
        var relationships = IdsOf(raw.Relationships, "relationship");
        var categories = new Dictionary<string, PolicyCategory>(StringComparer.Ordinal);
        foreach (var (node, file) in raw.Categories)
        {
            var e = new Entry(node, file, "category", "id", "fields", "description", "class");
            var id = e.Id(categories.Keys);
            var fields = e.List("fields", required: true)!;
            if (fields.Distinct(StringComparer.Ordinal).Count() != fields.Count)
            {
                throw e.Fault("fields", $"category '{id}' lists a field twice.");
            }

            categories[id] = new PolicyCategory(id, fields);
        }

        var rules = new List<PolicyRule>();
        var ruleIds = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (node, file) in raw.Rules)
        {
            var e = new Entry(node, file, "rule", "id", "description", "roles", "organisations", "relationship", "actions", "categories", "purposes", "lawfulBasis", "fields", "conditions");
            var id = e.Id(ruleIds);
            ruleIds.Add(id);
            var ruleRoles = e.Known("roles", roles.Keys.ToHashSet(StringComparer.Ordinal), "role");
            var relationship = e.Scalar("relationship", required: true)!;
            if (relationship != PolicyRule.NoRelationship && !relationships.Contains(relationship))
            {
                throw e.Fault("relationship", $"unknown relationship '{relationship}' (declared: {string.Join(", ", relationships.Order(StringComparer.Ordinal))}, or 'none').");
            }

            // Optional: limits the rule to callers from these kinds of organisation (the operator's DPO erases).
            var ruleOrganisations = e.Node("organisations") is null ? [] : e.Known("organisations", OrganisationKinds, "organisation kind");
            var actions = e.Known("actions", Actions, "action");
            var ruleCategories = e.Known("categories", categories.Keys.ToHashSet(StringComparer.Ordinal), "category");
            var rulePurposes = e.Known("purposes", purposes, "purpose");
            var lawfulBasis = e.Scalar("lawfulBasis", required: true)!;
            IReadOnlyList<string>? fields = null;
            if (e.Node("fields") is YamlScalarNode { Value: "all" })
            {
                fields = null;
            }
            else
            {
                fields = e.List("fields", required: true);
                var allowed = ruleCategories.SelectMany(c => categories[c].Fields).ToHashSet(StringComparer.Ordinal);
                if (fields!.FirstOrDefault(f => !allowed.Contains(f)) is { } unknown)
                {
                    throw e.Fault("fields", $"unknown field '{unknown}': not a field of {string.Join(", ", ruleCategories)}.");
                }
            }

            rules.Add(new PolicyRule(id, ruleRoles, relationship, actions, ruleCategories, rulePurposes, lawfulBasis, fields, e.Conditions(), file, e.Line)
            {
                Organisations = ruleOrganisations,
            });
        }

        if (rules.Count == 0)
        {
            throw new PolicyException("The policy has no rules: everything would be denied.");
        }

        var agreements = new List<SharingAgreement>();
        var agreementIds = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (node, file) in raw.Agreements)
        {
            var e = new Entry(node, file, "agreement", "id", "description", "parties", "categories", "purposes", "lawfulBasis", "retention");
            var id = e.Id(agreementIds);
            agreementIds.Add(id);
            var parties = e.List("parties", required: true)!;
            var retention = e.Scalar("retention", required: true)!;
            agreements.Add(new SharingAgreement(id, parties, e.Known("categories", categories.Keys.ToHashSet(StringComparer.Ordinal), "category"),
                e.Known("purposes", purposes, "purpose"), e.Scalar("lawfulBasis", required: true)!, retention));
        }

        return new PolicySet(roles, purposes, relationships, categories, rules, agreements, hash);
    }

    private static HashSet<string> IdsOf(List<(YamlMappingNode Node, string File)> nodes, string kind)
    {
        var ids = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (node, file) in nodes)
        {
            ids.Add(new Entry(node, file, kind, "id", "description").Id(ids));
        }

        return ids;
    }

    // The policy's identity in every audit event: the same files give the same hash on every instance.
    private static string Hash(IReadOnlyList<(string Name, string Text)> files)
    {
        var builder = new StringBuilder();
        foreach (var (name, text) in files.OrderBy(f => f.Name, StringComparer.Ordinal))
        {
            builder.Append(name).Append('\0').Append(text.ReplaceLineEndings("\n")).Append('\0');
        }

        return "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(builder.ToString())));
    }

    private static int Line(YamlNode node) => (int)node.Start.Line;

    /// <summary>"an agreement", "a rule": the article of a kind of entry in a fault's wording.</summary>
    private static string Article(string kind) => kind.Length > 0 && "aeiou".Contains(kind[0], StringComparison.Ordinal) ? "an" : "a";

    /// <summary>One mapping entry of a section, read with its file and line for error messages.</summary>
    private sealed class Entry
    {
        private readonly YamlMappingNode _node;
        private readonly string _file;
        private readonly string _kind;

        public Entry(YamlMappingNode node, string file, string kind, params string[] keys)
        {
            _node = node;
            _file = file;
            _kind = kind;
            foreach (var key in node.Children.Keys)
            {
                var name = (key as YamlScalarNode)?.Value;
                if (name is null || !keys.Contains(name, StringComparer.Ordinal))
                {
                    throw new PolicyException(file, PolicyLoader.Line(key), $"unknown key '{name}' in a {kind} (expected: {string.Join(", ", keys)}).");
                }
            }
        }

        public int Line => PolicyLoader.Line(_node);

        public PolicyException Fault(string key, string problem) =>
            new(_file, Node(key) is { } n ? PolicyLoader.Line(n) : Line, problem);

        public YamlNode? Node(string key) =>
            _node.Children.TryGetValue(new YamlScalarNode(key), out var value) ? value : null;

        public string Id(IEnumerable<string> existing)
        {
            var id = Scalar("id", required: true)!;
            if (existing.Contains(id, StringComparer.Ordinal))
            {
                throw Fault("id", $"duplicate {_kind} id '{id}'.");
            }

            return id;
        }

        public string? Scalar(string key, bool required)
        {
            switch (Node(key))
            {
                case YamlScalarNode { Value: { Length: > 0 } value }:
                    return value;
                case null when !required:
                    return null;
                case null:
                    throw new PolicyException(_file, Line, $"{Article(_kind)} {_kind} needs '{key}'.");
                default:
                    throw Fault(key, $"'{key}' must be a single value.");
            }
        }

        public List<string>? List(string key, bool required)
        {
            switch (Node(key))
            {
                case YamlSequenceNode items when items.Children.Count > 0:
                    return items.Children.Select(i => i is YamlScalarNode { Value: { Length: > 0 } v } ? v : throw new PolicyException(_file, PolicyLoader.Line(i), $"'{key}' must list plain values.")).ToList();
                case null when !required:
                    return null;
                case null:
                    throw new PolicyException(_file, Line, $"{Article(_kind)} {_kind} needs '{key}'.");
                default:
                    throw Fault(key, $"'{key}' must be a non-empty list.");
            }
        }

        public List<string> Known(string key, IReadOnlySet<string> known, string what)
        {
            var values = List(key, required: true)!;
            if (values.FirstOrDefault(v => !known.Contains(v)) is { } unknown)
            {
                throw Fault(key, $"unknown {what} '{unknown}' (declared: {string.Join(", ", known.Order(StringComparer.Ordinal))}).");
            }

            return values;
        }

        public PolicyConditions Conditions()
        {
            if (Node("conditions") is null)
            {
                return new PolicyConditions();
            }

            if (Node("conditions") is not YamlMappingNode map)
            {
                throw Fault("conditions", "'conditions' must be a mapping.");
            }

            var conditions = new Entry(map, _file, "rule's conditions", "requires", "notRestricted", "withinDates", "breakGlass");
            var requires = conditions.Scalar("requires", required: false);
            if (requires is not (null or "consent"))
            {
                throw conditions.Fault("requires", $"unknown requirement '{requires}' (only 'consent').");
            }

            return new PolicyConditions(requires == "consent",
                conditions.Flag("notRestricted", true), conditions.Flag("withinDates", true), conditions.Flag("breakGlass", false));
        }

        private bool Flag(string key, bool fallback) => Scalar(key, required: false) switch
        {
            null => fallback,
            "true" => true,
            "false" => false,
            var other => throw Fault(key, string.Create(CultureInfo.InvariantCulture, $"'{key}' must be true or false, not '{other}'.")),
        };
    }
}
