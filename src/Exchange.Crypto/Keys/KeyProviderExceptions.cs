namespace Exchange.Crypto.Keys;

/// <summary>
/// The key provider refused or failed an operation for a reason that retrying will not fix:
/// the caller is not authorised, the key does not exist, or the answer was malformed.
/// </summary>
public class KeyProviderException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What failed; never key material.</param>
    public KeyProviderException(string message) : base(message) { }

    /// <summary>Creates the exception with its cause.</summary>
    /// <param name="message">What failed; never key material.</param>
    /// <param name="innerException">The underlying failure.</param>
    public KeyProviderException(string message, Exception innerException) : base(message, innerException) { }

    /// <summary>Creates the exception with a generic message.</summary>
    public KeyProviderException() : base("The key provider failed.") { }
}

/// <summary>
/// The key provider cannot be reached now (network failure, server error, throttling after the
/// retries ran out). Requests that need a key not in cache fail with 503; nothing is lost.
/// </summary>
public sealed class KeyProviderUnavailableException : KeyProviderException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What failed; never key material.</param>
    public KeyProviderUnavailableException(string message) : base(message) { }

    /// <summary>Creates the exception with its cause.</summary>
    /// <param name="message">What failed; never key material.</param>
    /// <param name="innerException">The underlying failure.</param>
    public KeyProviderUnavailableException(string message, Exception innerException) : base(message, innerException) { }

    /// <summary>Creates the exception with a generic message.</summary>
    public KeyProviderUnavailableException() : base("The key provider is unavailable.") { }
}

/// <summary>
/// A stored wrapped data key does not unwrap under the KEK it names, or names an algorithm the
/// provider does not use: the row was tampered with or corrupted. An integrity failure, not an outage.
/// </summary>
public sealed class WrappedKeyIntegrityException : KeyProviderException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What failed; never key material.</param>
    public WrappedKeyIntegrityException(string message) : base(message) { }

    /// <summary>Creates the exception with its cause.</summary>
    /// <param name="message">What failed; never key material.</param>
    /// <param name="innerException">The underlying failure.</param>
    public WrappedKeyIntegrityException(string message, Exception innerException) : base(message, innerException) { }

    /// <summary>Creates the exception with a generic message.</summary>
    public WrappedKeyIntegrityException() : base("A stored data key failed its integrity check.") { }

    /// <summary>The owner whose key failed, when known.</summary>
    public string? OwnerId { get; init; }
}

/// <summary>The owner was crypto-shredded: its data cannot be read, and nothing new may be sealed for it.</summary>
public sealed class OwnerErasedException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">Which owner; never content.</param>
    public OwnerErasedException(string message) : base(message) { }

    /// <summary>Creates the exception with its cause.</summary>
    /// <param name="message">Which owner; never content.</param>
    /// <param name="innerException">The underlying failure.</param>
    public OwnerErasedException(string message, Exception innerException) : base(message, innerException) { }

    /// <summary>Creates the exception with a generic message.</summary>
    public OwnerErasedException() : base("The owner has been erased.") { }
}
