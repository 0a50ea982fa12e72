using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;
using System.Text.Unicode;
using NSec.Cryptography;

namespace Exchange.Audit.Checkpoints;

/// <summary>
/// Verifies C2SP signed notes (https://c2sp.org/signed-note) against one trusted Ed25519 key, with the
/// rules of the Go reference golang.org/x/mod/sumdb/note: signatures by other keys (a different name or
/// key ID) are ignored; a signature by this key that fails makes the whole note fail; at least one
/// signature by this key must verify. Bad notes give a failed result; they do not throw.
/// </summary>
public sealed class NoteVerifier
{
    private static readonly SignatureAlgorithm Ed25519 = SignatureAlgorithm.Ed25519;
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    // SignedNote.SignatureLinePrefix in UTF-8: E2 80 94 20.
    private static readonly byte[] SignatureLinePrefix = Encoding.UTF8.GetBytes(SignedNote.SignatureLinePrefix);

    private readonly PublicKey _publicKey;
    private readonly byte[] _publicKeyBytes;

    private NoteVerifier(string name, uint keyId, byte[] publicKeyBytes, PublicKey publicKey)
    {
        Name = name;
        KeyId = keyId;
        _publicKeyBytes = publicKeyBytes;
        _publicKey = publicKey;
        VerifierKey = FormatVerifierKey(name, keyId, publicKeyBytes);
    }

    /// <summary>Gets the key name, which signature lines must carry.</summary>
    public string Name { get; }

    /// <summary>Gets the key ID (<see cref="SignedNote.ComputeEd25519KeyId"/>), which signatures must start with.</summary>
    public uint KeyId { get; }

    /// <summary>Gets the raw 32-byte Ed25519 public key.</summary>
    public ReadOnlyMemory<byte> PublicKey => _publicKeyBytes;

    /// <summary>Gets the verifier key: <c>&lt;name&gt;+&lt;8 hex digit key ID&gt;+&lt;base64(0x01 || public key)&gt;</c>.</summary>
    public string VerifierKey { get; }

