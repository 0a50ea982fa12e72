using System.Text;
using Exchange.Crypto.Keys;

namespace Exchange.Crypto.Sealing;

/// <summary>The outcome of opening a sealed field.</summary>
public abstract record OpenedField
{
    private OpenedField() { }

    /// <summary>The value opened.</summary>
    /// <param name="Value">The plaintext.</param>
    public sealed record Opened(string Value) : OpenedField;

    /// <summary>The owner's data key was erased: the value is gone for good. Not an error.</summary>
    public sealed record Erased : OpenedField;
}

/// <summary>
/// Seals and opens field values under their owner's data key. The one entry point every
/// sensitive field goes through (see docs/SENSITIVE-FIELDS.md).
/// </summary>
public sealed class FieldSealer
{
    private readonly DataKeyService _keys;

    /// <summary>Creates the sealer.</summary>
    /// <param name="keys">The per-owner data keys.</param>
    public FieldSealer(DataKeyService keys)
    {
        ArgumentNullException.ThrowIfNull(keys);
        _keys = keys;
    }

    /// <summary>Seals text for its place, creating the owner's data key on first use.</summary>
    /// <param name="place">Where the value will be stored; its owner's key seals it.</param>
    /// <param name="value">The value.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <returns>The sealed bytes.</returns>
    /// <exception cref="OwnerErasedException">The owner was crypto-shredded: nothing new is sealed for it.</exception>
    public async Task<byte[]> SealAsync(FieldPlace place, string value, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(value);
        var plaintext = Encoding.UTF8.GetBytes(value);
        for (var attempt = 0; attempt < CachedAttempts; attempt++)
        {
            var key = _keys.TryGetCached(place.OwnerId) ?? await _keys.GetOrCreateAsync(place.OwnerId, cancellationToken).ConfigureAwait(false);
            try
            {
                return SealedField.Seal(key, place, plaintext);
            }
            catch (ObjectDisposedException)
            {
                // The cache evicted the key between lookup and use; fetch it again.
            }
        }

        // The cache is churning faster than we can use a key from it: use a private copy.
        using var own = await _keys.GetUncachedAsync(place.OwnerId, cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidOperationException("The owner's data key disappeared while sealing.");
        return SealedField.Seal(own, place, plaintext);
    }

    // Attempts with a cached key before falling back to a private, uncached one.
    private const int CachedAttempts = 3;

    /// <summary>Opens a sealed value read from its place.</summary>
    /// <param name="place">Where the value was read from.</param>
    /// <param name="sealedValue">The sealed bytes.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <returns>The value, or <see cref="OpenedField.Erased"/> when the owner was crypto-shredded (its key is a tombstone).</returns>
    /// <exception cref="SealedValueException">The value is malformed, tampered, moved, or from another key.</exception>
    /// <exception cref="KeyProviderUnavailableException">The key is not cached and the KEK provider cannot be reached.</exception>
    public async Task<OpenedField> OpenAsync(FieldPlace place, byte[] sealedValue, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sealedValue);
        for (var attempt = 0; attempt < CachedAttempts; attempt++)
        {
            DataKey? key;
            try
            {
                key = _keys.TryGetCached(place.OwnerId) ?? await _keys.GetAsync(place.OwnerId, cancellationToken).ConfigureAwait(false);
            }
            catch (OwnerErasedException)
            {
                return new OpenedField.Erased();
            }

            // A sealed value exists, so its owner had a key: none at all (not even a tombstone) means tampering.
            if (key is null)
            {
                throw new SealedValueException(new SealedValueException("No data key exists for the value's owner."), place);
            }

            try
            {
                return Open(key, place, sealedValue);
            }
            catch (ObjectDisposedException)
            {
                // Evicted between lookup and use; fetch it again.
            }
        }

        try
        {
            using var own = await _keys.GetUncachedAsync(place.OwnerId, cancellationToken).ConfigureAwait(false)
                ?? throw new SealedValueException(new SealedValueException("No data key exists for the value's owner."), place);
            return Open(own, place, sealedValue);
        }
        catch (OwnerErasedException)
        {
            return new OpenedField.Erased();
        }
    }

    private static OpenedField.Opened Open(DataKey key, FieldPlace place, byte[] sealedValue)
    {
        try
        {
            return new OpenedField.Opened(Encoding.UTF8.GetString(SealedField.Open(key, place, sealedValue)));
        }
        catch (SealedValueException ex)
        {
            throw new SealedValueException(ex, place);
        }
    }
}
