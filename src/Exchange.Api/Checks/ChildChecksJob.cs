using Exchange.Api.Configuration;
using Exchange.Api.Work;
using Microsoft.Extensions.Options;

namespace Exchange.Api.Checks;

/// <summary>
/// The scheduled checks every <see cref="ChecksOptions.Interval"/> on the service's clock (never when it is zero), and
/// once a minute after start: a service restarted more often than the interval would otherwise never check.
/// </summary>
internal sealed class ChildChecksJob(IServiceScopeFactory scopes, IOptions<ExchangeOptions> options, TimeProvider clock, ILogger<ChildChecksJob> logger)
    : PeriodicJob(scopes, clock, logger)
{
    protected override string Name => "Checks";

    protected override TimeSpan Interval => options.Value.Checks.Interval;

    protected override TimeSpan FirstRunAfter => TimeSpan.FromMinutes(1);

    protected override Task RunAsync(IServiceProvider services, CancellationToken ct) =>
        services.GetRequiredService<ChildChecks>().RunOnceAsync(ct);
}
