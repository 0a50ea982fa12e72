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
}
