namespace Exchange.Api.Policy;

// The facts the decision point needs, as interfaces the features implement (Hosting/PolicyFactsSetup.cs wires them).
// Policy is a lower layer: it names what it needs and imports no feature and no storage, so a change to a
// feature's tables cannot reach into the engine, and the engine can be read and tested on its own.

/// <summary>Who asks, as the engine sees a caller: the token's subject, organisation and roles.</summary>
public sealed record PolicyCaller(string Subject, string Organisation, IReadOnlyList<string> Roles);

/// <summary>
/// A registered child as the decision point decides it: <see cref="Id"/> is the survivor when the id asked about
/// was merged into another child (the survivor holds the merged child's relationships).
/// </summary>
public sealed record RegisteredChild(string Id, bool Erased);

/// <summary>The child register (Identity).</summary>
public interface IChildRegister
{
    /// <summary>The registered child with this id, followed through merges; null when no child has the id.</summary>
    Task<RegisteredChild?> FindAsync(string childId, CancellationToken ct);

    /// <summary>As <see cref="FindAsync"/> for many ids at once (a batch): each id that names a child, to it.</summary>
    Task<IReadOnlyDictionary<string, RegisteredChild>> FindManyAsync(IReadOnlyCollection<string> childIds, CancellationToken ct);
}

/// <summary>The relationships an organisation holds to a child (Relationships).</summary>
public interface IRelationshipFacts
{
    /// <summary>The organisation's dated relationships to the child, of every kind.</summary>
    Task<IReadOnlyList<RelationshipFact>> ForAsync(string organisationId, string childId, CancellationToken ct);

    /// <summary>As <see cref="ForAsync"/> for many children at once: each child with any relationship, to its facts.</summary>
    Task<IReadOnlyDictionary<string, IReadOnlyList<RelationshipFact>>> ForManyAsync(string organisationId, IReadOnlyCollection<string> childIds, CancellationToken ct);

    /// <summary>
    /// The periods other organisations handed over to <paramref name="organisationId"/> for each of
    /// <paramref name="categories"/> of each child's history, as relationship facts of the kind the handing-over
    /// organisation held; keyed by (child, category), only where something was handed over. Set queries, whatever the
    /// number of children.
    /// </summary>
    Task<IReadOnlyDictionary<(string ChildId, string Category), IReadOnlyList<RelationshipFact>>> HandedOverManyAsync(
        string organisationId, IReadOnlyCollection<string> childIds, IReadOnlyCollection<string> categories, CancellationToken ct);
}

/// <summary>The consents that name an organisation as a recipient (Consents).</summary>
public interface IConsentFacts
{
    Task<IReadOnlyList<ConsentFact>> ForAsync(string recipient, string childId, CancellationToken ct);

    /// <summary>As <see cref="ForAsync"/> for many children at once: each child with any such consent, to its facts.</summary>
    Task<IReadOnlyDictionary<string, IReadOnlyList<ConsentFact>>> ForManyAsync(string recipient, IReadOnlyCollection<string> childIds, CancellationToken ct);
}

/// <summary>Restrictions and objections (Restrictions).</summary>
public interface IProcessingLimitFacts
{
    /// <summary>Whether the child's processing is limited, and which purposes remain allowed when it is.</summary>
    Task<(bool Restricted, IReadOnlyList<string> Allows)> ForAsync(string childId, CancellationToken ct);

    /// <summary>As <see cref="ForAsync"/> for many children at once: each child whose processing is limited.</summary>
    Task<IReadOnlyDictionary<string, IReadOnlyList<string>>> LimitedManyAsync(IReadOnlyCollection<string> childIds, CancellationToken ct);
}

/// <summary>Break-glass grants (BreakGlass).</summary>
public interface IBreakGlassGrants
{
    /// <summary>The caller's own grant for the child in force at <paramref name="now"/> (the latest to expire), if any.</summary>
    Task<Guid?> ActiveGrantAsync(PolicyCaller caller, string childId, DateTimeOffset now, CancellationToken ct);

    /// <summary>As <see cref="ActiveGrantAsync"/> for many children at once: each child the caller holds a grant for.</summary>
    Task<IReadOnlyDictionary<string, Guid>> ActiveGrantsAsync(PolicyCaller caller, IReadOnlyCollection<string> childIds, DateTimeOffset now, CancellationToken ct);
}

/// <summary>The organisation register (Auth).</summary>
public interface IOrganisationKinds
{
    /// <summary>The kind of a registered, active organisation as the policy names it (<c>council</c>, <c>school</c>...); null otherwise.</summary>
    ValueTask<string?> KindOfAsync(string organisation, CancellationToken ct);
}

/// <summary>The store the facts are read from (Storage).</summary>
public interface IFactsConnection
{
    /// <summary>
    /// Keeps one connection open until the result is disposed: every fact of one decision is read on it, where the
    /// store would otherwise open and close a connection around each query.
    /// </summary>
    Task<IAsyncDisposable> OpenAsync(CancellationToken ct);
}
