namespace Exchange.Audit.Merkle;

/// <summary>The outcome of verifying a Merkle inclusion or consistency proof.</summary>
/// <param name="Failure">Why verification failed, or <see cref="ProofFailure.None"/>.</param>
/// <param name="Detail">A human-readable explanation, for logs and diagnostics.</param>
public readonly record struct ProofVerificationResult(ProofFailure Failure, string Detail)
{
    /// <summary>Gets whether the proof verified.</summary>
    public bool IsValid => Failure == ProofFailure.None;

    /// <summary>Gets the result of a proof that verified.</summary>
    public static ProofVerificationResult Valid { get; } = new(ProofFailure.None, "The proof verified.");

    /// <summary>Creates the result of a proof that did not verify.</summary>
    /// <param name="failure">Why it failed; not <see cref="ProofFailure.None"/>.</param>
    /// <param name="detail">A human-readable explanation.</param>
    /// <returns>The failed result.</returns>
    public static ProofVerificationResult Fail(ProofFailure failure, string detail)
    {
        ArgumentOutOfRangeException.ThrowIfEqual(failure, ProofFailure.None);
        return new(failure, detail);
    }
}
