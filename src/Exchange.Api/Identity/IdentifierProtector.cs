using Exchange.Crypto;
using Exchange.Crypto.Sealing;

namespace Exchange.Api.Identity;

/// <summary>
/// Turns an identifier into what is stored: a blind index for lookup and a copy sealed under
/// its owner's data key (the child's, or the review case's), bound to its row.
/// </summary>
public sealed class IdentifierProtector(Keys.BlindIndexKeys keys, FieldSealer sealer)
{
    private BlindIndexRing Ring => keys.Ring;

    /// <summary>The blind-index version new rows are written with.</summary>
    public string CurrentIndexVersion => Ring.CurrentVersion;

    /// <summary>The identifier's blind index under the current secret.</summary>
    public byte[] Index(PresentedIdentifier identifier)
    {
        ArgumentNullException.ThrowIfNull(identifier);
        return Ring.Current.Compute(identifier.Type, identifier.Value);
    }

    /// <summary>Its blind index under every secret still held, newest first: rows not yet re-indexed still match.</summary>
    public IEnumerable<(string Version, byte[] Digest)> IndexesForLookup(PresentedIdentifier identifier)
    {
        ArgumentNullException.ThrowIfNull(identifier);
        return Ring.ComputeAll(identifier.Type, identifier.Value);
    }

    public Task<byte[]> SealAsync(string value, string entity, string owner, Guid rowId, CancellationToken ct) =>
        sealer.SealAsync(Place(entity, owner, rowId), value, ct);

    public Task<OpenedField> OpenAsync(byte[] sealedValue, string entity, string owner, Guid rowId, CancellationToken ct) =>
        sealer.OpenAsync(Place(entity, owner, rowId), sealedValue, ct);

    private static FieldPlace Place(string entity, string owner, Guid rowId) => new(entity, "value", owner, rowId.ToString("N"));
}
