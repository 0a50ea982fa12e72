using Exchange.Api.Work;
using Exchange.Api.Auditing.Storage;
using Exchange.Api.Storage;
using Exchange.Audit.Checkpoints;
using Exchange.Audit.Storage;
using Microsoft.EntityFrameworkCore;

namespace Exchange.Api.Auditing;

/// <summary>
/// Signs and stores checkpoints of the audit log (C2SP signed notes, Ed25519). The signer is loaded by
/// <see cref="AuditStartupCheck"/> before the service takes requests.
/// </summary>
public sealed class AuditCheckpoints(MerkleLog log, AuditDatabase database, IServiceScopeFactory scopes, TimeProvider clock) : IDisposable
{
    private readonly SemaphoreSlim _oneSigner = new(1, 1);
    private NoteSigner? _signer;
    private CheckpointSigner? _checkpointSigner;

    /// <summary>The published verifier key: <c>&lt;origin&gt;+&lt;key id&gt;+&lt;base64(0x01 || public key)&gt;</c>.</summary>
    public string VerifierKey => Signer.VerifierKey;

    /// <summary>The checkpoint origin (the signing key's name).</summary>
    public string Origin => Signer.Origin;

    private CheckpointSigner Signer => _checkpointSigner ?? throw new InvalidOperationException("The audit signing key has not been loaded.");

    internal void UseSigner(NoteSigner signer)
    {
        _signer = signer;
        _checkpointSigner = new CheckpointSigner(signer);
    }

    internal CheckpointVerifier CreateVerifier() => new(_signer!.CreateVerifier(), Origin);

    /// <summary>The newest stored checkpoint, or null when none has been signed.</summary>
    public async Task<AuditCheckpointRecord?> LatestAsync(CancellationToken cancellationToken)
    {
        await using var db = database.Create();
        return await db.Checkpoints.AsNoTracking().OrderByDescending(c => c.TreeSize).FirstOrDefaultAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Every stored checkpoint, oldest first.</summary>
    public async Task<IReadOnlyList<AuditCheckpointRecord>> AllAsync(CancellationToken cancellationToken)
    {
        await using var db = database.Create();
        return await db.Checkpoints.AsNoTracking().OrderBy(c => c.TreeSize).ToListAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The checkpoint of the log as it is now: the newest stored one if the log has not grown since, else a
    /// newly signed and stored one.
    /// </summary>
    public async Task<AuditCheckpointRecord> CurrentAsync(CancellationToken cancellationToken)
    {
        await _oneSigner.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var size = await log.GetSizeAsync(cancellationToken).ConfigureAwait(false);
            var latest = await LatestAsync(cancellationToken).ConfigureAwait(false);
            if (latest is not null && latest.TreeSize >= size)
            {
                await MirrorAsync(latest, cancellationToken).ConfigureAwait(false);
                return latest;
            }

            var root = await log.RootAsync(size, cancellationToken).ConfigureAwait(false);
            var record = new AuditCheckpointRecord
            {
                TreeSize = size,
                RootHash = root,
                SignedNote = Signer.Sign(size, root),
                SignedAtMs = clock.GetUtcNow().ToUnixTimeMilliseconds(),
            };
            await using var db = database.Create();
            db.Checkpoints.Add(record);
            try
            {
                await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (DbUpdateException)
            {
                // Another instance signed this size first: theirs is as good.
                if (await LatestAsync(cancellationToken).ConfigureAwait(false) is { } theirs && theirs.TreeSize >= size)
                {
                    return theirs;
                }

                throw;
            }

            await MirrorAsync(record, cancellationToken).ConfigureAwait(false);
            return record;
        }
        finally
        {
            _oneSigner.Release();
        }
    }

    /// <summary>The newest checkpoint's size and root as the main database holds them (see <see cref="AuditHead"/>).</summary>
    public async Task<AuditHead?> MirroredHeadAsync(CancellationToken cancellationToken)
    {
        using var scope = scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<ExchangeDbContext>();
        return await db.AuditHeads.AsNoTracking().FirstOrDefaultAsync(h => h.Name == AuditHead.Latest, cancellationToken).ConfigureAwait(false);
    }

    // Keeps the newest checkpoint's size and root in the main database too, so that an audit store restored
    // from an older copy, or stripped of its checkpoints, no longer matches it at the next start.
    private async Task MirrorAsync(AuditCheckpointRecord record, CancellationToken cancellationToken)
    {
        using var scope = scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<ExchangeDbContext>();
        // Its own scope and unit of work (a background writer: the checkpoint is not a request's effect).
        var work = scope.ServiceProvider.GetRequiredService<UnitOfWork>();
        await work.BeginAsync(cancellationToken).ConfigureAwait(false);
        var head = await db.AuditHeads.FirstOrDefaultAsync(h => h.Name == AuditHead.Latest, cancellationToken).ConfigureAwait(false);
        if (head is null)
        {
            db.AuditHeads.Add(new AuditHead { Name = AuditHead.Latest, TreeSize = record.TreeSize, RootHash = record.RootHash, RecordedAt = clock.GetUtcNow() });
        }
        else if (head.TreeSize < record.TreeSize)
        {
            head.TreeSize = record.TreeSize;
            head.RootHash = record.RootHash;
            head.RecordedAt = clock.GetUtcNow();
        }
        else
        {
            return;
        }

        try
        {
            await work.CommitAsync(Outcome.Background, cancellationToken).ConfigureAwait(false);
        }
        catch (DbUpdateException)
        {
            // Another instance recorded a head at the same moment; the next checkpoint moves it on.
        }
    }

    public void Dispose()
    {
        _oneSigner.Dispose();
        _signer?.Dispose();
    }
}
