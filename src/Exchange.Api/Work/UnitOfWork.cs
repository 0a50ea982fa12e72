using Exchange.Api.Auditing;
using Exchange.Api.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;

namespace Exchange.Api.Work;

/// <summary>
/// The one way a request (or a background job) writes to the database (scoped). <see cref="BeginAsync"/> takes the
/// write gate (one writer at a time on SQLite) and opens the transaction; <see cref="CommitAsync"/> saves the
/// changes, appends the request's audit event for the <see cref="Outcome"/> and commits, in that order, so a write
/// whose trace cannot be made durable is never committed (the exception leaves the transaction to roll back).
/// Disposing it without a commit rolls back and releases the gate. <see cref="ExchangeDbContext"/> refuses to save
/// outside a unit of work, so no write can go around it.
/// </summary>
public sealed class UnitOfWork(ExchangeDbContext db, IWriteGate gate, AuditTrail audit) : IAsyncDisposable, IDisposable
{
    private IDisposable? _gate;
    private IDbContextTransaction? _transaction;

    /// <summary>Whether the unit of work holds the gate and an open transaction.</summary>
    public bool IsOpen => _transaction is not null;

    /// <summary>Takes the write gate and opens the transaction. Reads the write depends on belong after this call.</summary>
    public async Task BeginAsync(CancellationToken ct)
    {
        if (IsOpen)
        {
            throw new InvalidOperationException("This unit of work is already open.");
        }

        _gate = await gate.EnterAsync(ct).ConfigureAwait(false);
        try
        {
            _transaction = await db.Database.BeginTransactionAsync(ct).ConfigureAwait(false);
            db.Work = this;
        }
        catch
        {
            Release();
            throw;
        }
    }

    /// <summary>Saves the changes so far without committing (for keys the database generates, or a row a later query must see).</summary>
    public Task FlushAsync(CancellationToken ct) => db.SaveChangesAsync(EnsureOpen(ct));

    /// <summary>
    /// Inserts many new rows of one entity inside the transaction by the database's bulk path (<see cref="BulkInsert"/>),
    /// bypassing change tracking: for batches of thousands of rows. Save tracked changes a constraint depends on first.
    /// </summary>
    public Task InsertAsync<T>(IReadOnlyCollection<T> rows, CancellationToken ct) where T : class => BulkInsert.WriteAsync(db, rows, EnsureOpen(ct));

    /// <summary>
    /// Adds running counts to the rows of the same key inside the transaction (<see cref="BulkInsert.AddAsync"/>):
    /// <paramref name="sum"/> columns added, <paramref name="least"/> and <paramref name="greatest"/> ones widened.
    /// </summary>
    public Task AddCountsAsync<T>(IReadOnlyCollection<T> rows, string[] sum, string[] least, string[] greatest, CancellationToken ct) where T : class =>
        BulkInsert.AddAsync(db, rows, sum, least, greatest, EnsureOpen(ct));

    /// <summary>A bulk update inside the transaction; returns the rows it changed.</summary>
    public Task<int> UpdateAsync<T>(IQueryable<T> rows, Action<Microsoft.EntityFrameworkCore.Query.UpdateSettersBuilder<T>> set, CancellationToken ct)
        where T : class => rows.ExecuteUpdateAsync(set, EnsureOpen(ct));

    /// <summary>A bulk delete inside the transaction; returns the rows it removed.</summary>
    public Task<int> DeleteAsync<T>(IQueryable<T> rows, CancellationToken ct) where T : class => rows.ExecuteDeleteAsync(EnsureOpen(ct));

    /// <summary>
    /// Saves the changes, appends the request's audit event for <paramref name="outcome"/> (none for
    /// <see cref="Outcome.Background"/>), and commits. Throws <see cref="AuditUnavailableException"/> when the event
    /// cannot be made durable: then nothing is committed.
    /// </summary>
    public async Task CommitAsync(Outcome outcome, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(outcome);
        await db.SaveChangesAsync(EnsureOpen(ct)).ConfigureAwait(false);
        if (!outcome.IsBackground)
        {
            await audit.RecordOutcomeAsync(outcome.Status, outcome.Children, ct, outcome.Count).ConfigureAwait(false);
        }

        await _transaction!.CommitAsync(ct).ConfigureAwait(false);
        await CloseAsync().ConfigureAwait(false);
    }

    /// <summary>Ends the unit of work without committing anything (a refusal found inside it); the tracked changes are dropped.</summary>
    /// <remarks>Does nothing once committed, so a <c>finally</c> can call it on every path.</remarks>
    public async Task RollbackAsync(CancellationToken ct)
    {
        if (_transaction is null)
        {
            return;
        }

        await _transaction.RollbackAsync(ct).ConfigureAwait(false);
        db.ChangeTracker.Clear();
        await CloseAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// For an effect outside the database (a key file): appends the request's event for <paramref name="outcome"/>
    /// before the effect, so an effect never happens without its trace.
    /// </summary>
    /// <exception cref="AuditUnavailableException">It could not be made durable.</exception>
    public Task RecordBeforeEffectAsync(Outcome outcome, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(outcome);
        return outcome.IsBackground ? Task.CompletedTask : audit.RecordOutcomeAsync(outcome.Status, outcome.Children, ct, outcome.Count);
    }

    public async ValueTask DisposeAsync()
    {
        if (_transaction is not null)
        {
            db.ChangeTracker.Clear();
        }

        await CloseAsync().ConfigureAwait(false);
    }

    /// <summary>For a scope disposed synchronously (a hosted job's): rolls back what was not committed and releases the gate.</summary>
    public void Dispose()
    {
        if (_transaction is not null)
        {
            db.ChangeTracker.Clear();
            _transaction.Dispose();
            _transaction = null;
        }

        if (ReferenceEquals(db.Work, this))
        {
            db.Work = null;
        }

        Release();
    }

    private CancellationToken EnsureOpen(CancellationToken ct) => IsOpen ? ct
        : throw new InvalidOperationException("Begin the unit of work before writing: it takes the write gate and opens the transaction.");

    private async Task CloseAsync()
    {
        if (_transaction is not null)
        {
            await _transaction.DisposeAsync().ConfigureAwait(false); // rolls back what was not committed
            _transaction = null;
        }

        if (ReferenceEquals(db.Work, this))
        {
            db.Work = null;
        }

        Release();
    }

    private void Release()
    {
        _gate?.Dispose();
        _gate = null;
    }
}
