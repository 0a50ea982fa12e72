using Exchange.Api.Configuration;
using Microsoft.Extensions.Options;

namespace Exchange.Api.Checks;

/// <summary>Runs the scheduled checks every <see cref="ChecksOptions.Interval"/> on the service's clock (never when it is zero).</summary>
internal sealed partial class ChildChecksJob(
    IServiceScopeFactory scopes, IOptions<ExchangeOptions> options, TimeProvider clock, ILogger<ChildChecksJob> logger) : BackgroundService
{
    private static readonly TimeSpan FirstRunAfter = TimeSpan.FromMinutes(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = options.Value.Checks.Interval;
        if (interval <= TimeSpan.Zero)
        {
            return;
        }

        using var timer = new PeriodicTimer(interval, clock);
        try
        {
            // Once soon after start (a service restarted more often than the interval would otherwise never check),
            // then on every tick.
            await Task.Delay(FirstRunAfter, clock, stoppingToken).ConfigureAwait(false);
            for (var run = true; run; run = await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                try
                {
                    using var scope = scopes.CreateScope();
                    await scope.ServiceProvider.GetRequiredService<ChildChecks>().RunOnceAsync(stoppingToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OperationCanceledException && ex is not ObjectDisposedException)
                {
                    // Nothing half-done: each chunk commits or not; the next run checks again.
                    LogFailed(logger, ex.GetType().Name);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down.
        }
        catch (ObjectDisposedException)
        {
            // The container was torn down around a tick.
        }
    }

    [LoggerMessage(EventId = 9712, EventName = "ChecksFailed", Level = LogLevel.Warning, Message = "Checks: a run failed ({Kind}); the next run checks again")]
    private static partial void LogFailed(ILogger logger, string kind);
}
