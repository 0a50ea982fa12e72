using System.Text;

namespace Exchange.Crypto.Sealing;

/// <summary>
/// Where a sealed value lives: <c>entity|field|ownerId|recordId</c>. It is bound into every seal
/// as associated data, so a value copied into another row, column or child fails to open.
/// </summary>
/// <param name="Entity">The table or entity, e.g. <c>child_identifiers</c>.</param>
/// <param name="Field">The column or field, e.g. <c>value</c>.</param>
/// <param name="OwnerId">The child (or case) whose data key seals it.</param>
/// <param name="RecordId">The row's id.</param>
public readonly record struct FieldPlace(string Entity, string Field, string OwnerId, string RecordId)
{
    /// <summary>The associated-data bytes: UTF-8 of <c>entity|field|ownerId|recordId</c>.</summary>
    /// <returns>The bytes.</returns>
    public byte[] ToAssociatedData()
    {
        var bytes = new byte[ByteCount];
        Write(bytes);
        return bytes;
    }

    /// <summary>The length of the associated-data bytes.</summary>
    public int ByteCount =>
        Encoding.UTF8.GetByteCount(Entity) + Encoding.UTF8.GetByteCount(Field) + Encoding.UTF8.GetByteCount(OwnerId) + Encoding.UTF8.GetByteCount(RecordId) + 3;

    /// <summary>Writes the associated-data bytes into <paramref name="destination"/> (at least <see cref="ByteCount"/> long), without allocating.</summary>
    /// <param name="destination">Where to write.</param>
    /// <returns>The number of bytes written.</returns>
    public int Write(Span<byte> destination)
    {
        // '|' separates the parts: a part containing it would make two places share one encoding.
        if (Entity.Contains('|', StringComparison.Ordinal) || Field.Contains('|', StringComparison.Ordinal)
            || OwnerId.Contains('|', StringComparison.Ordinal) || RecordId.Contains('|', StringComparison.Ordinal))
        {
            throw new ArgumentException("The parts of a field place may not contain '|'.");
        }

        var written = 0;
        written += Encoding.UTF8.GetBytes(Entity, destination[written..]);
        destination[written++] = (byte)'|';
        written += Encoding.UTF8.GetBytes(Field, destination[written..]);
        destination[written++] = (byte)'|';
        written += Encoding.UTF8.GetBytes(OwnerId, destination[written..]);
        destination[written++] = (byte)'|';
        written += Encoding.UTF8.GetBytes(RecordId, destination[written..]);
        return written;
    }
}
