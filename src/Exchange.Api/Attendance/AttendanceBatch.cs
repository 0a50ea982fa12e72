using System.Globalization;
using System.Text.Json;
using Exchange.Api.Errors;

namespace Exchange.Api.Attendance;

/// <summary>
/// A mark as sent, before any rule is applied: its position (index from 0; for CSV also the line) and its fields as
/// text. A field of the wrong JSON type is kept as null with <see cref="Malformed"/> set, so only that mark is rejected.
/// </summary>
public sealed record IncomingMark(int Index, int? Line, string? ChildId, string? Date, string? Session, string? Code, int? MinutesLate, bool Malformed);

/// <summary>The batch as read from the body, or why it cannot be read as a whole.</summary>
public sealed record AttendanceBatch(IReadOnlyList<IncomingMark> Marks, ProblemTypes.ProblemType? Problem = null, string? Detail = null)
{
    /// <summary>Most marks one batch may carry: a large school's day, well within one transaction.</summary>
    public const int MaxMarks = 10_000;

    public static AttendanceBatch Refused(ProblemTypes.ProblemType problem, string detail) => new([], problem, detail);

    /// <summary>Reads <c>{"marks":[{childId, date, session, code, minutesLate?}, ...]}</c>.</summary>
    public static AttendanceBatch FromJson(ReadOnlyMemory<byte> body)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 8 });
        }
        catch (JsonException)
        {
            return Refused(ProblemTypes.MalformedJson, "The body is not valid JSON: send {\"marks\":[...]}.");
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object
                || !document.RootElement.TryGetProperty("marks", out var marks) || marks.ValueKind != JsonValueKind.Array)
            {
                return Refused(ProblemTypes.ValidationFailed, "The body must be an object whose marks property is an array of marks.");
            }

            var count = marks.GetArrayLength();
            if (count == 0)
            {
                return Refused(ProblemTypes.ValidationFailed, "marks must hold at least one mark.");
            }

            if (count > MaxMarks)
            {
                return Refused(ProblemTypes.BatchTooLarge, $"A batch carries at most {MaxMarks} marks; this one carried {count}. Send it in parts.");
            }

            var read = new List<IncomingMark>(count);
            var index = 0;
            foreach (var mark in marks.EnumerateArray())
            {
                read.Add(Read(index++, mark));
            }

            return new AttendanceBatch(read);
        }
    }

    /// <summary>Reads the same columns as <c>text/csv</c> (<see cref="AttendanceCsv"/>); the index counts data rows from 0.</summary>
    public static async Task<AttendanceBatch> FromCsvAsync(Stream body, CancellationToken ct)
    {
        var file = await AttendanceCsv.ReadAsync(body, MaxMarks, ct).ConfigureAwait(false);
        if (file.TooManyRows)
        {
            return Refused(ProblemTypes.BatchTooLarge, $"A batch carries at most {MaxMarks} marks. Send the file in parts.");
        }

        if (file.FileProblem is { } problem)
        {
            return Refused(ProblemTypes.CsvHeader, problem);
        }

        if (file.Rows.Count == 0)
        {
            return Refused(ProblemTypes.ValidationFailed, "The file holds a header and no marks.");
        }

        return new AttendanceBatch(file.Rows.Select((row, i) => row.Fields is not { } f
            ? new IncomingMark(i, row.Line, null, null, null, null, null, Malformed: true)
            : FromFields(i, row.Line, f, file.HasMinutesLate)).ToList());
    }

    private static IncomingMark FromFields(int index, int line, IReadOnlyList<string> fields, bool hasMinutesLate)
    {
        int? minutes = null;
        var malformed = false;
        if (hasMinutesLate && fields[4].Length > 0)
        {
            malformed = !int.TryParse(fields[4], NumberStyles.None, CultureInfo.InvariantCulture, out var parsed);
            minutes = malformed ? null : parsed;
        }

        return new IncomingMark(index, line, fields[0], fields[1], fields[2], fields[3], minutes, malformed);
    }

    private static IncomingMark Read(int index, JsonElement mark)
    {
        if (mark.ValueKind != JsonValueKind.Object)
        {
            return new IncomingMark(index, null, null, null, null, null, null, Malformed: true);
        }

        var malformed = false;
        string? Text(string name)
        {
            if (!mark.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
            {
                return null;
            }

            if (value.ValueKind == JsonValueKind.String)
            {
                return value.GetString();
            }

            malformed = true;
            return null;
        }

        var (childId, date, session, code) = (Text("childId"), Text("date"), Text("session"), Text("code"));
        int? minutes = null;
        if (mark.TryGetProperty("minutesLate", out var late) && late.ValueKind != JsonValueKind.Null)
        {
            if (late.ValueKind == JsonValueKind.Number && late.TryGetInt32(out var m))
            {
                minutes = m;
            }
            else
            {
                malformed = true;
            }
        }

        return new IncomingMark(index, null, childId, date, session, code, minutes, malformed);
    }
}
