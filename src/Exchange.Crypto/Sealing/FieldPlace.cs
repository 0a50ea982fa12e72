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
    public byte[] ToAssociatedData() => Encoding.UTF8.GetBytes($"{Entity}|{Field}|{OwnerId}|{RecordId}");
}
