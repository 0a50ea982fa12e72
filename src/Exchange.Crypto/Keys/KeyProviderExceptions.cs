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
