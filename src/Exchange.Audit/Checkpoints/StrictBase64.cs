namespace Exchange.Audit.Checkpoints;

/// <summary>
/// Standard base64 (RFC 4648 section 4) accepted only in its one canonical spelling: padded, no
/// white space, zero trailing bits. <see cref="Convert.TryFromBase64String"/> alone is lenient
/// (it skips white space), which would let two different strings carry the same bytes.
/// </summary>
internal static class StrictBase64
{
    public static bool TryDecode(string text, out byte[] bytes)
    {
        bytes = [];
        if (text.Length % 4 != 0)
        {
            return false;
        }

        var buffer = new byte[text.Length / 4 * 3];
        if (!Convert.TryFromBase64String(text, buffer, out var written))
        {
            return false;
        }

        var decoded = buffer.AsSpan(0, written).ToArray();
        if (!string.Equals(Convert.ToBase64String(decoded), text, StringComparison.Ordinal))
        {
            return false;
        }

        bytes = decoded;
        return true;
    }
}
