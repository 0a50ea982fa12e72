using Exchange.Api.Work;
using System.Globalization;
using Exchange.Api.Storage;
using Exchange.Crypto.Keys;
using Microsoft.EntityFrameworkCore;

namespace Exchange.Api.Keys;

/// <summary>
/// <c>keys report</c> and <c>keys rotate [--new-kek-version] [--batch N]</c>: the operator's key
/// rotation from the command line, against the same configuration as the service. Rotation runs
/// in batches until no data key is left on an older KEK version; it is safe while the service runs,
/// and an interrupted run simply resumes where it stopped.
/// </summary>
public static class KeysCommand
{
    public const string Verb = "keys";

    private const string Usage = "Usage: keys report | keys rotate [--new-kek-version] [--batch 1-10000] | keys reindex [--batch 1-10000]";

    /// <summary>
    /// Moves every identifier to the current blind-index secret. A new version is created through the
    /// running service (POST /v1/admin/keys/blind-index/versions) so that its lookups know the version
    /// before any identifier moves to it; this verb only re-indexes.
    /// </summary>
    private static async Task<int> ReindexAsync(IServiceProvider services, string[] args, TextWriter output, TextWriter error)
    {
        var batchAt = Array.IndexOf(args, "--batch");
        var batch = 500;
        if (batchAt >= 0 && (batchAt + 1 >= args.Length || !int.TryParse(args[batchAt + 1], NumberStyles.None, CultureInfo.InvariantCulture, out batch) || batch is < 1 or > 10_000))
        {
            await error.WriteLineAsync(Usage).ConfigureAwait(false);
            return 2;
        }

        using var scope = services.CreateScope();
        await scope.ServiceProvider.GetRequiredService<ExchangeDbContext>().Database.MigrateAsync().ConfigureAwait(false);
        var reindexer = scope.ServiceProvider.GetRequiredService<BlindIndexReindexer>();
        var report = await reindexer.ReportAsync(default).ConfigureAwait(false);
        while (report.Remaining > 0)
        {
            report = await reindexer.ReindexAsync(batch, Outcome.Background, default).ConfigureAwait(false);
            await output.WriteLineAsync($"re-indexed {report.Moved}, {report.Remaining} remaining").ConfigureAwait(false);
            if (report.Moved == 0)
            {
                break;
            }
        }

        await output.WriteLineAsync($"current blind-index version: {report.CurrentVersion}; {report.Remaining} identifier(s) on older versions").ConfigureAwait(false);
        return report.Remaining == 0 ? 0 : 1;
    }

    public static async Task<int> RunAsync(IServiceProvider services, string[] args, TextWriter output, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        var action = args.FirstOrDefault();
        var newVersion = args.Contains("--new-kek-version");
        var batchAt = Array.IndexOf(args, "--batch");
        var batch = 500;
        if (action == "reindex")
        {
            return await ReindexAsync(services, args, output, error).ConfigureAwait(false);
        }

        if (action is not ("report" or "rotate")
            || (batchAt >= 0 && (batchAt + 1 >= args.Length || !int.TryParse(args[batchAt + 1], NumberStyles.None, CultureInfo.InvariantCulture, out batch) || batch is < 1 or > 10_000)))
        {
            await error.WriteLineAsync(Usage).ConfigureAwait(false);
            return 2;
        }

        using var scope = services.CreateScope();
        await scope.ServiceProvider.GetRequiredService<ExchangeDbContext>().Database.MigrateAsync().ConfigureAwait(false);
        var keks = scope.ServiceProvider.GetRequiredService<IKeyEncryptionKeyProvider>();
        var keys = scope.ServiceProvider.GetRequiredService<DataKeyService>();
        if (action == "rotate" && newVersion)
        {
            if (keks is not LocalKeyEncryptionKeyProvider local)
            {
                await error.WriteLineAsync("--new-kek-version applies to the local provider; Key Vault keys get new versions in the vault.").ConfigureAwait(false);
                return 2;
            }

            await output.WriteLineAsync("new KEK version: " + local.CreateNextVersion()).ConfigureAwait(false);
        }

        var report = await keys.ReportAsync().ConfigureAwait(false);
        var moved = 0;
        while (action == "rotate" && report.Remaining > 0)
        {
            var work = scope.ServiceProvider.GetRequiredService<UnitOfWork>();
            await work.BeginAsync(default).ConfigureAwait(false);
            report = await keys.RewrapAsync(batch).ConfigureAwait(false);
            await work.CommitAsync(Outcome.Background, default).ConfigureAwait(false);
            moved += report.Moved;
            await output.WriteLineAsync($"moved {report.Moved}, {report.Remaining} remaining").ConfigureAwait(false);
            if (report.Moved == 0)
            {
                break; // nothing movable (keys changed under us); a rerun picks up the rest
            }
        }

        await output.WriteLineAsync($"current KEK: {report.CurrentKekKeyId}").ConfigureAwait(false);
        foreach (var (kek, count) in report.KeysByKek.OrderBy(k => k.Key, StringComparer.Ordinal))
        {
            await output.WriteLineAsync($"{kek}\t{count}").ConfigureAwait(false);
        }

        if (action == "rotate")
        {
            await output.WriteLineAsync($"rotation moved {moved} data key(s); {report.Remaining} remain on older versions").ConfigureAwait(false);
        }

        return report.Remaining == 0 || action == "report" ? 0 : 1;
    }
}
