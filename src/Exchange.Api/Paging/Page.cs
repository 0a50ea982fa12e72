using System.Globalization;
using System.Text;
using Exchange.Api.Errors;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.IdentityModel.Tokens;

namespace Exchange.Api.Paging;

/// <summary>A position in a list ordered by (time, id): stable under inserts, unlike offsets.</summary>
public sealed record PageCursor(DateTimeOffset At, string Id)
{
    public string Encode() => Base64UrlEncoder.Encode(Encoding.UTF8.GetBytes(
        At.UtcTicks.ToString(CultureInfo.InvariantCulture) + "|" + Id));

    public static PageCursor? Decode(string cursor)
    {
        try
        {
            var parts = Encoding.UTF8.GetString(Base64UrlEncoder.DecodeBytes(cursor)).Split('|', 2);
            return parts.Length == 2 && long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var ticks)
                && ticks >= DateTimeOffset.MinValue.UtcTicks && ticks <= DateTimeOffset.MaxValue.UtcTicks
                ? new PageCursor(new DateTimeOffset(ticks, TimeSpan.Zero), parts[1])
                : null;
        }
        catch (FormatException)
        {
            return null;
        }
        catch (ArgumentException)
        {
            return null;
        }
    }
}

public sealed record PageRequest(PageCursor? After, int Limit)
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 200;

    public static bool TryParse(string? cursor, int? limit, out PageRequest page, out ProblemHttpResult problem)
    {
        page = new PageRequest(null, limit ?? DefaultLimit);
        problem = null!;
        if (limit is < 1 or > MaxLimit)
        {
            problem = Problems.Result(ProblemTypes.LimitInvalid);
            return false;
        }

        if (string.IsNullOrEmpty(cursor))
        {
            return true;
        }

        var decoded = PageCursor.Decode(cursor);
        if (decoded is null)
        {
            problem = Problems.Result(ProblemTypes.CursorInvalid);
            return false;
        }

        page = page with { After = decoded };
        return true;
    }
}

/// <summary>One page of a list, with the cursor of the next page (null on the last).</summary>
public sealed record Page<T>(IReadOnlyList<T> Items, string? NextCursor);

public static class Pages
{
    /// <summary>Builds a page from up to limit + 1 rows: the extra row only says that there is more.</summary>
    public static Page<T> From<TRow, T>(IReadOnlyList<TRow> rows, int limit, Func<TRow, T> view, Func<TRow, PageCursor> cursorOf)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(view);
        ArgumentNullException.ThrowIfNull(cursorOf);
        var items = rows.Take(limit).Select(view).ToList();
        var next = rows.Count > limit ? cursorOf(rows[limit - 1]).Encode() : null;
        return new Page<T>(items, next);
    }
}
