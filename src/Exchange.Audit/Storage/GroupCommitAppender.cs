using System.Threading.Channels;

namespace Exchange.Audit.Storage;

/// <summary>
/// Group commit for the audit log: concurrent callers' entries are gathered into one batch and
/// appended in one store transaction, and each caller waits until its own entry is durable. If
/// the batch fails, every caller in it gets the failure (so each request can fail closed) and
/// nothing of the batch is in the log.
/// </summary>
public sealed class GroupCommitAppender : IAsyncDisposable
{
    private readonly MerkleLog _log;
    private readonly int _maxBatch;
    private readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _worker;

    private sealed record Pending(byte[] Leaf, TaskCompletionSource<long> Done);

    /// <summary>Starts the single writer.</summary>
    /// <param name="log">The log to append to.</param>
    /// <param name="maxBatch">The most entries in one transaction.</param>
    public GroupCommitAppender(MerkleLog log, int maxBatch = 512)
    {
        ArgumentNullException.ThrowIfNull(log);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBatch, 1);
        _log = log;
        _maxBatch = maxBatch;
        _worker = Task.Run(RunAsync);
    }

    /// <summary>How many store transactions the writer has made (successful or not).</summary>
    public long Batches => Interlocked.Read(ref _batches);

    private long _batches;

    /// <summary>Appends one entry and waits until it is durable.</summary>
    /// <param name="leaf">The exact leaf bytes.</param>
    /// <param name="cancellationToken">
    /// Withdraws the entry: if it has not yet been taken into a batch it is never appended; if its batch is
    /// already being written it may still land (the caller cannot know, so it must treat the outcome as unknown).
    /// </param>
    /// <returns>The entry's index in the log.</returns>
    /// <exception cref="ObjectDisposedException">The appender has been shut down.</exception>
    public async Task<long> AppendAsync(byte[] leaf, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(leaf);
        var pending = new Pending(leaf, new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously));
        ObjectDisposedException.ThrowIf(!_queue.Writer.TryWrite(pending), this);
        using var withdraw = cancellationToken.Register(() => pending.Done.TrySetCanceled(cancellationToken));
        return await pending.Done.Task.ConfigureAwait(false);
    }

    /// <summary>
    /// Appends several entries and waits until all are durable (a batch request's events: one registration and one
    /// wait for the lot, and they queue together, so they commit in as few transactions as <c>maxBatch</c> allows).
    /// </summary>
    /// <param name="leaves">The exact leaf bytes, in order.</param>
    /// <param name="cancellationToken">Withdraws the entries not yet taken into a batch, as for <see cref="AppendAsync"/>.</param>
    /// <returns>Each entry's index in the log, in the order given.</returns>
    /// <exception cref="ObjectDisposedException">The appender has been shut down.</exception>
    public async Task<long[]> AppendManyAsync(IReadOnlyList<byte[]> leaves, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(leaves);
        var pending = new Pending[leaves.Count];
        for (var i = 0; i < leaves.Count; i++)
        {
            pending[i] = new Pending(leaves[i] ?? throw new ArgumentException($"The leaf at position {i} is null.", nameof(leaves)),
                new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously));
        }

        foreach (var entry in pending)
        {
            ObjectDisposedException.ThrowIf(!_queue.Writer.TryWrite(entry), this);
        }

        using var withdraw = cancellationToken.Register(() =>
        {
            foreach (var entry in pending)
            {
                entry.Done.TrySetCanceled(cancellationToken);
            }
        });
        return await Task.WhenAll(pending.Select(p => p.Done.Task)).ConfigureAwait(false);
    }

    private async Task RunAsync()
    {
        var batch = new List<Pending>(_maxBatch);
        while (await _queue.Reader.WaitToReadAsync().ConfigureAwait(false))
        {
            batch.Clear();
            while (batch.Count < _maxBatch && _queue.Reader.TryRead(out var next))
            {
                // A withdrawn entry (its request timed out or went away) is not written: its answer was not "recorded".
                if (!next.Done.Task.IsCompleted)
                {
                    batch.Add(next);
                }
            }

            if (batch.Count == 0)
            {
                continue;
            }

            try
            {
                var indexes = await AppendWithRetryAsync(batch.Select(p => p.Leaf).ToList()).ConfigureAwait(false);
                for (var i = 0; i < batch.Count; i++)
                {
                    batch[i].Done.TrySetResult(indexes[i]);
                }
            }
#pragma warning disable CA1031 // every waiting request must learn of the failure, whatever it is
            catch (Exception ex)
#pragma warning restore CA1031
            {
                foreach (var pending in batch)
                {
                    pending.Done.TrySetException(ex);
                }
            }
        }
    }

    // Another writer appended first (several instances on one database): nothing of the batch was written, and
    // the log reloads its right edge after a failed append, so the same batch is simply built again.
    private async Task<IReadOnlyList<long>> AppendWithRetryAsync(List<byte[]> leaves)
    {
        for (var attempt = 1; ; attempt++)
        {
            Interlocked.Increment(ref _batches);
            try
            {
                return await _log.AppendAsync(leaves).ConfigureAwait(false);
            }
            catch (MerkleLogConflictException) when (attempt < MaxConflictRetries)
            {
            }
        }
    }

    private const int MaxConflictRetries = 5;

    /// <summary>Stops taking entries and waits for those already queued.</summary>
    /// <returns>A task that completes when the writer has drained.</returns>
    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _worker.ConfigureAwait(false);
    }
}
