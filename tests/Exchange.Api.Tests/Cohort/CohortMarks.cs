using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;

namespace Exchange.Api.Tests.Cohort;

/// <summary>The attendance the cohort tests send, as a school's MIS would: both sessions of each weekday, in one batch.</summary>
internal static class CohortMarks
{
    /// <summary>Both sessions of each weekday from <paramref name="from"/> to <paramref name="to"/>: present, except the days <paramref name="absent"/> names (O).</summary>
    public static IEnumerable<object> Weekdays(string child, string from, string to, Func<string, bool> absent)
    {
        for (var day = DateOnly.Parse(from, CultureInfo.InvariantCulture); day <= DateOnly.Parse(to, CultureInfo.InvariantCulture); day = day.AddDays(1))
        {
            if (day.DayOfWeek is DayOfWeek.Saturday or DayOfWeek.Sunday)
            {
                continue;
            }

            var date = day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
            var away = absent(date);
            yield return new { childId = child, date, session = "AM", code = away ? "O" : "/" };
            yield return new { childId = child, date, session = "PM", code = away ? "O" : "\\" };
        }
    }

    /// <summary>Sends the marks in one batch and checks that every one was accepted.</summary>
    public static async Task PostAsync(HttpClient mis, IReadOnlyCollection<object> marks)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/attendance") { Content = JsonContent.Create(new { marks }) };
        request.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString());
        var response = await mis.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body);
        Assert.Equal(marks.Count, JsonDocument.Parse(body).RootElement.GetProperty("accepted").GetInt32());
    }
}
