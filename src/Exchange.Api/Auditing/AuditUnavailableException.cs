namespace Exchange.Api.Auditing;

/// <summary>An audit event could not be made durable: the request must fail closed (503) and change nothing.</summary>
public sealed class AuditUnavailableException : Exception
{
    public AuditUnavailableException() : base("The audit log could not record the event.") { }

    public AuditUnavailableException(string message) : base(message) { }

    public AuditUnavailableException(string message, Exception innerException) : base(message, innerException) { }
}
