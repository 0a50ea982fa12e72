using System.Text.Json;
using Exchange.Audit.Storage;

namespace Exchange.Audit.Offline;

/// <summary>
/// The export format the offline verifier reads: JSON Lines, one entry per line,
/// <c>{"index":0,"leaf":"&lt;base64 of the exact leaf bytes&gt;","leafHash":"&lt;base64, optional&gt;"}</c>,
/// in index order starting at 0. An entry whose content is withheld from the reader (it concerns another
/// organisation) is <c>{"index":5,"leafHash":"&lt;base64&gt;","withheld":true}</c>.
/// </summary>
public static class AuditExportFile
{
    /// <summary>Writes entries in the export format.</summary>
    /// <param name="entries">The entries, in index order.</param>
    /// <param name="output">Where to write.</param>
    public static void Write(IEnumerable<AuditExportEntry> entries, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(entries);
        ArgumentNullException.ThrowIfNull(output);
        foreach (var entry in entries)
        {
            output.WriteLine(FormatLine(entry));
        }
    }

    /// <summary>Formats one entry as its export line (without the line break).</summary>
    /// <param name="entry">The entry.</param>
    /// <returns>The JSON line.</returns>
    public static string FormatLine(AuditExportEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var hash = entry.StoredLeafHash is null ? null : Convert.ToBase64String(entry.StoredLeafHash);
        return entry.Withheld
            ? JsonSerializer.Serialize(new Line(entry.Index, null, hash, true), LineOptions)
            : JsonSerializer.Serialize(new Line(entry.Index, Convert.ToBase64String(entry.Leaf), hash, null), LineOptions);
    }

    /// <summary>Reads entries in the export format.</summary>
    /// <param name="input">The export.</param>
    /// <returns>The entries, as written.</returns>
    /// <exception cref="FormatException">A line is not an export entry (its line number is given).</exception>
    public static IEnumerable<AuditExportEntry> Read(TextReader input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var number = 0;
        while (input.ReadLine() is { } text)
        {
            number++;
            if (string.IsNullOrWhiteSpace(text))
            {
                continue;
            }

            Line? line;
            try
            {
                line = JsonSerializer.Deserialize<Line>(text);
            }
            catch (JsonException ex)
            {
                throw new FormatException($"Export line {number} is not JSON.", ex);
            }

            if (line is { withheld: true })
            {
                byte[] withheldHash;
                try
                {
                    withheldHash = Convert.FromBase64String(line.leafHash ?? throw new FormatException($"Export line {number} is withheld but has no leafHash."));
                }
                catch (FormatException ex) when (line.leafHash is not null)
                {
                    throw new FormatException($"Export line {number} is not base64.", ex);
                }

                yield return AuditExportEntry.WithheldEntry(line.index, withheldHash);
                continue;
            }

            if (line?.leaf is null)
            {
                throw new FormatException($"Export line {number} has no leaf.");
            }

            byte[] leaf;
            byte[]? hash;
            try
            {
                leaf = Convert.FromBase64String(line.leaf);
                hash = line.leafHash is null ? null : Convert.FromBase64String(line.leafHash);
            }
            catch (FormatException ex)
            {
                throw new FormatException($"Export line {number} is not base64.", ex);
            }

            yield return new AuditExportEntry(line.index, leaf, hash);
        }
    }

#pragma warning disable IDE1006, CA1812 // the JSON member names of the format; instantiated by the serializer
    private sealed record Line(long index, string? leaf, string? leafHash, bool? withheld);

    private static readonly JsonSerializerOptions LineOptions = new() { DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull };
#pragma warning restore IDE1006, CA1812
}
