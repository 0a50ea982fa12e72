namespace Exchange.Api.Auditing;

/// <summary>
/// Holds a response body in memory until the request's audit event is durable, then lets it through:
/// no byte of an audited answer reaches the caller before its trace is in the log. Once released, writes
/// pass straight to the real body (an export streams after recording its event).
/// </summary>
internal sealed class HoldBackStream(Stream inner) : Stream
{
    private MemoryStream? _held = new();

    public bool IsReleased => _held is null;

    /// <summary>Sends what was held and passes later writes through.</summary>
    public async Task ReleaseAsync(CancellationToken cancellationToken)
    {
        if (_held is { } held)
        {
            _held = null;
            held.Position = 0;
            await held.CopyToAsync(inner, cancellationToken).ConfigureAwait(false);
            await held.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Throws away what was held (the answer is replaced by a 503).</summary>
    public void Discard()
    {
        if (_held is { } held)
        {
            held.SetLength(0);
        }
    }

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override void Flush()
    {
        if (_held is null)
        {
            inner.Flush();
        }
    }

    public override Task FlushAsync(CancellationToken cancellationToken) =>
        _held is null ? inner.FlushAsync(cancellationToken) : Task.CompletedTask;

    public override void Write(byte[] buffer, int offset, int count) => Target.Write(buffer, offset, count);

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        Target.WriteAsync(buffer, offset, count, cancellationToken);

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
        Target.WriteAsync(buffer, cancellationToken);

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    private Stream Target => _held ?? inner;

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _held?.Dispose();
        }

        base.Dispose(disposing);
    }
}
