using System.Security.Cryptography;
using System.Text;
using Exchange.Api.Storage;
using Exchange.Crypto;
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
    BlindIndex blindIndex,
    IKeyEncryptionKeyProvider keks,
    ILogger<KeyConsistencyCheck> logger) : IHostedService
{
    private const string BlindIndexCheck = "blind-index";

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        using var scope = scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<ExchangeDbContext>();

        // The blind-index secret: a fingerprint recorded on first start must match ever after.
        var fingerprint = Convert.ToHexString(SHA256.HashData(blindIndex.Compute("key-check", "exchange")))[..32];
        var recorded = await db.KeyChecks.AsNoTracking().Where(k => k.Name == BlindIndexCheck).Select(k => k.Fingerprint)
            .FirstOrDefaultAsync(cancellationToken).ConfigureAwait(false);
        if (recorded is null)
        {
            if (await db.ChildIdentifiers.AnyAsync(cancellationToken).ConfigureAwait(false))
            {
                throw new InvalidOperationException(
                    "The database holds identifiers but no blind-index key fingerprint; refusing to guess whether the key is the right one.");
            }

            db.KeyChecks.Add(new KeyCheck { Name = BlindIndexCheck, Fingerprint = fingerprint });
            await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
        }
        else if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(recorded), Encoding.ASCII.GetBytes(fingerprint)))
        {
            throw new InvalidOperationException(
                "The blind-index key in the data directory is not the one this database was indexed with. Restore the right data directory (blind-index.key); refusing to start.");
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Key provider unreachable at start ({Reason}); requests needing uncached keys will answer 503 until it returns")]
    private static partial void LogUnavailable(ILogger logger, string reason);
}
