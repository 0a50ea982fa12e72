using System.Buffers;

namespace Exchange.Api.Auditing;

/// <summary>
/// Holds a response body in memory until the request's audit event is durable, then lets it through:
/// no byte of an audited answer reaches the caller before its trace is in the log. Once released, writes
/// pass straight to the real body (an export streams after recording its event).
/// </summary>
/// <remarks>
/// Held in pooled segments below the large-object threshold rather than one growing array: a cohort of 2,000 children
/// is 605 KiB, which a <see cref="MemoryStream"/> would reach by allocating 256 KiB, 512 KiB and 1 MiB on the large
/// object heap for every such answer, and those allocations drove the collections that paused every request
/// (docs/BENCHMARKS.md, part 6). Segments are cleared as they go back to the pool: they held an answer about children.
/// </remarks>
internal sealed class HoldBackStream(Stream inner) : Stream
{
    private const int SegmentSize = 64 * 1024;

    private List<byte[]>? _held = [];
    private int _usedInLast;
    private bool _disposed;

    public bool IsReleased => _held is null;

    /// <summary>Sends what was held and passes later writes through.</summary>
    public async Task ReleaseAsync(CancellationToken cancellationToken)
    {
        if (_held is not { } held)
        {
            return;
        }

        _held = null;
        try
        {
            for (var i = 0; i < held.Count; i++)
            {
                var length = i == held.Count - 1 ? _usedInLast : held[i].Length;
                await inner.WriteAsync(held[i].AsMemory(0, length), cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            Return(held);
        }
    }

    /// <summary>Throws away what was held (the answer is replaced by a 503).</summary>
    public void Discard()
    {
        if (_held is { } held)
        {
            Return(held);
            held.Clear();
            _usedInLast = 0;
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

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_held is null)
        {
            inner.Write(buffer);
            return;
        }

        Hold(buffer);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_held is null)
        {
            return inner.WriteAsync(buffer, cancellationToken);
        }

        Hold(buffer.Span);
        return ValueTask.CompletedTask;
    }

    private void Hold(ReadOnlySpan<byte> buffer)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var held = _held!;
        while (!buffer.IsEmpty)
        {
            if (held.Count == 0 || _usedInLast == held[^1].Length)
            {
                held.Add(ArrayPool<byte>.Shared.Rent(SegmentSize));
                _usedInLast = 0;
            }

            var room = held[^1].AsSpan(_usedInLast);
            var part = Math.Min(room.Length, buffer.Length);
            buffer[..part].CopyTo(room);
            _usedInLast += part;
            buffer = buffer[part..];
        }
    }

    private static void Return(List<byte[]> segments)
    {
        foreach (var segment in segments)
        {
            ArrayPool<byte>.Shared.Return(segment, clearArray: true);
        }
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        _disposed = true;
        if (disposing && _held is { } held)
        {
            _held = null;
            Return(held);
        }

        base.Dispose(disposing);
    }
}
