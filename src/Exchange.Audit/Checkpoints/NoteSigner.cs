using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using NSec.Cryptography;

namespace Exchange.Audit.Checkpoints;

/// <summary>
/// Signs C2SP signed notes (https://c2sp.org/signed-note) with a named Ed25519 key. The key is held
/// by NSec and can be created fresh, loaded from its 32-byte seed (a Key Vault secret) or from the
/// Go reference's signer key string <c>PRIVATE+KEY+&lt;name&gt;+&lt;key ID&gt;+&lt;base64(0x01 || seed)&gt;</c>
/// (a file in the data directory, see <see cref="NoteSigningKeyFile"/>). Publish <see cref="VerifierKey"/>.
/// </summary>
public sealed class NoteSigner : IDisposable
{
    private const string SignerKeyPrefix = "PRIVATE+KEY+";

    private static readonly SignatureAlgorithm Ed25519 = SignatureAlgorithm.Ed25519;

    private readonly Key _key;
    private readonly byte[] _publicKey;
    private bool _disposed;

    private NoteSigner(string name, Key key)
    {
        _key = key;
        _publicKey = key.PublicKey.Export(KeyBlobFormat.RawPublicKey);
        Name = name;
        KeyId = SignedNote.ComputeEd25519KeyId(name, _publicKey);
        VerifierKey = NoteVerifier.FormatVerifierKey(name, KeyId, _publicKey);
    }

    /// <summary>Gets the key name written on each signature line, for example <c>exchange.example/audit</c>.</summary>
    public string Name { get; }

    /// <summary>Gets the key ID (<see cref="SignedNote.ComputeEd25519KeyId"/>).</summary>
    public uint KeyId { get; }

    /// <summary>Gets the raw 32-byte Ed25519 public key.</summary>
    public ReadOnlyMemory<byte> PublicKey => _publicKey;

    /// <summary>
    /// Gets the public verifier key to publish:
    /// <c>&lt;name&gt;+&lt;8 hex digit key ID&gt;+&lt;base64(0x01 || public key)&gt;</c>.
    /// </summary>
    public string VerifierKey { get; }

    /// <summary>Creates a signer with a new random key.</summary>
    /// <param name="name">The key name (<see cref="SignedNote.IsValidKeyName"/>).</param>
    /// <returns>The signer; dispose it to release the key.</returns>
    /// <exception cref="ArgumentException">The name is not valid.</exception>
    public static NoteSigner Generate(string name)
    {
        RequireValidName(name);
        return new NoteSigner(name, Key.Create(Ed25519, Exportable));
    }

    /// <summary>Creates a signer from a 32-byte Ed25519 private key seed (RFC 8032).</summary>
    /// <param name="name">The key name (<see cref="SignedNote.IsValidKeyName"/>).</param>
    /// <param name="seed">The 32-byte seed; the caller should clear it after use.</param>
    /// <returns>The signer; dispose it to release the key.</returns>
    /// <exception cref="ArgumentException">The name is not valid or the seed is not 32 bytes.</exception>
    public static NoteSigner FromSeed(string name, ReadOnlySpan<byte> seed)
    {
        RequireValidName(name);
        if (seed.Length != SignedNote.Ed25519KeySize)
        {
            throw new ArgumentException($"An Ed25519 seed is {SignedNote.Ed25519KeySize} bytes.", nameof(seed));
        }

        return new NoteSigner(name, Key.Import(Ed25519, seed, KeyBlobFormat.RawPrivateKey, Exportable));
    }

    /// <summary>
    /// Creates a signer from the Go reference's signer key string
    /// <c>PRIVATE+KEY+&lt;name&gt;+&lt;8 hex digit key ID&gt;+&lt;base64(0x01 || 32-byte seed)&gt;</c>,
    /// checking that the key ID matches the name and the key derived from the seed.
    /// </summary>
    /// <param name="signerKey">The signer key string; surrounding white space is ignored.</param>
    /// <returns>The signer; dispose it to release the key.</returns>
    /// <exception cref="FormatException">The string is not a valid Ed25519 signer key. The message never
    /// contains key material.</exception>
    public static NoteSigner FromSignerKey(string signerKey)
    {
        ArgumentNullException.ThrowIfNull(signerKey);
        signerKey = signerKey.Trim();
        if (!signerKey.StartsWith(SignerKeyPrefix, StringComparison.Ordinal))
        {
            throw new FormatException("A signer key starts with PRIVATE+KEY+.");
        }

        var parts = signerKey[SignerKeyPrefix.Length..].Split('+', 3);
        if (parts.Length != 3)
        {
            throw new FormatException("A signer key has the form PRIVATE+KEY+<name>+<key ID>+<key>.");
        }

        var (name, hex, key64) = (parts[0], parts[1], parts[2]);
        if (!SignedNote.IsValidKeyName(name))
        {
            throw new FormatException("The signer key's name is empty or contains white space, '+' or a control character.");
        }

        if (hex.Length != 8 || !hex.All(char.IsAsciiHexDigit))
        {
            throw new FormatException("The signer key's key ID is not eight hex digits.");
        }

        if (!StrictBase64.TryDecode(key64, out var typedSeed))
        {
            throw new FormatException("The signer key's key is not canonical padded base64.");
        }

        try
        {
            if (typedSeed.Length != 1 + SignedNote.Ed25519KeySize || typedSeed[0] != SignedNote.Ed25519SignatureType)
            {
                throw new FormatException("The signer key is not an Ed25519 key (type 0x01 and a 32-byte seed).");
            }

            var signer = FromSeed(name, typedSeed.AsSpan(1));
            if (signer.KeyId != uint.Parse(hex, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture))
            {
                signer.Dispose();
                throw new FormatException("The signer key's key ID does not match its name and key.");
            }

            return signer;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(typedSeed);
        }
    }

