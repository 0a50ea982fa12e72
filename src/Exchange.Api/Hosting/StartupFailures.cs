using Exchange.Api.Logging;
using Exchange.Api.Storage;
using Serilog;
using Serilog.Formatting.Compact;
using ILogger = Microsoft.Extensions.Logging.ILogger;

namespace Exchange.Api.Hosting;

/// <summary>
/// Ends a start that cannot go on with one Fatal log line that says why, and an exit code, instead of an unhandled
/// exception (its stack trace, and exit 134 with a core dump).
/// </summary>
public static partial class StartupFailures
{
    /// <summary>
    /// Logs the store that could not be opened and returns <see cref="StoreUnavailableException.ExitCode"/>. Through
    /// the service's own logging when the host was built (<paramref name="services"/>); before that, to the console in
    /// the same format, through the same scrubber.
    /// </summary>
    public static int StoreUnavailable(StoreUnavailableException failure, IServiceProvider? services)
    {
        ArgumentNullException.ThrowIfNull(failure);
        if (LoggerFactoryOf(services) is { } factory)
        {
            Log(factory.CreateLogger("Exchange.Api.Startup"), failure);
            return StoreUnavailableException.ExitCode;
        }

        using var console = new Serilog.LoggerConfiguration().WriteTo.Console(new CompactJsonFormatter()).CreateLogger();
        using var scrubbed = new Serilog.LoggerConfiguration().WriteTo.Sink(new ScrubbingSink(console)).CreateLogger();
        using var loggers = new Serilog.Extensions.Logging.SerilogLoggerFactory(scrubbed);
        Log(loggers.CreateLogger("Exchange.Api.Startup"), failure);
        return StoreUnavailableException.ExitCode;
    }

    // A verb's host is disposed by the time its failure reaches the entry point: then the console it is.
    private static ILoggerFactory? LoggerFactoryOf(IServiceProvider? services)
    {
        try
        {
            return services?.GetService<ILoggerFactory>();
        }
        catch (ObjectDisposedException)
        {
            return null;
        }
    }

    private static void Log(ILogger logger, StoreUnavailableException failure)
    {
        switch (failure.Store)
        {
            case UnavailableStore.DataDirectory:
                LogDataDirectory(logger, failure.Location, failure.Reason);
                break;
            case UnavailableStore.AuditStore:
                LogAuditStore(logger, failure.Location, failure.Reason);
                break;
            default:
                LogDatabase(logger, failure.Location, failure.Reason);
                break;
        }
    }

    [LoggerMessage(Level = LogLevel.Critical, EventId = 9510, EventName = "DataDirectoryUnavailable",
        Message = "DATA DIRECTORY UNAVAILABLE: the service will not start (exit code 3). The data directory {Location} cannot be created or written ({Reason}).")]
    private static partial void LogDataDirectory(ILogger logger, string location, string reason);

    [LoggerMessage(Level = LogLevel.Critical, EventId = 9511, EventName = "DatabaseUnavailable",
        Message = "DATABASE UNAVAILABLE: the service will not start (exit code 3). The main database {Location} cannot be opened ({Reason}).")]
    private static partial void LogDatabase(ILogger logger, string location, string reason);

    [LoggerMessage(Level = LogLevel.Critical, EventId = 9512, EventName = "AuditStoreUnavailable",
        Message = "AUDIT STORE UNAVAILABLE: the service will not start (exit code 3). The audit store {Location} cannot be opened ({Reason}).")]
    private static partial void LogAuditStore(ILogger logger, string location, string reason);
}
