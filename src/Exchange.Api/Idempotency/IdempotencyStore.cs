using System.Security.Cryptography;
using System.Text;
using Exchange.Api.Storage;
using Microsoft.EntityFrameworkCore;

namespace Exchange.Api.Idempotency;

/// <summary>
/// What a school's MIS expects of a batch it may have to resend: the same <c>Idempotency-Key</c> with the same body
/// returns the first answer and stores nothing twice; the same key with another body is refused. The record is
/// written in the same transaction as the batch, so an answer is remembered exactly when its effects are committed.
/// </summary>
public sealed class IdempotencyStore(ExchangeDbContext db, TimeProvider clock)
{
    public const string Header = "Idempotency-Key";

    /// <summary>A key is 1 to 255 visible ASCII characters (a UUID, as most clients send, fits).</summary>
    public static bool IsValidKey(string? key) => key is { Length: > 0 and <= 255 } && key.All(c => c is >= '!' and <= '~');

    /// <summary>SHA-256 of the media type and the body exactly as sent: the same batch as JSON and as CSV are different requests.</summary>
    public static byte[] Hash(string mediaType, ReadOnlySpan<byte> body)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Encoding.UTF8.GetBytes(mediaType + "\n"));
        hash.AppendData(body);
        return hash.GetHashAndReset();
    }

    private static byte[] KeyHash(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));

    /// <summary>The first answer given for this organisation's key, if any (read inside the unit of work).</summary>
    public Task<IdempotencyRecord?> FindAsync(string organisationId, string key, CancellationToken ct)
    {
        var keyHash = KeyHash(key);
        return db.IdempotencyRecords.AsNoTracking().FirstOrDefaultAsync(r => r.OrganisationId == organisationId && r.KeyHash == keyHash, ct);
    }

    /// <summary>Remembers the answer; committed with the request's other changes.</summary>
    public void Remember(string organisationId, string key, string operation, byte[] requestHash, int status, string responseJson) =>
        db.IdempotencyRecords.Add(new IdempotencyRecord
        {
            OrganisationId = organisationId, KeyHash = KeyHash(key), Operation = operation, RequestHash = requestHash, Status = status,
            ResponseJson = responseJson, CreatedAt = clock.GetUtcNow(),
        });
}
