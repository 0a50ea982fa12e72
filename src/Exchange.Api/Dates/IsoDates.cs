using System.Globalization;

namespace Exchange.Api.Dates;

/// <summary>The API's date conventions in one place: dates as YYYY-MM-DD, stored instants to the millisecond.</summary>
public static class IsoDates
{
    public const string Format = "yyyy-MM-dd";

    public static string Iso(this DateOnly date) => date.ToString(Format, CultureInfo.InvariantCulture);

    /// <summary>Parses a date a validator has already accepted.</summary>
    public static DateOnly ParseIso(string text) => DateOnly.ParseExact(text, Format, CultureInfo.InvariantCulture);

    /// <summary>Whether <paramref name="text"/> is a real date written YYYY-MM-DD.</summary>
    public static bool TryParseIso(string? text, out DateOnly date)
    {
        date = default;
        return text is not null && DateOnly.TryParseExact(text, Format, CultureInfo.InvariantCulture, DateTimeStyles.None, out date);
    }

    /// <summary>Now, to the millisecond: what every provider stores exactly, so a retry's answer equals the first.</summary>
    public static DateTimeOffset UtcNowToMillisecond(this TimeProvider clock)
    {
        ArgumentNullException.ThrowIfNull(clock);
        var now = clock.GetUtcNow();
        return new DateTimeOffset(now.Ticks - (now.Ticks % TimeSpan.TicksPerMillisecond), TimeSpan.Zero);
    }
}
