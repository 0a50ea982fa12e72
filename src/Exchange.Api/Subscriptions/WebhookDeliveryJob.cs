using Exchange.Api.Configuration;
using Exchange.Api.Work;
using Microsoft.Extensions.Options;

namespace Exchange.Api.Subscriptions;

/// <summary>
/// Every <see cref="WebhookOptions.PollInterval"/> (never when it is zero), delivery passes until the work waiting is
/// done (<see cref="WebhookDispatcher.DrainAsync"/>). A failed pass leaves nothing marked sent that was not; leases run out.
/// </summary>
internal sealed class WebhookDeliveryJob(IServiceScopeFactory scopes, IOptions<ExchangeOptions> options, TimeProvider clock, ILogger<WebhookDeliveryJob> logger)
    : PeriodicJob(scopes, clock, logger)
{
    protected override string Name => "Webhooks";

    protected override TimeSpan Interval => options.Value.Webhooks.PollInterval;

    protected override Task RunAsync(IServiceProvider services, CancellationToken ct) =>
        services.GetRequiredService<WebhookDispatcher>().DrainAsync(ct);
}
