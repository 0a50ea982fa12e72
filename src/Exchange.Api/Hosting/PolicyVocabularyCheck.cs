using System.Reflection;
using Exchange.Api.Auth;
using Exchange.Api.Policy;
using Exchange.Api.Storage;

namespace Exchange.Api.Hosting;

/// <summary>
/// The loaded policy is the only source of roles, purposes, organisation kinds and relationship kinds: code reads
/// them from <see cref="PolicySet"/>. Where C# must name one (a role in an endpoint's authorization, a relationship
/// kind a table stores, an organisation kind), this check stops the start when the policy does not declare it,
/// naming what is missing, so the code and <c>policies/vocabulary.yaml</c> cannot drift apart. It lives in the
/// composition root because it names what the features and storage name; Policy itself knows none of them.
/// </summary>
public static class PolicyVocabularyCheck
{
    /// <summary>What C# names that <paramref name="policy"/> lacks, each as "role 'x' (Roles.X)"; empty when nothing.</summary>
    public static IReadOnlyList<string> Missing(PolicySet policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        var missing = new List<string>();
        foreach (var (name, role) in Constants(typeof(Roles)))
        {
            if (!policy.Roles.ContainsKey(role))
            {
                missing.Add($"role '{role}' (Roles.{name})");
            }
        }

        foreach (var (name, kind) in Constants(typeof(ChildRelationship)))
        {
            if (!policy.Relationships.Contains(kind))
            {
                missing.Add($"relationship '{kind}' (ChildRelationship.{name})");
            }
        }

        // Every kind of organisation the register holds is one the policy's roles can be held in.
        var policyKinds = policy.Roles.Values.SelectMany(r => r.Organisations).ToHashSet(StringComparer.Ordinal);
        foreach (var kind in Enum.GetNames<OrganisationKind>())
        {
            if (!policyKinds.Contains(kind.ToLowerInvariant()))
            {
                missing.Add($"organisation kind '{kind.ToLowerInvariant()}' (OrganisationKind.{kind})");
            }
        }

        return missing;
    }

    /// <summary>Throws a <see cref="PolicyException"/> naming everything C# names that the policy lacks.</summary>
    /// <exception cref="PolicyException">The policy lacks something C# names.</exception>
    public static void Ensure(PolicySet policy)
    {
        var missing = Missing(policy);
        if (missing.Count > 0)
        {
            throw new PolicyException("Policy error: the code names what policies/vocabulary.yaml does not declare: "
                + string.Join(", ", missing) + ". Declare it in the policy (or change the code).");
        }
    }

    private static IEnumerable<(string Name, string Value)> Constants(Type type) =>
        type.GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.IsLiteral && f.FieldType == typeof(string))
            .Select(f => (f.Name, (string)f.GetRawConstantValue()!));
}
