namespace Exchange.Audit.Storage;

/// <summary>
/// A tree size and root hash the verifier trusts, normally taken from a checkpoint whose signature has been
/// verified.
/// </summary>
/// <param name="TreeSize">The number of entries the root covers.</param>
/// <param name="RootHash">The RFC 6962 root hash of those entries.</param>
public sealed record TrustedTreeHead(long TreeSize, byte[] RootHash);
