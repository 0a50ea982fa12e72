using System.Text;
using Exchange.Audit.Checkpoints;

namespace Exchange.Audit.Tests.Checkpoints;

/// <summary>The signed-note wire format: each malformation fails with a clear reason, never an exception.</summary>
public sealed class SignedNoteFormatTests : IDisposable
{
    private const string Name = "exchange.example/audit";
    private const string Text = "exchange.example/audit\n3\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n";

    private readonly NoteSigner _signer = NoteSigner.Generate(Name);

    public void Dispose() => _signer.Dispose();

    private string Line => _signer.CreateSignatureLine(Text);

    private string Base64 => Line[(2 + Name.Length + 1)..^1];

    [Fact]
    public void WellFormedNoteVerifiesAndReturnsItsTextWithTheFinalNewline()
    {
        var result = _signer.CreateVerifier().Verify(Text + "\n" + Line);

        Assert.True(result.IsValid, result.ToString());
        Assert.Equal(Text, result.Text);
    }

    [Fact]
    public void TextMayContainBlankLinesBecauseTheLastOneSeparatesTheSignatures()
    {
        const string text = "first paragraph\n\nsecond paragraph\n";

        var result = _signer.CreateVerifier().Verify(_signer.Sign(text));

        Assert.True(result.IsValid, result.ToString());
        Assert.Equal(text, result.Text);
    }

    public static TheoryData<string, string> MalformedCases() => new()
    {
        { "no blank line between text and signatures", "blank line" },
        { "text without its final newline", "blank line" },
        { "no signature lines", "no signature lines" },
        { "signature line without its newline", "does not end with a newline" },
        { "hyphen-minus instead of em dash", "em dash" },
        { "en dash instead of em dash", "em dash" },
        { "em dash without the space", "em dash" },
        { "line after the signatures", "signature line 2 does not start" },
        { "key name with a plus", "invalid key name" },
        { "key name with a no-break space", "invalid key name" },
        { "no space between name and signature", "canonical padded base64" },
        { "signature in invalid base64", "canonical padded base64" },
        { "signature in unpadded base64", "canonical padded base64" },
        { "signature in base64 with non-zero trailing bits", "canonical padded base64" },
        { "signature with a space inside", "canonical padded base64" },
        { "signature of only a key ID", "too short" },
        { "carriage return line endings", "control character" },
        { "tab in the text", "control character" },
        { "unpaired surrogate", "surrogate" },
        { "101 signatures", "more than 100" },
    };

    [Theory]
    [MemberData(nameof(MalformedCases))]
    public void MalformedNoteIsRejectedWithAClearReason(string malformation, string reason)
    {
        var note = Build(malformation);

        var result = _signer.CreateVerifier().Verify(note);

        Assert.True(result.Failure == NoteVerificationFailure.MalformedNote, $"{malformation}: {result}");
        Assert.Contains(reason, result.Detail, StringComparison.Ordinal);
        Assert.Null(result.Text);
    }

    [Fact]
    public void SignatureOfTheWrongLengthFromTheTrustedKeyIsInvalid()
    {
        var bytes = Convert.FromBase64String(Base64);

        var shortened = Convert.ToBase64String(bytes[..^1]);
        var lengthened = Convert.ToBase64String([.. bytes, 0]);

        Assert.Equal(NoteVerificationFailure.InvalidSignature, _signer.CreateVerifier().Verify($"{Text}\n\u2014 {Name} {shortened}\n").Failure);
        Assert.Equal(NoteVerificationFailure.InvalidSignature, _signer.CreateVerifier().Verify($"{Text}\n\u2014 {Name} {lengthened}\n").Failure);
    }

    [Fact]
    public void InvalidUtf8BytesAreMalformed()
    {
        var note = Encoding.UTF8.GetBytes(Text + "\n" + Line);
        note[1] = 0xc3; // a lead byte followed by an ASCII byte

        Assert.Equal(NoteVerificationFailure.MalformedNote, _signer.CreateVerifier().Verify(note).Failure);
    }

    [Fact]
    public void TextThatCannotBeASignedNoteCannotBeSigned()
    {
        Assert.Throws<ArgumentException>(() => _signer.Sign("no final newline"));
        Assert.Throws<ArgumentException>(() => _signer.Sign("carriage return\r\n"));
        Assert.Throws<ArgumentException>(() => _signer.Sign("unpaired \ud800 surrogate\n"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("a+b")]
    [InlineData("a b")]
    [InlineData("a\tb")]
    [InlineData("a\u00a0b")]
    [InlineData("a\u2028b")]
    public void KeyNameWithWhiteSpaceOrPlusIsInvalid(string name)
    {
        Assert.False(SignedNote.IsValidKeyName(name));
        Assert.Throws<ArgumentException>(() => NoteSigner.Generate(name));
    }

    private string Build(string malformation) => malformation switch
    {
        "no blank line between text and signatures" => Text + Line,
        "text without its final newline" => Text[..^1] + "\n" + Line,
        "no signature lines" => Text + "\n",
        "signature line without its newline" => Text + "\n" + Line[..^1],
        "hyphen-minus instead of em dash" => Text + "\n" + "-" + Line[1..],
        "en dash instead of em dash" => Text + "\n" + "\u2013" + Line[1..],
        "em dash without the space" => Text + "\n" + "\u2014" + Line[2..],
        "line after the signatures" => Text + "\n" + Line + "Unexpected line.\n",
        "key name with a plus" => $"{Text}\n\u2014 exchange+audit {Base64}\n",
        "key name with a no-break space" => $"{Text}\n\u2014 exchange\u00a0audit {Base64}\n",
        "no space between name and signature" => $"{Text}\n\u2014 {Name}\n",
        "signature in invalid base64" => $"{Text}\n\u2014 {Name} {Base64[..10]}!{Base64[11..]}\n",
        "signature in unpadded base64" => $"{Text}\n\u2014 {Name} {Base64.TrimEnd('=')}\n",
        "signature in base64 with non-zero trailing bits" => $"{Text}\n\u2014 {Name} {WithTrailingBits(Base64)}\n",
        "signature with a space inside" => $"{Text}\n\u2014 {Name} {Base64[..8]} {Base64[8..]}\n",
        "signature of only a key ID" => $"{Text}\n\u2014 {Name} {Convert.ToBase64String(Convert.FromBase64String(Base64)[..4])}\n",
        "carriage return line endings" => (Text + "\n" + Line).Replace("\n", "\r\n", StringComparison.Ordinal),
        "tab in the text" => Text.Replace("\n3", "\n\t3", StringComparison.Ordinal) + "\n" + Line,
        "unpaired surrogate" => "\ud800" + Text + "\n" + Line,
        "101 signatures" => Text + "\n" + string.Concat(Enumerable.Repeat(Line, 101)),
        _ => throw new ArgumentOutOfRangeException(nameof(malformation)),
    };

    // 68 bytes encode to 92 characters ending in one '='; the last data character carries two unused bits.
    private static string WithTrailingBits(string base64)
    {
        const string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        Assert.EndsWith("=", base64, StringComparison.Ordinal);
        Assert.False(base64.EndsWith("==", StringComparison.Ordinal));
        var last = alphabet.IndexOf(base64[^2], StringComparison.Ordinal);
        return base64[..^2] + alphabet[last | 1] + "=";
    }
}
