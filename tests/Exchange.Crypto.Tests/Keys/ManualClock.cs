namespace Exchange.Crypto.Tests.Keys;

/// <summary>
/// A clock the test moves by hand (Microsoft.Extensions.Time.Testing is not referenced here).
/// Only <see cref="GetUtcNow"/> is faked: the data-key cache reads nothing else.
/// </summary>
public sealed class ManualClock : TimeProvider
{
    private long _utcTicks = new DateTimeOffset(2026, 11, 23, 9, 0, 0, TimeSpan.Zero).UtcTicks;

    public override DateTimeOffset GetUtcNow() => new(Interlocked.Read(ref _utcTicks), TimeSpan.Zero);

    public void Advance(TimeSpan by)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(by, TimeSpan.Zero);
        Interlocked.Add(ref _utcTicks, by.Ticks);
    }
}
