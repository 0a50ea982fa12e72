namespace Exchange.Audit.Checkpoints;

/// <summary>
/// Verifies a signed checkpoint: the note must carry a valid signature by the trusted key
/// (<see cref="NoteVerifier"/>), its text must be a well-formed <see cref="Checkpoint"/>, and its origin
/// must be the expected log's. Bad input gives a failed result naming the reason; it does not throw.
/// </summary>
public sealed class CheckpointVerifier
{
    /// <summary>Creates a checkpoint verifier.</summary>
    /// <param name="verifier">The trusted key.</param>
    /// <param name="origin">The origin the checkpoint must name; by default the key name, as the
    /// tlog-checkpoint spec recommends and <see cref="CheckpointSigner"/> does.</param>
    public CheckpointVerifier(NoteVerifier verifier, string? origin = null)
    {
        ArgumentNullException.ThrowIfNull(verifier);
        NoteVerifier = verifier;
        Origin = origin ?? verifier.Name;
    }

    /// <summary>Gets the trusted key.</summary>
    public NoteVerifier NoteVerifier { get; }

    /// <summary>Gets the origin that verified checkpoints must name.</summary>
    public string Origin { get; }

    /// <summary>Creates a checkpoint verifier from a published verifier key.</summary>
    /// <param name="verifierKey">The verifier key (<see cref="NoteVerifier.Parse"/>).</param>
    /// <param name="origin">The expected origin; by default the key name.</param>
    /// <returns>The verifier.</returns>
    /// <exception cref="FormatException">The verifier key is not well formed.</exception>
    public static CheckpointVerifier Parse(string verifierKey, string? origin = null) =>
        new(NoteVerifier.Parse(verifierKey), origin);

    /// <summary>Verifies a signed checkpoint given as a string.</summary>
    /// <param name="signedNote">The signed note.</param>
    /// <returns>The verified checkpoint, or why it was rejected.</returns>
    public CheckpointVerificationResult Verify(string signedNote) => FromNote(NoteVerifier.Verify(signedNote));

    /// <summary>Verifies a signed checkpoint given as UTF-8 bytes.</summary>
    /// <param name="signedNote">The signed note in UTF-8.</param>
    /// <returns>The verified checkpoint, or why it was rejected.</returns>
    public CheckpointVerificationResult Verify(ReadOnlySpan<byte> signedNote) => FromNote(NoteVerifier.Verify(signedNote));

    private CheckpointVerificationResult FromNote(NoteVerificationResult note)
    {
        if (!note.IsValid)
        {
            var failure = note.Failure switch
            {
                NoteVerificationFailure.NoSignatureByKey => CheckpointVerificationFailure.NoSignatureByKey,
                NoteVerificationFailure.InvalidSignature => CheckpointVerificationFailure.InvalidSignature,
                _ => CheckpointVerificationFailure.MalformedNote,
            };
            return CheckpointVerificationResult.Fail(failure, note.Detail);
        }

        if (!Checkpoint.TryParse(note.Text, out var checkpoint, out var error))
        {
            return CheckpointVerificationResult.Fail(CheckpointVerificationFailure.MalformedCheckpoint, error);
        }

        if (!string.Equals(checkpoint.Origin, Origin, StringComparison.Ordinal))
        {
            return CheckpointVerificationResult.Fail(
                CheckpointVerificationFailure.OriginMismatch,
                $"The checkpoint is for the log '{checkpoint.Origin}', not '{Origin}'.");
        }

        return CheckpointVerificationResult.Valid(checkpoint, note.Detail);
    }
}
