using System.Security.Cryptography;
using System.Text;

namespace Exchange.Api.Subscriptions;

/// <summary>
/// Signing per the Standard Webhooks specification: the secret is <c>whsec_</c> and base64 key bytes; each delivery
/// carries <c>webhook-id</c>, <c>webhook-timestamp</c> (Unix seconds) and <c>webhook-signature: v1,&lt;base64
/// HMAC-SHA256 of "id.timestamp.body"&gt;</c>, which any Standard Webhooks library verifies. After a rotation the header
/// lists a signature per secret, newest first, space-separated, as the specification provides for rotation.
/// </summary>
public static class WebhookSignature
{
    public const string SecretPrefix = "whsec_";
    public const string IdHeader = "webhook-id";
    public const string TimestampHeader = "webhook-timestamp";
    public const string SignatureHeader = "webhook-signature";

    /// <summary>A new secret of 32 random bytes (the specification asks for 24 to 64).</summary>
    public static string NewSecret() => SecretPrefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    /// <summary>
    /// The <c>webhook-signature</c> value for a message signed with each of <paramref name="secrets"/> in turn,
    /// space-separated: a receiver that holds any one of them verifies it.
    /// </summary>
    public static string Sign(IReadOnlyList<string> secrets, string messageId, long timestamp, ReadOnlySpan<byte> body)
    {
        ArgumentNullException.ThrowIfNull(secrets);
        if (secrets.Count == 0)
        {
            throw new ArgumentException("A message is signed with at least one secret.", nameof(secrets));
        }

        var signatures = new string[secrets.Count];
        for (var i = 0; i < secrets.Count; i++)
        {
            signatures[i] = Sign(secrets[i], messageId, timestamp, body);
        }

        return string.Join(' ', signatures);
    }

    /// <summary>The <c>webhook-signature</c> value for a message.</summary>
    public static string Sign(string secret, string messageId, long timestamp, ReadOnlySpan<byte> body)
    {
        ArgumentNullException.ThrowIfNull(secret);
        if (!secret.StartsWith(SecretPrefix, StringComparison.Ordinal))
        {
            throw new ArgumentException("A Standard Webhooks secret starts with whsec_.", nameof(secret));
        }

        var key = Convert.FromBase64String(secret[SecretPrefix.Length..]);
        try
        {
            var prefix = Encoding.UTF8.GetBytes(FormattableString.Invariant($"{messageId}.{timestamp}."));
            var signed = new byte[prefix.Length + body.Length];
            prefix.CopyTo(signed, 0);
            body.CopyTo(signed.AsSpan(prefix.Length));
            return "v1," + Convert.ToBase64String(HMACSHA256.HashData(key, signed));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }
}