    /// <summary>
    /// Parses a verifier key <c>&lt;name&gt;+&lt;8 hex digits&gt;+&lt;base64(0x01 || 32-byte public key)&gt;</c>:
    /// the name must be valid (<see cref="SignedNote.IsValidKeyName"/>), the base64 canonical, the type
    /// Ed25519, and the hex digits the key ID computed from name and key.
    /// </summary>
    /// <param name="verifierKey">The verifier key string.</param>
    /// <param name="verifier">The verifier, when the key is well formed.</param>
    /// <param name="error">Why the key was rejected, when it is not.</param>
    /// <returns>Whether the key was parsed.</returns>
    public static bool TryParse(
        string verifierKey,
        [NotNullWhen(true)] out NoteVerifier? verifier,
        [NotNullWhen(false)] out string? error)
    {
        ArgumentNullException.ThrowIfNull(verifierKey);
        verifier = null;

        var parts = verifierKey.Split('+', 3);
        if (parts.Length != 3)
        {
            error = "A verifier key has the form <name>+<key ID>+<key>.";
            return false;
        }

        var (name, hex, key64) = (parts[0], parts[1], parts[2]);
        if (!SignedNote.IsValidKeyName(name))
        {
            error = "The key name is empty or contains white space, '+' or a control character.";
            return false;
        }

        if (hex.Length != 8 || !hex.All(char.IsAsciiHexDigit))
        {
            error = "The key ID is not eight hex digits.";
            return false;
        }

        if (!StrictBase64.TryDecode(key64, out var typedKey) || typedKey.Length == 0)
        {
            error = "The key is not canonical padded base64.";
            return false;
        }

        var keyId = uint.Parse(hex, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
        if (keyId != SignedNote.ComputeKeyId(name, typedKey))
        {
            error = "The key ID does not match the name and key.";
            return false;
        }

        if (typedKey[0] != SignedNote.Ed25519SignatureType)
        {
            error = $"The signature type 0x{typedKey[0]:x2} is not Ed25519 (0x01).";
            return false;
        }

        var raw = typedKey[1..];
        if (raw.Length != SignedNote.Ed25519KeySize
            || !NSec.Cryptography.PublicKey.TryImport(Ed25519, raw, KeyBlobFormat.RawPublicKey, out var publicKey)
            || publicKey is null)
        {
            error = $"The key is not a {SignedNote.Ed25519KeySize}-byte Ed25519 public key.";
            return false;
        }

        verifier = new NoteVerifier(name, keyId, raw, publicKey);
        error = null;
        return true;
    }

    /// <summary>Parses a verifier key by the rules of <see cref="TryParse"/>.</summary>
    /// <param name="verifierKey">The verifier key string.</param>
    /// <returns>The verifier.</returns>
    /// <exception cref="FormatException">The key is not well formed; the message says why.</exception>
    public static NoteVerifier Parse(string verifierKey) =>
        TryParse(verifierKey, out var verifier, out var error) ? verifier : throw new FormatException(error);

    /// <summary>Creates a verifier from a key name and a raw Ed25519 public key.</summary>
    /// <param name="name">The key name (<see cref="SignedNote.IsValidKeyName"/>).</param>
    /// <param name="ed25519PublicKey">The 32-byte public key.</param>
    /// <returns>The verifier.</returns>
    /// <exception cref="ArgumentException">The name or key is not valid.</exception>
    public static NoteVerifier FromPublicKey(string name, ReadOnlySpan<byte> ed25519PublicKey)
    {
        if (!SignedNote.IsValidKeyName(name))
        {
            throw new ArgumentException("The key name is empty or contains white space, '+' or a control character.", nameof(name));
        }

        if (ed25519PublicKey.Length != SignedNote.Ed25519KeySize
            || !NSec.Cryptography.PublicKey.TryImport(Ed25519, ed25519PublicKey, KeyBlobFormat.RawPublicKey, out var publicKey)
            || publicKey is null)
        {
            throw new ArgumentException($"The key is not a {SignedNote.Ed25519KeySize}-byte Ed25519 public key.", nameof(ed25519PublicKey));
        }

        return new NoteVerifier(name, SignedNote.ComputeEd25519KeyId(name, ed25519PublicKey), ed25519PublicKey.ToArray(), publicKey);
    }

    /// <summary>Verifies a signed note given as a string.</summary>
    /// <param name="note">The whole signed note: text, blank line, signature lines.</param>
    /// <returns>The verified text, or why the note was rejected.</returns>
    public NoteVerificationResult Verify(string note)
    {
        ArgumentNullException.ThrowIfNull(note);
        var utf8 = new byte[StrictUtf8.GetMaxByteCount(note.Length)];
        if (Utf8.FromUtf16(note, utf8, out _, out var written, replaceInvalidSequences: false) != OperationStatus.Done)
        {
            return Malformed("it is not well-formed Unicode (an unpaired surrogate)");
        }

        return Verify(utf8.AsSpan(0, written));
    }

    /// <summary>Verifies a signed note given as UTF-8 bytes (for example an HTTP body).</summary>
    /// <param name="note">The whole signed note in UTF-8.</param>
    /// <returns>The verified text, or why the note was rejected.</returns>
    public NoteVerificationResult Verify(ReadOnlySpan<byte> note)
    {
        // Valid UTF-8, and no ASCII control character other than newline.
        for (var i = 0; i < note.Length;)
        {
            if (Rune.DecodeFromUtf8(note[i..], out var rune, out var consumed) != OperationStatus.Done)
            {
                return Malformed($"it is not valid UTF-8 (at byte {i})");
            }

            if (rune.Value < 0x20 && rune.Value != '\n')
            {
                return Malformed($"it contains the control character U+{rune.Value:X4} (at byte {i})");
            }

            i += consumed;
        }

        // The text ends at the last blank line; it keeps its final newline, not the blank line.
        var split = note.LastIndexOf("\n\n"u8);
        if (split < 0)
        {
            return Malformed("there is no blank line between the text and the signatures (or the text does not end with a newline)");
        }

        var text = note[..(split + 1)];
        var signatures = note[(split + 2)..];
        if (signatures.IsEmpty)
        {
            return Malformed("there are no signature lines after the blank line");
        }

        if (signatures[^1] != (byte)'\n')
        {
            return Malformed("the last signature line does not end with a newline");
        }

        var count = 0;
        var verified = false;
        while (!signatures.IsEmpty)
        {
            var end = signatures.IndexOf((byte)'\n');
            var line = signatures[..end];
            signatures = signatures[(end + 1)..];
            count++;

            if (!line.StartsWith(SignatureLinePrefix))
            {
                return Malformed($"signature line {count} does not start with an em dash (U+2014) and a space");
            }

            line = line[SignatureLinePrefix.Length..];
            var space = line.IndexOf((byte)' ');
            var name = StrictUtf8.GetString(space < 0 ? line : line[..space]);
            var base64 = space < 0 ? string.Empty : StrictUtf8.GetString(line[(space + 1)..]);
            if (!SignedNote.IsValidKeyName(name))
            {
                return Malformed($"signature line {count} has an invalid key name");
            }

            if (base64.Length == 0 || !StrictBase64.TryDecode(base64, out var signature))
            {
                return Malformed($"signature line {count} does not end in canonical padded base64");
            }

            if (signature.Length <= SignedNote.KeyIdSize)
            {
                return Malformed($"signature line {count} is too short to hold a key ID and a signature");
            }

            if (count > SignedNote.MaxSignatures)
            {
                return Malformed($"it has more than {SignedNote.MaxSignatures} signatures");
            }

            var keyId = BinaryPrimitives.ReadUInt32BigEndian(signature);
            if (keyId != KeyId || !string.Equals(name, Name, StringComparison.Ordinal) || verified)
            {
                // Another key (ignored, as the spec requires), or a repeat of ours (as Go, checked once).
                continue;
            }

            var ed25519 = signature.AsSpan(SignedNote.KeyIdSize);
            if (ed25519.Length != SignedNote.Ed25519SignatureSize || !Ed25519.Verify(_publicKey, text, ed25519))
            {
                return NoteVerificationResult.Fail(
                    NoteVerificationFailure.InvalidSignature,
                    $"The signature by {KeyLabel} does not verify: the text or the signature was altered.");
            }

            verified = true;
        }

        if (!verified)
        {
            return NoteVerificationResult.Fail(
                NoteVerificationFailure.NoSignatureByKey,
                $"The note has no signature by the key {KeyLabel}.");
        }

        return NoteVerificationResult.Valid(StrictUtf8.GetString(text), $"Signed by {KeyLabel}.");
    }

    /// <summary>Returns <see cref="VerifierKey"/>.</summary>
    /// <returns>The verifier key.</returns>
    public override string ToString() => VerifierKey;

    internal static string FormatVerifierKey(string name, uint keyId, ReadOnlySpan<byte> ed25519PublicKey)
    {
        Span<byte> typedKey = stackalloc byte[1 + SignedNote.Ed25519KeySize];
        typedKey[0] = SignedNote.Ed25519SignatureType;
        ed25519PublicKey.CopyTo(typedKey[1..]);
        return string.Create(CultureInfo.InvariantCulture, $"{name}+{keyId:x8}+{Convert.ToBase64String(typedKey)}");
    }

    private string KeyLabel => string.Create(CultureInfo.InvariantCulture, $"{Name}+{KeyId:x8}");

    private static NoteVerificationResult Malformed(string reason) =>
        NoteVerificationResult.Fail(NoteVerificationFailure.MalformedNote, $"Malformed note: {reason}.");
}
