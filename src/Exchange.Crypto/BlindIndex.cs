using System.Security.Cryptography;
using System.Text;

namespace Exchange.Crypto;

/// <summary>
/// Computes blind indexes: keyed HMAC-SHA256 digests of identifiers that allow exact-match
/// lookup without storing the identifier. Each identifier type gets its own key, derived
/// with HKDF-SHA256 from one secret, so that a digest of an NHS number can never be compared
/// with a digest of a UPN.
/// </summary>
public sealed class BlindIndex
{
    private readonly byte[] _secret;
    private readonly Dictionary<string, byte[]> _typeKeys = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    /// <summary>Creates a blind indexer over a secret of at least 32 bytes.</summary>
    /// <param name="secret">The blind-index secret.</param>
    public BlindIndex(byte[] secret)
    {
        ArgumentNullException.ThrowIfNull(secret);
        ArgumentOutOfRangeException.ThrowIfLessThan(secret.Length, 32, nameof(secret));
        _secret = (byte[])secret.Clone();
    }

    /// <summary>
    /// Computes the 32-byte blind index of <paramref name="normalisedValue"/> for
    /// <paramref name="identifierType"/>, over the UTF-8 bytes of <c>type:value</c>.
    /// </summary>
    /// <param name="identifierType">A short, stable identifier type name such as <c>nhs</c>.</param>
    /// <param name="normalisedValue">The identifier after normalisation.</param>
    /// <returns>The digest.</returns>
    public byte[] Compute(string identifierType, string normalisedValue)
    {
        ArgumentException.ThrowIfNullOrEmpty(identifierType);
        ArgumentNullException.ThrowIfNull(normalisedValue);
        var message = Encoding.UTF8.GetBytes(identifierType + ":" + normalisedValue);
        return HMACSHA256.HashData(KeyFor(identifierType), message);
    }

    private byte[] KeyFor(string identifierType)
    {
        lock (_gate)
        {
            if (!_typeKeys.TryGetValue(identifierType, out var key))
            {
                key = HKDF.DeriveKey(HashAlgorithmName.SHA256, _secret, 32, salt: [],
                    info: Encoding.UTF8.GetBytes("exchange/blind-index/v1/" + identifierType));
                _typeKeys[identifierType] = key;
            }

            return key;
        }
    }
}
