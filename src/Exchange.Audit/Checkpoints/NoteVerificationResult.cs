using System.Diagnostics.CodeAnalysis;

namespace Exchange.Audit.Checkpoints;

/// <summary>Why a signed note did not verify.</summary>
public enum NoteVerificationFailure
{
    /// <summary>The note verified.</summary>
    None = 0,

    /// <summary>
    /// The note breaks the signed-note format: not UTF-8, a control character, no blank line before the
    /// signatures, a signature line without the em dash and space, a bad key name, non-canonical base64,
    /// a signature too short to hold a key ID, or more than <see cref="SignedNote.MaxSignatures"/> signatures.
    /// </summary>
    MalformedNote,

    /// <summary>The note is well formed but carries no signature by the trusted key (name and key ID).</summary>
    NoSignatureByKey,

    /// <summary>A signature by the trusted key is present but does not verify: the text or signature was altered.</summary>
    InvalidSignature,
}

/// <summary>The outcome of verifying a signed note against one trusted key.</summary>
public sealed class NoteVerificationResult
{
    private NoteVerificationResult(NoteVerificationFailure failure, string detail, string? text)
    {
        Failure = failure;
        Detail = detail;
        Text = text;
    }

    /// <summary>Gets why verification failed, or <see cref="NoteVerificationFailure.None"/>.</summary>
    public NoteVerificationFailure Failure { get; }

    /// <summary>Gets a human-readable explanation, for logs and diagnostics.</summary>
    public string Detail { get; }

    /// <summary>Gets the verified note text (with its final newline), or null when verification failed.</summary>
    public string? Text { get; }

    /// <summary>Gets whether the note verified; then <see cref="Text"/> is set.</summary>
    [MemberNotNullWhen(true, nameof(Text))]
    public bool IsValid => Failure == NoteVerificationFailure.None;

    internal static NoteVerificationResult Valid(string text, string detail) =>
        new(NoteVerificationFailure.None, detail, text);

    internal static NoteVerificationResult Fail(NoteVerificationFailure failure, string detail) =>
        new(failure, detail, null);

    /// <summary>Returns the failure and detail.</summary>
    /// <returns>A description of the outcome.</returns>
    public override string ToString() => $"{Failure}: {Detail}";
}
