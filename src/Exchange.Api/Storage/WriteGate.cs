namespace Exchange.Api.Storage;

/// <summary>
/// Lets one writer at a time reach SQLite from inside the process: Microsoft.Data.Sqlite
/// answers a busy database by sleeping and retrying, which wrecks tail latency
/// (DESIGN.md section 9). PostgreSQL handles concurrent writers itself.
/// </summary>
public interface IWriteGate
{
    ValueTask<IDisposable> EnterAsync(CancellationToken cancellationToken);
}

internal sealed class SerialWriteGate : IWriteGate, IDisposable
{
    private readonly SemaphoreSlim _semaphore = new(1, 1);

    public async ValueTask<IDisposable> EnterAsync(CancellationToken cancellationToken)
    {
        await _semaphore.WaitAsync(cancellationToken).ConfigureAwait(false);
        return new Releaser(_semaphore);
    }

    public void Dispose() => _semaphore.Dispose();

    private sealed class Releaser(SemaphoreSlim semaphore) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                semaphore.Release();
            }
        }
    }
}

internal sealed class OpenWriteGate : IWriteGate
{
    private static readonly IDisposable Nothing = new NoRelease();

    public ValueTask<IDisposable> EnterAsync(CancellationToken cancellationToken) => ValueTask.FromResult(Nothing);

    private sealed class NoRelease : IDisposable
    {
        public void Dispose() { }
    }
}
