using Exchange.Audit.Events;
using Exchange.Audit.Storage;
using Microsoft.Extensions.Options;

namespace Exchange.Api.Auditing;

/// <summary>
/// The service's one way into the audit log: events from concurrent requests go through one
/// <see cref="GroupCommitAppender"/>, and each caller waits until its own event is durable. Any failure
/// or a wait beyond <see cref="AuditOptions.AppendTimeout"/> becomes <see cref="AuditUnavailableException"/>.
/// </summary>
public sealed partial class AuditWriter : IAsyncDisposable
{
    private readonly GroupCommitAppender _appender;
    private readonly AuditOptions _options;
    private readonly ILogger<AuditWriter> _logger;

    public AuditWriter(MerkleLog log, IOptions<AuditOptions> options, IHostEnvironment environment, ILogger<AuditWriter> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(environment);
        _options = options.Value;
        _logger = logger;
        if (_options.DisabledForBenchmark && !environment.IsEnvironment("Benchmark"))
        {
            throw new InvalidOperationException("Exchange:Audit:DisabledForBenchmark is honoured only in the Benchmark environment.");
        }

        _appender = new GroupCommitAppender(log, _options.MaxBatch);
    }

    /// <summary>False only in a benchmark run that measures the cost of auditing.</summary>
    public bool Enabled => !_options.DisabledForBenchmark;

    /// <summary>Appends the event and waits until it is durable; returns its index.</summary>
    /// <exception cref="AuditUnavailableException">The event is not durable.</exception>
    public async Task<long> AppendAsync(AuditEvent auditEvent, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(auditEvent);
        return Enabled ? await WithinTimeoutAsync(token => _appender.AppendAsync(auditEvent.ToLeaf(), token), cancellationToken).ConfigureAwait(false) : -1;
    }

    /// <summary>Appends the events together and waits until all are durable; returns the highest index.</summary>
    /// <exception cref="AuditUnavailableException">Some event is not durable (the request must fail closed).</exception>
    public async Task<long> AppendManyAsync(IReadOnlyList<AuditEvent> auditEvents, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(auditEvents);
        if (!Enabled || auditEvents.Count == 0)
        {
            return -1;
        }

        var leaves = auditEvents.Select(e => e.ToLeaf()).ToList();
        var indexes = await WithinTimeoutAsync(token => _appender.AppendManyAsync(leaves, token), cancellationToken).ConfigureAwait(false);
        return indexes.Max();
    }

    private async Task<T> WithinTimeoutAsync<T>(Func<CancellationToken, Task<T>> append, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.AppendTimeout);
        try
        {
            return await append(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw; // the client went away
        }
#pragma warning disable CA1031 // whatever failed, the request fails closed
        catch (Exception ex)
#pragma warning restore CA1031
        {
            LogAppendFailed(_logger, ex.GetType().Name, ex.Message);
            throw new AuditUnavailableException("The audit log could not record the event.", ex);
        }
    }

    public ValueTask DisposeAsync() => _appender.DisposeAsync();

    [LoggerMessage(Level = LogLevel.Error, EventId = 9101, EventName = "AuditAppendFailed",
        Message = "AUDIT: an event could not be made durable ({Kind}: {Reason}); the request fails closed")]
    private static partial void LogAppendFailed(ILogger logger, string kind, string reason);
}
