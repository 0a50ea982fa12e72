using System.Diagnostics.CodeAnalysis;

namespace Exchange.Audit.Checkpoints;

/// <summary>Why a signed checkpoint was not accepted.</summary>
public enum CheckpointVerificationFailure
{
    /// <summary>The checkpoint verified.</summary>
    None = 0,

    /// <summary>The signed note is malformed (<see cref="NoteVerificationFailure.MalformedNote"/>).</summary>
    MalformedNote,

    /// <summary>The note carries no signature by the trusted key.</summary>
    NoSignatureByKey,

    /// <summary>The trusted key's signature does not verify: the checkpoint or signature was altered.</summary>
    InvalidSignature,

    /// <summary>The signature verified but the text is not a well-formed checkpoint.</summary>
    MalformedCheckpoint,

    /// <summary>The signature verified but the checkpoint names another log (origin).</summary>
    OriginMismatch,
}

/// <summary>The outcome of verifying a signed checkpoint.</summary>
public sealed class CheckpointVerificationResult
{
    private CheckpointVerificationResult(CheckpointVerificationFailure failure, string detail, Checkpoint? checkpoint)
    {
        Failure = failure;
        Detail = detail;
        Checkpoint = checkpoint;
    }

    /// <summary>Gets why verification failed, or <see cref="CheckpointVerificationFailure.None"/>.</summary>
    public CheckpointVerificationFailure Failure { get; }

    /// <summary>Gets a human-readable explanation, for logs and diagnostics.</summary>
    public string Detail { get; }

    /// <summary>Gets the verified checkpoint, or null when verification failed.</summary>
    public Checkpoint? Checkpoint { get; }

    /// <summary>Gets whether the checkpoint verified; then <see cref="Checkpoint"/> is set.</summary>
    [MemberNotNullWhen(true, nameof(Checkpoint))]
    public bool IsValid => Failure == CheckpointVerificationFailure.None;

    internal static CheckpointVerificationResult Valid(Checkpoint checkpoint, string detail) =>
        new(CheckpointVerificationFailure.None, detail, checkpoint);

    internal static CheckpointVerificationResult Fail(CheckpointVerificationFailure failure, string detail) =>
        new(failure, detail, null);

    /// <summary>Returns the failure and detail.</summary>
    /// <returns>A description of the outcome.</returns>
    public override string ToString() => $"{Failure}: {Detail}";
}
