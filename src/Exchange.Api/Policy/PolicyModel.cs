namespace Exchange.Api.Policy;

/// <summary>A role and the kinds of organisation it may belong to.</summary>
public sealed record PolicyRole(string Id, IReadOnlyList<string> Organisations);

/// <summary>A data category and every field it holds (what a mask chooses from).</summary>
public sealed record PolicyCategory(string Id, IReadOnlyList<string> Fields);

/// <summary>
/// When a rule applies. <see cref="RequiresConsent"/>: a consent record must cover the category, purpose and
/// recipient; <see cref="NotRestricted"/>: a child whose processing is restricted (Art. 18) is excluded unless
/// the purpose is one the restriction allows; <see cref="WithinDates"/>: the relationship must hold on the day;
/// <see cref="BreakGlass"/>: only under an active break-glass grant.
/// </summary>
public sealed record PolicyConditions(bool RequiresConsent = false, bool NotRestricted = true, bool WithinDates = true, bool BreakGlass = false);

/// <summary>One rule: who (roles) in which relationship may do what (actions) to which categories, why (purposes), on what lawful basis, seeing which fields.</summary>
public sealed record PolicyRule(
    string Id,
    IReadOnlyList<string> Roles,
    string Relationship,
    IReadOnlyList<string> Actions,
    IReadOnlyList<string> Categories,
    IReadOnlyList<string> Purposes,
    string LawfulBasis,
    IReadOnlyList<string>? Fields,
    PolicyConditions Conditions,
    string File,
    int Line)
{
    /// <summary>The relationship value of a rule that needs none (the DPO's audit rules).</summary>
    public const string NoRelationship = "none";

    /// <summary>The kinds of organisation the caller must belong to; empty = any kind the role allows.</summary>
    public IReadOnlyList<string> Organisations { get; init; } = [];

    /// <summary>True when the rule releases every field of its categories.</summary>
    public bool AllFields => Fields is null;
}

/// <summary>A data sharing agreement: which kinds of organisation share which categories, why, on what basis, kept how long.</summary>
public sealed record SharingAgreement(
    string Id, IReadOnlyList<string> Parties, IReadOnlyList<string> Categories, IReadOnlyList<string> Purposes, string LawfulBasis, string Retention);

/// <summary>The loaded, validated policy: the only source of access decisions.</summary>
public sealed record PolicySet(
    IReadOnlyDictionary<string, PolicyRole> Roles,
    IReadOnlySet<string> Purposes,
    IReadOnlySet<string> Relationships,
    IReadOnlyDictionary<string, PolicyCategory> Categories,
    IReadOnlyList<PolicyRule> Rules,
    IReadOnlyList<SharingAgreement> Agreements,
    string Hash);

/// <summary>A policy file that cannot be used: names the file, the line and the fault.</summary>
public sealed class PolicyException : Exception
{
    public PolicyException() { }

    public PolicyException(string message) : base(message) { }

    public PolicyException(string message, Exception innerException) : base(message, innerException) { }

    public PolicyException(string file, int line, string problem)
        : base($"Policy error in {file}, line {line}: {problem}")
    {
        File = file;
        Line = line;
        Problem = problem;
    }

    public string? File { get; }
    public int Line { get; }
    public string? Problem { get; }
}
