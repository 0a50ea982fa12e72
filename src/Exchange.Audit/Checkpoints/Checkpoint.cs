using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;
using Exchange.Audit.Merkle;

namespace Exchange.Audit.Checkpoints;

/// <summary>
/// A transparency log checkpoint in the C2SP tlog-checkpoint form (https://c2sp.org/tlog-checkpoint):
/// the note text <c>&lt;origin&gt;\n&lt;decimal tree size&gt;\n&lt;base64 root hash&gt;\n</c>, optionally
/// followed by extension lines. It commits the log named by <see cref="Origin"/> to the RFC 6962 root
/// hash of its first <see cref="TreeSize"/> entries. Sign it with <see cref="CheckpointSigner"/>.
/// </summary>
public sealed class Checkpoint
{
    private readonly byte[] _rootHash;

    /// <summary>Creates a checkpoint.</summary>
    /// <param name="origin">The log's identity, for example <c>exchange.example/audit</c>: non-empty, one line,
    /// no control characters.</param>
    /// <param name="treeSize">The number of entries in the tree; not negative.</param>
    /// <param name="rootHash">The <see cref="MerkleHash.Size"/>-byte root hash of the tree at that size.</param>
    /// <param name="extensions">Optional extension lines, each non-empty and without control characters.
    /// The spec discourages them (monitors cannot audit them); they are carried for interoperability.</param>
    /// <exception cref="ArgumentException">An argument breaks the rules above.</exception>
    public Checkpoint(string origin, long treeSize, ReadOnlySpan<byte> rootHash, IEnumerable<string>? extensions = null)
    {
        ArgumentNullException.ThrowIfNull(origin);
        ArgumentOutOfRangeException.ThrowIfNegative(treeSize);
        if (CheckLine(origin) is { } originError)
        {
            throw new ArgumentException($"The origin is not valid: {originError}.", nameof(origin));
        }

        if (rootHash.Length != MerkleHash.Size)
        {
            throw new ArgumentException($"The root hash must be {MerkleHash.Size} bytes.", nameof(rootHash));
        }

        var lines = extensions?.ToArray() ?? [];
        for (var i = 0; i < lines.Length; i++)
        {
            if (CheckLine(lines[i]) is { } lineError)
            {
                throw new ArgumentException($"Extension line {i + 1} is not valid: {lineError}.", nameof(extensions));
            }
        }

        Origin = origin;
        TreeSize = treeSize;
        _rootHash = rootHash.ToArray();
        Extensions = Array.AsReadOnly(lines);
    }

    /// <summary>Gets the origin: the identity of the log that issued the checkpoint.</summary>
    public string Origin { get; }

    /// <summary>Gets the number of entries in the tree.</summary>
    public long TreeSize { get; }

    /// <summary>Gets the RFC 6962 root hash of the tree (<see cref="MerkleHash.Size"/> bytes).</summary>
    public ReadOnlyMemory<byte> RootHash => _rootHash;

    /// <summary>Gets the extension lines after the root hash, in order; usually none.</summary>
    public IReadOnlyList<string> Extensions { get; }

    /// <summary>
    /// Parses a checkpoint body strictly: at least three lines, each ending in a newline; a non-empty origin;
    /// a tree size in decimal ASCII digits with no sign and no leading zero (except <c>0</c> itself); a root
    /// hash in canonical padded base64 of exactly <see cref="MerkleHash.Size"/> bytes; non-empty extension lines,
    /// which are kept. No control character other than the line feeds is allowed (so CRLF text fails).
    /// </summary>
    /// <param name="text">The note text (as returned by a verified note).</param>
    /// <param name="checkpoint">The checkpoint, when the text is well formed.</param>
    /// <param name="error">Why the text was rejected, when it is not.</param>
    /// <returns>Whether the text is a well-formed checkpoint.</returns>
    public static bool TryParse(
        string text,
        [NotNullWhen(true)] out Checkpoint? checkpoint,
        [NotNullWhen(false)] out string? error)
    {
        ArgumentNullException.ThrowIfNull(text);
        checkpoint = null;
        if (!text.EndsWith('\n'))
        {
            error = "The checkpoint text does not end with a newline.";
            return false;
        }

        var lines = text[..^1].Split('\n');
        if (lines.Length < 3)
        {
            error = "The checkpoint text needs an origin line, a tree size line and a root hash line.";
            return false;
        }

        if (CheckLine(lines[0]) is { } originError)
        {
            error = $"The origin line is not valid: {originError}.";
            return false;
        }

        if (!TryParseTreeSize(lines[1], out var treeSize, out var sizeError))
        {
            error = $"The tree size line is not valid: {sizeError}.";
            return false;
        }

        if (!StrictBase64.TryDecode(lines[2], out var root))
        {
            error = "The root hash line is not canonical padded base64.";
            return false;
        }

        if (root.Length != MerkleHash.Size)
        {
            error = $"The root hash is {root.Length} bytes, not {MerkleHash.Size}.";
            return false;
        }

        for (var i = 3; i < lines.Length; i++)
        {
            if (CheckLine(lines[i]) is { } lineError)
            {
                error = $"Extension line {i - 2} is not valid: {lineError}.";
                return false;
            }
        }

        checkpoint = new Checkpoint(lines[0], treeSize, root, lines[3..]);
        error = null;
        return true;
    }

    /// <summary>Parses a checkpoint body by the rules of <see cref="TryParse"/>.</summary>
    /// <param name="text">The note text.</param>
    /// <returns>The checkpoint.</returns>
    /// <exception cref="FormatException">The text is not a well-formed checkpoint; the message says why.</exception>
    public static Checkpoint Parse(string text) =>
        TryParse(text, out var checkpoint, out var error) ? checkpoint : throw new FormatException(error);

    /// <summary>Renders the checkpoint as note text: origin, size, base64 root hash, extensions, each line ending in a newline.</summary>
    /// <returns>The note text that is signed.</returns>
    public string ToNoteText()
    {
        var text = new StringBuilder()
            .Append(Origin).Append('\n')
            .Append(TreeSize.ToString(CultureInfo.InvariantCulture)).Append('\n')
            .Append(Convert.ToBase64String(_rootHash)).Append('\n');
        foreach (var line in Extensions)
        {
            text.Append(line).Append('\n');
        }

        return text.ToString();
    }

    /// <summary>Returns <see cref="ToNoteText"/>.</summary>
    /// <returns>The note text.</returns>
    public override string ToString() => ToNoteText();

    // A checkpoint line: non-empty, one line, and nothing a signed note forbids.
    private static string? CheckLine(string line)
    {
        if (line.Length == 0)
        {
            return "it is empty";
        }

        if (line.Contains('\n', StringComparison.Ordinal))
        {
            return "it contains a newline";
        }

        return SignedNote.CheckNoteCharacters(line);
    }

    private static bool TryParseTreeSize(string line, out long size, [NotNullWhen(false)] out string? error)
    {
        size = 0;
        if (line.Length == 0 || !line.All(char.IsAsciiDigit))
        {
            error = "it must be decimal digits only (no sign, no spaces)";
            return false;
        }

        if (line.Length > 1 && line[0] == '0')
        {
            error = "it has a leading zero";
            return false;
        }

        if (!long.TryParse(line, NumberStyles.None, CultureInfo.InvariantCulture, out size))
        {
            error = "it is too large";
            return false;
        }

        error = null;
        return true;
    }
}
