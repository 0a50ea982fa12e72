using System.Text.RegularExpressions;

namespace Exchange.Api.Storage;

/// <summary>The stores the service cannot start without.</summary>
public enum UnavailableStore
{
    DataDirectory,
    Database,
    AuditStore,
}

/// <summary>
/// A store the service needs could not be opened at start (the data directory, the main database, the audit
/// store): the service does not start. The entry point logs one Fatal line naming the store, where it is and why,
/// without a stack trace, and exits with <see cref="ExitCode"/> (documented in the README).
/// </summary>
public sealed partial class StoreUnavailableException : Exception
{
    /// <summary>The process exit code, the same as for a failed start-up audit check.</summary>
    public const int ExitCode = 3;

    public StoreUnavailableException() : base("A store could not be opened.") { }

    public StoreUnavailableException(string message) : base(message) { }

    public StoreUnavailableException(string message, Exception innerException) : base(message, innerException) { }

    /// <param name="store">Which store.</param>
    /// <param name="location">Where it is: a path, or the database server; never a connection string.</param>
    /// <param name="innerException">What opening it threw.</param>
    public StoreUnavailableException(UnavailableStore store, string location, Exception innerException)
        : base($"The {store} could not be opened.", innerException)
    {
        ArgumentNullException.ThrowIfNull(innerException);
        Store = store;
        Location = location;
    }

    public UnavailableStore Store { get; }

    public string Location { get; } = "";

    /// <summary>Why, from the exception that opening the store threw; a password a driver echoed is masked.</summary>
    public string Reason => InnerException is { } inner
        ? $"{inner.GetType().Name}: {Secrets().Replace(inner.Message, "$1=***")}"
        : Message;

    /// <summary>Runs <paramref name="open"/>; what it throws becomes a <see cref="StoreUnavailableException"/> for <paramref name="store"/>.</summary>
    /// <exception cref="StoreUnavailableException">The store could not be opened.</exception>
    public static void Guard(UnavailableStore store, string location, Action open)
    {
        ArgumentNullException.ThrowIfNull(open);
        try
        {
            open();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or System.Data.Common.DbException)
        {
            throw new StoreUnavailableException(store, location, ex);
        }
    }

    /// <summary>Awaits <paramref name="open"/>; what it throws becomes a <see cref="StoreUnavailableException"/> for <paramref name="store"/>.</summary>
    /// <exception cref="StoreUnavailableException">The store could not be opened.</exception>
    public static async Task<T> GuardAsync<T>(UnavailableStore store, string location, Func<Task<T>> open)
    {
        ArgumentNullException.ThrowIfNull(open);
        try
        {
            return await open().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Data.Common.DbException)
        {
            throw new StoreUnavailableException(store, location, ex);
        }
    }

    [GeneratedRegex(@"(?i)\b(password|pwd)\s*=\s*[^;]*")]
    private static partial Regex Secrets();
}
