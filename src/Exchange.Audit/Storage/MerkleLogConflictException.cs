namespace Exchange.Audit.Storage;

/// <summary>
/// Thrown by an <see cref="IMerkleNodeStore"/> when a batch does not start at the store's current size:
/// another writer (another instance of the service) appended first. Nothing of the batch was written, so
/// the batch can be built again on the new right edge and retried.
/// </summary>
public sealed class MerkleLogConflictException : InvalidOperationException
{
    /// <summary>Creates the exception with a default message.</summary>
    public MerkleLogConflictException() : base("The log grew under this writer; the batch was not appended.") { }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What happened.</param>
    public MerkleLogConflictException(string message) : base(message) { }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What happened.</param>
    /// <param name="innerException">The cause.</param>
    public MerkleLogConflictException(string message, Exception innerException) : base(message, innerException) { }
}