    /// <summary>Exports the 32-byte private key seed, for storing in a secret store.</summary>
    /// <returns>The seed; clear it after use.</returns>
    public byte[] ExportSeed()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _key.Export(KeyBlobFormat.RawPrivateKey);
    }

    /// <summary>
    /// Exports the private key as the Go reference's signer key string
    /// <c>PRIVATE+KEY+&lt;name&gt;+&lt;key ID&gt;+&lt;base64(0x01 || seed)&gt;</c>. Keep it secret.
    /// </summary>
    /// <returns>The signer key string.</returns>
    public string ExportSignerKey()
    {
        var typedSeed = new byte[1 + SignedNote.Ed25519KeySize];
        var seed = ExportSeed();
        try
        {
            typedSeed[0] = SignedNote.Ed25519SignatureType;
            seed.CopyTo(typedSeed, 1);
            return string.Create(
                CultureInfo.InvariantCulture,
                $"{SignerKeyPrefix}{Name}+{KeyId:x8}+{Convert.ToBase64String(typedSeed)}");
        }
        finally
        {
            CryptographicOperations.ZeroMemory(seed);
            CryptographicOperations.ZeroMemory(typedSeed);
        }
    }

    /// <summary>Creates the verifier for this signer's public key.</summary>
    /// <returns>The verifier.</returns>
    public NoteVerifier CreateVerifier() => NoteVerifier.FromPublicKey(Name, _publicKey);

    /// <summary>Signs <paramref name="text"/> and returns the signed note: the text, a blank line, one signature line.</summary>
    /// <param name="text">The note text: ends with a newline; no control character other than newline.</param>
    /// <returns>The signed note.</returns>
    /// <exception cref="ArgumentException">The text breaks the rules above.</exception>
    public string Sign(string text) => text + "\n" + CreateSignatureLine(text);

    /// <summary>
    /// Signs <paramref name="text"/> and returns only the signature line
    /// <c>— &lt;name&gt; &lt;base64(key ID || signature)&gt;\n</c>, for adding to a note signed by other keys.
    /// </summary>
    /// <param name="text">The note text: ends with a newline; no control character other than newline.</param>
    /// <returns>The signature line, ending in a newline.</returns>
    /// <exception cref="ArgumentException">The text breaks the rules above.</exception>
    public string CreateSignatureLine(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!text.EndsWith('\n'))
        {
            throw new ArgumentException("The note text must end with a newline.", nameof(text));
        }

        if (SignedNote.CheckNoteCharacters(text) is { } error)
        {
            throw new ArgumentException($"The note text cannot be signed: {error}.", nameof(text));
        }

        var signature = new byte[SignedNote.KeyIdSize + SignedNote.Ed25519SignatureSize];
        BinaryPrimitives.WriteUInt32BigEndian(signature, KeyId);
        Ed25519.Sign(_key, Encoding.UTF8.GetBytes(text), signature.AsSpan(SignedNote.KeyIdSize));
        return $"{SignedNote.SignatureLinePrefix}{Name} {Convert.ToBase64String(signature)}\n";
    }

    /// <summary>Releases the private key.</summary>
    public void Dispose()
    {
        _disposed = true;
        _key.Dispose();
    }

    private static KeyCreationParameters Exportable =>
        new() { ExportPolicy = KeyExportPolicies.AllowPlaintextExport };

    private static void RequireValidName(string name)
    {
        if (!SignedNote.IsValidKeyName(name))
        {
            throw new ArgumentException("The key name is empty or contains white space, '+' or a control character.", nameof(name));
        }
    }
}
