namespace Exchange.Api.Work;

/// <summary>
/// A hosted job that runs one piece of work in a scope of its own every <see cref="Interval"/> on the service's clock
/// (never when it is zero), the first time after <see cref="FirstRunAfter"/>. A failed run is logged by kind and left
/// to the next: the work commits through its unit of work or not at all.
/// </summary>
public abstract partial class PeriodicJob(IServiceScopeFactory scopes, TimeProvider clock, ILogger logger) : BackgroundService
{
    /// <summary>The name the log uses for it.</summary>
    protected abstract string Name { get; }

    protected abstract TimeSpan Interval { get; }

    /// <summary>When the first run comes after start: by default one interval.</summary>
    protected virtual TimeSpan FirstRunAfter => Interval;

    /// <summary>One run, with the scope's services.</summary>
    protected abstract Task RunAsync(IServiceProvider services, CancellationToken ct);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = Interval;
        if (interval <= TimeSpan.Zero)
        {
            return;
        }

        using var timer = new PeriodicTimer(interval, clock);
        try
        {
            await Task.Delay(FirstRunAfter, clock, stoppingToken).ConfigureAwait(false);
            for (var run = true; run; run = await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                try
                {
                    using var scope = scopes.CreateScope();
                    await RunAsync(scope.ServiceProvider, stoppingToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OperationCanceledException && ex is not ObjectDisposedException)
                {
                    LogFailed(logger, Name, ex.GetType().Name);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down.
        }
        catch (ObjectDisposedException)
        {
            // The container was torn down around a tick (a host disposed without being stopped).
        }
    }

    [LoggerMessage(EventId = 9702, EventName = "PeriodicJobFailed", Level = LogLevel.Warning, Message = "{Job}: a run failed ({Kind}); the next run tries again")]
    private static partial void LogFailed(ILogger logger, string job, string kind);
}
