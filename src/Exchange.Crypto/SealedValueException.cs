namespace Exchange.Crypto;

/// <summary>
/// A sealed value could not be opened: it was tampered with, moved to another place,
/// sealed under another key, or written in an unknown format. The message never holds
/// any part of the value.
/// </summary>
public sealed class SealedValueException : Exception
{
    /// <summary>Creates the exception with a reason that names no content.</summary>
    /// <param name="message">Why the value failed to open.</param>
    public SealedValueException(string message) : base(message) { }

    /// <summary>Creates the exception with a reason and the underlying failure.</summary>
    /// <param name="message">Why the value failed to open.</param>
    /// <param name="innerException">The underlying failure.</param>
    public SealedValueException(string message, Exception innerException) : base(message, innerException) { }

    /// <summary>Creates the exception with a generic reason.</summary>
    public SealedValueException() : base("The sealed value failed to open.") { }

    /// <summary>Creates the exception naming where the value was read from (no content).</summary>
    /// <param name="innerException">The failure at the sealed-value level.</param>
    /// <param name="place">Where the value was read from.</param>
    public SealedValueException(SealedValueException innerException, Sealing.FieldPlace place)
        : base(innerException?.Message ?? "The sealed value failed to open.", innerException) => Place = place;

    /// <summary>Where the failing value was read from, when known: entity, field, owner and record id; never content.</summary>
    public Sealing.FieldPlace? Place { get; }
}
