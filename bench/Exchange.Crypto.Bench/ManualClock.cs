namespace Exchange.Crypto.Bench;

/// <summary>A clock the benchmark moves by hand, to expire the data-key cache's time-to-live between passes.</summary>
internal sealed class ManualClock(DateTimeOffset start) : TimeProvider
{
    private DateTimeOffset _now = start;

    public override DateTimeOffset GetUtcNow() => _now;

    public void Advance(TimeSpan by) => _now += by;
}
