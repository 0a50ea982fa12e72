using Exchange.Audit.Storage;

namespace Exchange.Api.Auditing;

/// <summary>
/// Before the service takes requests: loads the checkpoint signing key and checks the stored log against
/// the checkpoints it signed (<see cref="AuditIntegrity"/>). A truncated or rewritten log stops start-up
/// with one log line naming what was found (and the process exits with <see cref="AuditStartupFailedException.ExitCode"/>);
/// a log that cannot be read stops it the same way. Then the log is checkpointed as it stands.
/// </summary>
internal sealed partial class AuditStartupCheck(
    IServiceProvider services,
    AuditCheckpoints checkpoints,
    MerkleLog log,
    IMerkleNodeStore store,
    ILogger<AuditStartupCheck> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        AuditIntegrity.Finding finding;
        try
        {
            checkpoints.UseSigner(await AuditSigningKey.LoadAsync(services, cancellationToken).ConfigureAwait(false));
            finding = await AuditIntegrity.CheckAsync(checkpoints, log, store, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // A store that cannot be read is no more trusted than a rewritten one: one line, then a clean exit.
            var kind = ex.GetType().Name;
            LogUncheckable(logger, kind, ex.Message);
            throw new AuditStartupFailedException("The audit log could not be checked at start-up.", ex);
        }

        if (!finding.IsIntact)
        {
            LogTampered(logger, finding.Message);
            throw new AuditStartupFailedException("The audit log failed its start-up check.");
        }

        LogIntact(logger, finding.Message);
        await checkpoints.CurrentAsync(cancellationToken).ConfigureAwait(false);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Critical, EventId = 9102, EventName = "AuditLogTampered",
        Message = "AUDIT LOG INTEGRITY FAILURE: the service will not start (exit code 3). {Finding} Investigate before serving: see docs/THREAT-MODEL.md (audit log).")]
    private static partial void LogTampered(ILogger logger, string finding);

    [LoggerMessage(Level = LogLevel.Critical, EventId = 9106, EventName = "AuditLogUncheckable",
        Message = "AUDIT LOG INTEGRITY FAILURE: the service will not start (exit code 3). The audit log could not be checked at start-up ({Kind}: {Reason}).")]
    private static partial void LogUncheckable(ILogger logger, string kind, string reason);

    [LoggerMessage(Level = LogLevel.Information, EventId = 9103, EventName = "AuditLogChecked", Message = "Audit log checked at start: {Finding}")]
    private static partial void LogIntact(ILogger logger, string finding);
}

/// <summary>Signs a checkpoint every <see cref="AuditOptions.CheckpointInterval"/> while the log grows, and once more at shutdown.</summary>
internal sealed partial class AuditCheckpointer(
    AuditCheckpoints checkpoints,
    Microsoft.Extensions.Options.IOptions<AuditOptions> options,
    TimeProvider clock,
    ILogger<AuditCheckpointer> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.CheckpointInterval, clock);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                await SignAsync(stoppingToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down: StopAsync signs the last one.
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        await SignAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task SignAsync(CancellationToken cancellationToken)
    {
        try
        {
            await checkpoints.CurrentAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (ObjectDisposedException)
        {
            // The container is being torn down around a tick (a host disposed without being stopped): nothing to sign with.
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogFailed(logger, ex.GetType().Name, ex.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, EventId = 9104, EventName = "AuditCheckpointFailed", Message = "AUDIT: a periodic checkpoint could not be signed ({Kind}: {Reason}); retrying at the next interval")]
    private static partial void LogFailed(ILogger logger, string kind, string reason);
}
