using Exchange.Api.Policy;

namespace Exchange.Api.Tests.Policy;

/// <summary>
/// Which dated records a permitted read releases (review finding F2): a record in force during one of the reader's
/// periods, recorded before that period ended; a period handed over to the reader counts whatever the recording time.
/// </summary>
public sealed class DateWindowsTests
{
    private static readonly DateOnly Start = new(2025, 9, 1);
    private static readonly DateOnly End = new(2025, 12, 31);
    private static readonly DateWindows Ended = new([new RelationshipFact("responsible-council", Start, End)]);
    private static readonly DateWindows Open = new([new RelationshipFact("responsible-council", Start)]);
    private static readonly DateWindows HandedOver = new([], [new RelationshipFact("responsible-council", Start, End)]);

    private static DateTimeOffset On(DateOnly day, int hour = 12) => new(day.ToDateTime(new TimeOnly(hour, 0)), TimeSpan.Zero);

    [Fact]
    public void ARecordInForceOnThePeriodsLastDayIsReleased() =>
        Assert.True(Ended.Overlaps(End, null, On(End)));

    [Fact]
    public void ARecordStartingTheDayAfterThePeriodIsNot() =>
        Assert.False(Ended.Overlaps(End.AddDays(1), null, On(End)));

    [Fact]
    public void ARecordEndingTheDayBeforeThePeriodIsNot() =>
        Assert.False(Ended.Overlaps(new DateOnly(2025, 1, 1), Start.AddDays(-1), On(Start)));

    [Fact]
    public void ARecordEndingOnThePeriodsFirstDayIsReleased() =>
        Assert.True(Ended.Overlaps(new DateOnly(2025, 1, 1), Start, On(Start)));

    [Fact]
    public void ARecordMadeOnThePeriodsLastDayIsReleased() =>
        Assert.True(Ended.Overlaps(Start, End, On(End, 23)));

    [Fact]
    public void ARecordMadeTheDayAfterThePeriodEndedIsNot() =>
        Assert.False(Ended.Overlaps(Start, End, On(End.AddDays(1), 0)));

    [Fact]
    public void ARecordMadeLongAfterAndDatedBackIntoThePeriodIsNot() =>
        Assert.False(Ended.Overlaps(new DateOnly(2025, 10, 1), null, On(new DateOnly(2026, 6, 1))));

    [Fact]
    public void AnOpenPeriodReleasesWhateverIsRecordedLater()
    {
        Assert.True(Open.Overlaps(new DateOnly(2025, 10, 1), null, On(new DateOnly(2030, 1, 1))));
        Assert.True(Open.Overlaps(new DateOnly(2024, 1, 1), null, On(new DateOnly(2030, 1, 1))));
        Assert.False(Open.Overlaps(new DateOnly(2024, 1, 1), Start.AddDays(-1), On(new DateOnly(2030, 1, 1))));
    }

    [Fact]
    public void AnOpenRecordStartingBeforeThePeriodIsReleased() =>
        Assert.True(Ended.Overlaps(new DateOnly(2024, 1, 1), null, On(Start)));

    [Fact]
    public void AHandedOverPeriodIgnoresTheRecordingTime()
    {
        Assert.True(HandedOver.Overlaps(new DateOnly(2025, 10, 1), null, On(new DateOnly(2026, 6, 1))));
        Assert.False(HandedOver.Overlaps(End.AddDays(1), null, On(End)));
    }

    [Fact]
    public void AnyOfSeveralPeriodsReleases()
    {
        var two = new DateWindows([new RelationshipFact("x", Start, new DateOnly(2025, 9, 30)), new RelationshipFact("x", new DateOnly(2025, 11, 1), End)]);
        Assert.True(two.Overlaps(new DateOnly(2025, 11, 15), null, On(new DateOnly(2025, 11, 20))));
        Assert.False(two.Overlaps(new DateOnly(2025, 10, 5), new DateOnly(2025, 10, 20), On(new DateOnly(2025, 10, 21))));
        // In force in the first period but recorded after it ended, and not in force in the second: not released.
        Assert.False(two.Overlaps(new DateOnly(2025, 9, 10), new DateOnly(2025, 9, 20), On(new DateOnly(2025, 11, 5))));
    }

    [Fact]
    public void NoPeriodsReleaseNothing() =>
        Assert.False(new DateWindows([]).Overlaps(Start, End, On(Start)));
}
