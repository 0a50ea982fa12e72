namespace Exchange.Crypto;

/// <summary>
/// The blind-index secrets in use, by version label: the current one indexes new identifiers;
/// older ones stay until re-indexing (from the sealed copies) has moved every row to the current
/// one, so lookups keep working throughout a rotation.
/// </summary>
public sealed class BlindIndexRing
{
    private readonly List<(string Version, BlindIndex Index)> _versions;

    /// <summary>Creates the ring from secrets listed oldest first; the last is current.</summary>
    /// <param name="secretsOldestFirst">Version label and secret (at least 32 bytes) of each version.</param>
    public BlindIndexRing(IReadOnlyList<(string Version, byte[] Secret)> secretsOldestFirst)
    {
        ArgumentNullException.ThrowIfNull(secretsOldestFirst);
        if (secretsOldestFirst.Count == 0)
        {
            throw new ArgumentException("At least one blind-index secret is needed.", nameof(secretsOldestFirst));
        }

        if (secretsOldestFirst.Select(s => s.Version).Distinct(StringComparer.Ordinal).Count() != secretsOldestFirst.Count)
        {
            throw new ArgumentException("Blind-index versions must be distinct.", nameof(secretsOldestFirst));
        }

        _versions = secretsOldestFirst.Select(s => (s.Version, new BlindIndex(s.Secret))).ToList();
    }

    /// <summary>The version new identifiers are indexed with.</summary>
    public string CurrentVersion => _versions[^1].Version;

    /// <summary>The current indexer.</summary>
    public BlindIndex Current => _versions[^1].Index;

    /// <summary>Every version held, oldest first.</summary>
    public IReadOnlyList<string> Versions => _versions.Select(v => v.Version).ToList();

    /// <summary>The indexer of one version.</summary>
    /// <param name="version">A version label.</param>
    /// <returns>The indexer.</returns>
    /// <exception cref="KeyNotFoundException">The ring does not hold that version.</exception>
    public BlindIndex For(string version)
    {
        foreach (var (label, index) in _versions)
        {
            if (label == version)
            {
                return index;
            }
        }

        throw new KeyNotFoundException("The blind-index secret version is not available.");
    }

    /// <summary>The blind indexes of one identifier under every version held, newest first (for lookups during a rotation).</summary>
    /// <param name="identifierType">The identifier type.</param>
    /// <param name="normalisedValue">The normalised value.</param>
    /// <returns>Version and digest pairs.</returns>
    public IEnumerable<(string Version, byte[] Digest)> ComputeAll(string identifierType, string normalisedValue)
    {
        for (var i = _versions.Count - 1; i >= 0; i--)
        {
            yield return (_versions[i].Version, _versions[i].Index.Compute(identifierType, normalisedValue));
        }
    }
}
