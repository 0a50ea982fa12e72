using Exchange.Api.Auth;
using Exchange.Crypto.Keys;

namespace Exchange.Api.Identity;

/// <summary>
/// A registration in progress (<see cref="IdentityService.PrepareRegistrationAsync"/>): what was presented, and the key
/// prepared for the child it may create (key work happens before the write gate). Disposing it wipes the key.
/// </summary>
public sealed class PreparedRegistration : IDisposable
{
    internal PreparedRegistration(Caller caller, string laNumber, IReadOnlyList<PresentedIdentifier> identifiers, DateOnly careStart, string newChildId, PreparedDataKey? key)
    {
        Caller = caller;
        LaNumber = laNumber;
        Identifiers = identifiers;
        CareStart = careStart;
        NewChildId = newChildId;
        Key = key;
    }

    internal Caller Caller { get; }
    internal string LaNumber { get; }
    internal IReadOnlyList<PresentedIdentifier> Identifiers { get; }
    internal DateOnly CareStart { get; }
    internal string NewChildId { get; }
    internal PreparedDataKey? Key { get; }

    /// <summary>Attempts so far: a concurrent registration of the same identifier (PostgreSQL) makes the next one match again.</summary>
    internal int Attempts { get; set; }

    public void Dispose() => Key?.Dispose();
}

/// <summary>
/// What matching found, inside the registration's open unit of work: either an answer already (a conflict whose review
/// case is committed, another council's care, an overlap, an erased child: <see cref="Answer"/>), a new child to create,
/// or the existing child the identifiers match (<see cref="ExistingChildId"/>), on which the handler decides before
/// anything is linked. <see cref="Retry"/>: a concurrent writer won; match again.
/// </summary>
public sealed record RegistrationMatch
{
    public IdentityOutcome? Answer { get; init; }
    public string? ExistingChildId { get; init; }
    public bool Retry { get; init; }
    internal IReadOnlyList<IdentityService.Presented> Presented { get; init; } = [];
    internal bool KeepsOpenEpisode { get; init; }
}

/// <summary>
/// The children presented identifiers match (<see cref="IdentityService.FindForResolutionAsync"/>): the handler decides
/// on each which the caller may resolve, and <see cref="IdentityService.ResolveAsync"/> answers from those alone.
/// </summary>
public sealed record ResolutionCandidates
{
    public IReadOnlyList<string> Children { get; init; } = [];
    internal IReadOnlyList<IdentityService.Presented> Presented { get; init; } = [];
}
