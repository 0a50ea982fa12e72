using Exchange.Api.Work;
using System.Security.Cryptography;
using System.Text;
using Exchange.Api.Storage;
using Exchange.Crypto.Keys;
using Microsoft.EntityFrameworkCore;

namespace Exchange.Api.Keys;

/// <summary>
/// Refuses to start with keys that do not belong to this database: a lost or swapped data
/// directory would otherwise create fresh keys silently, and every stored identifier would stop
/// resolving (duplicate children) and every sealed field would stop opening.
/// </summary>
internal sealed partial class KeyConsistencyCheck(
    IServiceScopeFactory scopes,
    BlindIndexKeys blindIndexKeys,
    IKeyEncryptionKeyProvider keks,
    ILogger<KeyConsistencyCheck> logger) : IHostedService
{
    private const string BlindIndexCheck = "blind-index";

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        using var scope = scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<ExchangeDbContext>();

        // The blind-index secrets: a fingerprint recorded per version on first sight must match ever after,
        // and every version that identifiers are indexed with must be held.
        var ring = blindIndexKeys.Ring;
        var inUse = await db.ChildIdentifiers.AsNoTracking().Select(i => i.IndexKeyVersion).Distinct()
            .ToListAsync(cancellationToken).ConfigureAwait(false);
        var missing = inUse.Except(ring.Versions).ToList();
        if (missing.Count > 0)
        {
            throw new InvalidOperationException(
                $"Identifiers are indexed with blind-index key version(s) {string.Join(", ", missing)} that the service does not hold; refusing to start.");
        }

        foreach (var version in ring.Versions)
        {
            var name = BlindIndexCheck + ":" + version;
            var fingerprint = Convert.ToHexString(SHA256.HashData(ring.For(version).Compute("key-check", "exchange")))[..32];
            var recorded = await db.KeyChecks.AsNoTracking().Where(k => k.Name == name).Select(k => k.Fingerprint)
                .FirstOrDefaultAsync(cancellationToken).ConfigureAwait(false);
            if (recorded is null)
            {
                if (inUse.Contains(version))
                {
                    throw new InvalidOperationException(
                        "The database holds identifiers but no blind-index key fingerprint; refusing to start rather than guess whether the key is the right one.");
                }

                db.KeyChecks.Add(new KeyCheck { Name = name, Fingerprint = fingerprint });
            }
            else if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(recorded), Encoding.ASCII.GetBytes(fingerprint)))
            {
                throw new InvalidOperationException(
                    $"The blind-index key {version} in the data directory is not the one this database was indexed with. Restore the right blind-index key; refusing to start.");
            }
        }

        var work = scope.ServiceProvider.GetRequiredService<UnitOfWork>();
        try
        {
            await work.BeginAsync(cancellationToken).ConfigureAwait(false);
            await work.CommitAsync(Outcome.Background, cancellationToken).ConfigureAwait(false);
        }
        catch (DbUpdateException)
        {
            // Another instance starting at the same moment recorded the fingerprints first: check against theirs.
            await work.RollbackAsync(cancellationToken).ConfigureAwait(false);
            await StartAsync(cancellationToken).ConfigureAwait(false);
            return;
        }

        // The KEKs: one stored data key must unwrap. A vault that is merely unreachable does not stop
        // the start (the readiness check reports it); keys that cannot unwrap do.
        var sample = await db.DataKeys.AsNoTracking().OrderBy(k => k.OwnerId).FirstOrDefaultAsync(cancellationToken).ConfigureAwait(false);
        if (sample is null)
        {
            return;
        }

        try
        {
            var kek = await keks.ResolveAsync(sample.KekKeyId, cancellationToken).ConfigureAwait(false);
            CryptographicOperations.ZeroMemory(await kek.UnwrapKeyAsync(sample.Algorithm, sample.WrappedKey, cancellationToken).ConfigureAwait(false));
        }
        catch (KeyProviderUnavailableException ex)
        {
            LogUnavailable(logger, ex.Message);
        }
        catch (KeyProviderException ex)
        {
            throw new InvalidOperationException(
                "The key-encryption keys cannot unwrap the data keys stored in this database (" + ex.Message + "). Restore the right keys; refusing to start.", ex);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(EventId = 9401, EventName = "KeyProviderUnreachableAtStart", Level = LogLevel.Warning, Message = "Key provider unreachable at start ({Reason}); requests needing uncached keys will answer 503 until it returns")]
    private static partial void LogUnavailable(ILogger logger, string reason);
}
