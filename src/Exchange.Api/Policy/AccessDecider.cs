namespace Exchange.Api.Policy;

/// <summary>The engine's decision for one request, and the break-glass grant it relied on (flagged in the audit log).</summary>
public sealed record AccessDecision(PolicyDecision Decision, string? ChildId, Guid? BreakGlassGrant)
{
    /// <summary>The child's data has been erased: a permitted request finds nothing but that fact (410).</summary>
    public bool Erased { get; init; }

    /// <summary>
    /// The child is registered. Rules without a relationship (the operator DPO's, break-glass) permit whatever id
    /// is asked about, so the decision point answers 404 for one that is not.
    /// </summary>
    public bool Exists { get; init; }

    /// <summary>
    /// The periods whose facts a permit releases, or null for no limit. A rule with a relationship releases the
    /// facts dated within the periods the caller's organisation held that relationship (a council: its own care
    /// episodes, widened by handovers to it); rules without one (break-glass, the operator's DPO) are not limited.
    /// Handlers that list dated facts apply it (<see cref="DateWindows.Overlaps"/>).
    /// </summary>
    public DateWindows? Windows { get; init; }

    /// <summary>The facts the engine was asked about (the decision benchmark times the engine on them).</summary>
    internal PolicyRequest? Request { get; init; }
}

/// <summary>
/// The periods a permitted request may read within (end inclusive; null = open): the caller's own
/// (<see cref="Periods"/>) and those other organisations handed over to it (<see cref="HandedOver"/>).
/// </summary>
public sealed record DateWindows(IReadOnlyList<RelationshipFact> Periods, IReadOnlyList<RelationshipFact>? HandedOver = null)
{
    /// <summary>
    /// A record in force from <paramref name="start"/> to <paramref name="end"/> (inclusive; null = open), recorded at
    /// <paramref name="recordedAt"/>, is within the windows when it held on at least one day of one of the caller's
    /// periods AND was recorded before that period ended (on its last day at the latest): a record another
    /// organisation made after the caller's period ended, dated back into it, is not the caller's history. A period
    /// handed over to the caller is the predecessor's history as a whole, so its records count whenever they were made.
    /// </summary>
    public bool Overlaps(DateOnly start, DateOnly? end, DateTimeOffset recordedAt)
    {
        var recordedOn = DateOnly.FromDateTime(recordedAt.UtcDateTime);
        return Periods.Any(p => Overlap(p, start, end) && (p.End is null || recordedOn <= p.End))
            || (HandedOver ?? []).Any(p => Overlap(p, start, end));
    }

    private static bool Overlap(RelationshipFact period, DateOnly start, DateOnly? end) =>
        period.Start <= (end ?? DateOnly.MaxValue) && (period.End is null || start <= period.End);
}

