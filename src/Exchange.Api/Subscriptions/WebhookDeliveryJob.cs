using Exchange.Api.Configuration;
using Microsoft.Extensions.Options;

namespace Exchange.Api.Subscriptions;

/// <summary>
/// Every <see cref="WebhookOptions.PollInterval"/> (never when it is zero), delivery passes until the work waiting is
/// done (<see cref="WebhookDispatcher.DrainAsync"/>).
/// </summary>
internal sealed partial class WebhookDeliveryJob(
    IServiceScopeFactory scopes, IOptions<ExchangeOptions> options, ILogger<WebhookDeliveryJob> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = options.Value.Webhooks.PollInterval;
        if (interval <= TimeSpan.Zero)
        {
            return;
        }

        using var timer = new PeriodicTimer(interval);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                try
                {
                    using var scope = scopes.CreateScope();
                    await scope.ServiceProvider.GetRequiredService<WebhookDispatcher>().DrainAsync(stoppingToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OperationCanceledException && ex is not ObjectDisposedException)
                {
                    // The next pass retries: leases run out, and nothing was marked sent that was not.
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
            // The container was torn down around a tick (a host disposed without being stopped).
        }
    }

    [LoggerMessage(EventId = 9702, EventName = "WebhookPassFailed", Level = LogLevel.Warning, Message = "Webhooks: a delivery pass failed ({Kind}); the next pass retries")]
    private static partial void LogFailed(ILogger logger, string kind);
}
