namespace Exchange.Api.Auditing;

/// <summary>
/// The start-up audit check failed (the log was truncated or rewritten, or its store could not be read): the
/// service does not start. The check has logged the one line that says why; the entry point exits with
/// <see cref="ExitCode"/> instead of an unhandled exception.
/// </summary>
public sealed class AuditStartupFailedException : Exception
{
    /// <summary>The process exit code for a failed start-up audit check (documented in the README).</summary>
    public const int ExitCode = 3;

    public AuditStartupFailedException() : base("The audit log failed its start-up check.") { }

    public AuditStartupFailedException(string message) : base(message) { }

    public AuditStartupFailedException(string message, Exception innerException) : base(message, innerException) { }
}