/// <summary>
/// Builds the <see cref="PolicyRequest"/> for a caller and a child from the stored facts (the caller
/// organisation's dated relationships, the consents naming it as recipient, the child's restriction and
/// objections, the caller's own active break-glass grant) and asks the engine. Nothing else decides access.
/// The facts come through the interfaces of <c>PolicyFacts.cs</c>, which the features implement.
/// </summary>
public sealed class AccessDecider(
    PolicyEngine engine,
    IChildRegister children,
    IRelationshipFacts relationships,
    IConsentFacts consents,
    IProcessingLimitFacts processing,
    IBreakGlassGrants grants,
    IOrganisationKinds organisationKinds,
    IFactsConnection connection,
    TimeProvider clock)
{
    public PolicySet Policy => engine.Policy;

    public async Task<AccessDecision> DecideAsync(PolicyCaller caller, string action, string category, string purpose, string? childId, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(caller);
        var now = clock.GetUtcNow();
        // One connection for the whole decision: EF would otherwise open and close it around each of the
        // queries below, and every SQLite open runs the secure_delete pragma (docs/BENCHMARKS.md, part 4).
        var open = await connection.OpenAsync(ct).ConfigureAwait(false);
        await using (open.ConfigureAwait(false))
        {
            return await DecideOnOpenConnectionAsync(caller, action, category, purpose, childId, now, ct).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Decides the same question about many children at once (a batch of marks): the facts of all of them are read in
    /// a handful of set queries, then the engine decides each child exactly as <see cref="DecideAsync"/> would. Keyed
    /// by the ids asked (a merged id decided as its survivor, as for one child).
    /// </summary>
    public async Task<IReadOnlyDictionary<string, AccessDecision>> DecideManyAsync(
        PolicyCaller caller, string action, string category, string purpose, IReadOnlyCollection<string> childIds, CancellationToken ct) =>
        (await DecideManyAsync(caller, action, [category], purpose, childIds, ct).ConfigureAwait(false))[category];

    /// <summary>
    /// As <see cref="DecideManyAsync(PolicyCaller, string, string, string, IReadOnlyCollection{string}, CancellationToken)"/>
    /// for several categories (a cohort row draws on several): the facts are read once for all of them. Keyed by
    /// category, then by the ids asked.
    /// </summary>
    public async Task<IReadOnlyDictionary<string, IReadOnlyDictionary<string, AccessDecision>>> DecideManyAsync(
        PolicyCaller caller, string action, IReadOnlyCollection<string> categories, string purpose, IReadOnlyCollection<string> childIds, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(caller);
        ArgumentNullException.ThrowIfNull(categories);
        ArgumentNullException.ThrowIfNull(childIds);
        var now = clock.GetUtcNow();
        var open = await connection.OpenAsync(ct).ConfigureAwait(false);
        await using (open.ConfigureAwait(false))
        {
            return await DecideManyOnOpenConnectionAsync(caller, action, categories, purpose, childIds, now, ct).ConfigureAwait(false);
        }
    }

    private async Task<AccessDecision> DecideOnOpenConnectionAsync(
        PolicyCaller caller, string action, string category, string purpose, string? childId, DateTimeOffset now, CancellationToken ct)
    {
        if (childId is not null)
        {
            return (await DecideManyOnOpenConnectionAsync(caller, action, [category], purpose, [childId], now, ct).ConfigureAwait(false))[category][childId];
        }

        // Known from the sign-in check earlier in the request (an inactive organisation never gets this far).
        var kind = await organisationKinds.KindOfAsync(caller.Organisation, ct).ConfigureAwait(false);
        return DecideOne(caller, action, category, purpose, kind, null, null, [], [], null, null, null, now);
    }

    private async Task<IReadOnlyDictionary<string, IReadOnlyDictionary<string, AccessDecision>>> DecideManyOnOpenConnectionAsync(
        PolicyCaller caller, string action, IReadOnlyCollection<string> categories, string purpose, IReadOnlyCollection<string> childIds, DateTimeOffset now,
        CancellationToken ct)
    {
        var kind = await organisationKinds.KindOfAsync(caller.Organisation, ct).ConfigureAwait(false);
        var asked = childIds.Distinct(StringComparer.Ordinal).ToList();
        // A merged id is decided as its survivor, which holds the merged child's relationships.
        var registered = await children.FindManyAsync(asked, ct).ConfigureAwait(false);
        var decided = asked.Select(id => registered.TryGetValue(id, out var child) ? child.Id : id).Distinct(StringComparer.Ordinal).ToList();
        var facts = await relationships.ForManyAsync(caller.Organisation, decided, ct).ConfigureAwait(false);
        var consented = await consents.ForManyAsync(caller.Organisation, decided, ct).ConfigureAwait(false);
        var limited = await processing.LimitedManyAsync(decided, ct).ConfigureAwait(false);
        var grantsHeld = await grants.ActiveGrantsAsync(caller, decided, now, ct).ConfigureAwait(false);
        // Only a child with a relationship can have had history handed over to the caller.
        var handedOver = await relationships.HandedOverManyAsync(caller.Organisation, decided.Where(facts.ContainsKey).ToList(), categories, ct).ConfigureAwait(false);
        var byCategory = new Dictionary<string, IReadOnlyDictionary<string, AccessDecision>>(StringComparer.Ordinal);
        foreach (var category in categories.Distinct(StringComparer.Ordinal))
        {
            var decisions = new Dictionary<string, AccessDecision>(asked.Count, StringComparer.Ordinal);
            foreach (var id in asked)
            {
                var child = registered.GetValueOrDefault(id);
                var subject = child?.Id ?? id;
                decisions[id] = DecideOne(caller, action, category, purpose, kind, subject, child,
                    facts.GetValueOrDefault(subject) ?? [], consented.GetValueOrDefault(subject) ?? [],
                    limited.TryGetValue(subject, out var allows) ? allows : null,
                    grantsHeld.TryGetValue(subject, out var grant) ? grant : null,
                    handedOver.GetValueOrDefault((subject, category)) ?? [], now);
            }

            byCategory[category] = decisions;
        }

        return byCategory;
    }

    /// <summary>The engine's decision on one child from its facts (<paramref name="allows"/> null: processing not limited).</summary>
    private AccessDecision DecideOne(
        PolicyCaller caller, string action, string category, string purpose, string? kind, string? childId, RegisteredChild? child,
        IReadOnlyList<RelationshipFact> facts, IReadOnlyList<ConsentFact> consented, IReadOnlyList<string>? allows, Guid? grant,
        IReadOnlyList<RelationshipFact>? handedOver, DateTimeOffset now)
    {
        var request = new PolicyRequest(caller.Roles, action, category, purpose, DateOnly.FromDateTime(now.UtcDateTime),
            facts, consented, allows is not null, allows ?? [], grant is not null)
        {
            OrganisationKind = kind,
        };
        var decision = engine.Decide(request);
        // Flag the access when only break-glass rules let it through: a relationship rule needs no flag.
        var underGrant = decision.Permit && decision.OnlyBreakGlass ? grant : null;
        var windows = decision.Permit && childId is not null ? Windows(decision, facts, handedOver ?? []) : null;
        return new AccessDecision(decision, childId, underGrant) { Erased = child?.Erased == true, Exists = child is not null, Request = request, Windows = windows };
    }

    /// <summary>
    /// The periods of the applying rules' relationships; none (no limit) when any applying rule has no relationship.
    /// They are widened by the periods other organisations handed this category over for, in a relationship of
    /// a kind the applying rules name (today: a responsible council's own episodes, by its predecessors').
    /// </summary>
    private static DateWindows? Windows(PolicyDecision decision, IReadOnlyList<RelationshipFact> facts, IReadOnlyList<RelationshipFact> handedOver)
    {
        var kinds = decision.Relationships;
        if (kinds.Contains(PolicyRule.NoRelationship))
        {
            return null;
        }

        return new DateWindows(OfKinds(facts, kinds), OfKinds(handedOver, kinds));
    }

    /// <summary>The facts of the given kinds: the list itself when all are (a cohort asks this of every child it decides).</summary>
    private static IReadOnlyList<RelationshipFact> OfKinds(IReadOnlyList<RelationshipFact> facts, IReadOnlySet<string> kinds)
    {
        List<RelationshipFact>? some = null;
        for (var i = 0; i < facts.Count; i++)
        {
            if (!kinds.Contains(facts[i].Kind))
            {
                some ??= [.. facts.Take(i)];
            }
            else
            {
                some?.Add(facts[i]);
            }
        }

        return some ?? facts;
    }
}
