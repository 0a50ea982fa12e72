using System.Globalization;
using System.Text;
using CsvHelper;
using CsvHelper.Configuration;

namespace Exchange.Api.Attendance;

/// <summary>One data row of an attendance CSV file: its line in the file and its fields as sent.</summary>
/// <param name="Fields">The row's fields, or null when the row did not have the header's columns (or broke the quoting rules).</param>
public sealed record AttendanceCsvRow(int Line, IReadOnlyList<string>? Fields);

/// <summary>The outcome of reading a file: its rows, or why the file as a whole cannot be read.</summary>
public sealed record AttendanceCsvFile(IReadOnlyList<AttendanceCsvRow> Rows, bool HasMinutesLate, string? FileProblem = null, bool TooManyRows = false);

/// <summary>
/// Reads attendance marks sent as <c>text/csv</c> (RFC 4180: comma-separated, double quotes around a field that holds
/// a comma or a quote, CRLF or LF line ends, UTF-8 with or without a byte-order mark). The first line is the header,
/// exactly <c>childId,date,session,code</c> with an optional fifth column <c>minutesLate</c>: what a school exports from
/// its MIS without an integration. A row that does not fit is rejected on its own (by its line), so the rest of the
/// file is still stored; only a missing or wrong header refuses the whole file.
/// </summary>
public static class AttendanceCsv
{
    public static readonly IReadOnlyList<string> Columns = ["childId", "date", "session", "code"];
    public const string MinutesLateColumn = "minutesLate";

    public static async Task<AttendanceCsvFile> ReadAsync(Stream body, int maxRows, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(body);
        // A malformed byte sequence becomes U+FFFD, which no valid field holds: the row is rejected, not the file.
        using var text = new StreamReader(body, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false),
            detectEncodingFromByteOrderMarks: false, leaveOpen: true);
        var badLines = new HashSet<int>();
        var configuration = new CsvConfiguration(CultureInfo.InvariantCulture)
        {
            HasHeaderRecord = false,
            DetectDelimiter = false,
            Delimiter = ",",
            IgnoreBlankLines = true,
            Mode = CsvMode.RFC4180,
            BadDataFound = args => badLines.Add(args.Context.Parser?.RawRow ?? 0),
        };
        using var parser = new CsvParser(text, configuration, leaveOpen: true);
        if (!await parser.ReadAsync().ConfigureAwait(false))
        {
            return new AttendanceCsvFile([], false, "The file is empty: its first line must be the header " + HeaderText(true) + ".");
        }

        var header = parser.Record ?? [];
        if (header.Length > 0)
        {
            header[0] = header[0].TrimStart('\uFEFF'); // a byte-order mark, as spreadsheet programs write it
        }

        var hasMinutesLate = header.Length == Columns.Count + 1 && header[^1] == MinutesLateColumn;
        if (!(header.Length == Columns.Count || hasMinutesLate) || !header.Take(Columns.Count).SequenceEqual(Columns, StringComparer.Ordinal))
        {
            return new AttendanceCsvFile([], false, "The first line must be the header " + HeaderText(true) + " (the last column optional).");
        }

        var rows = new List<AttendanceCsvRow>();
        var width = header.Length;
        var previousEnd = parser.RawRow;
        while (await parser.ReadAsync().ConfigureAwait(false))
        {
            ct.ThrowIfCancellationRequested();
            if (rows.Count == maxRows)
            {
                return new AttendanceCsvFile([], hasMinutesLate, TooManyRows: true);
            }

            // The line the row starts on: the one after where the previous row ended, blank lines skipped.
            var end = parser.RawRow;
            var line = end - CountLineBreaks(parser.RawRecord) + 1;
            line = Math.Max(line, previousEnd + 1);
            previousEnd = end;
            var record = parser.Record;
            var wellFormed = record is not null && record.Length == width && !badLines.Contains(end);
            rows.Add(new AttendanceCsvRow(line, wellFormed ? record : null));
        }

        return new AttendanceCsvFile(rows, hasMinutesLate);
    }

    private static int CountLineBreaks(string? raw)
    {
        if (string.IsNullOrEmpty(raw))
        {
            return 0;
        }

        var trimmed = raw.AsSpan().TrimEnd("\r\n");
        return trimmed.Count('\n') + 1;
    }

    private static string HeaderText(bool withOptional) =>
        string.Join(',', Columns) + (withOptional ? "," + MinutesLateColumn : "");
}
