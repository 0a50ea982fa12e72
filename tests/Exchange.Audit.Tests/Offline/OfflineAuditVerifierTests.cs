using System.Text;
using Exchange.Audit.Checkpoints;
using Exchange.Audit.Offline;
using Exchange.Audit.Storage;

namespace Exchange.Audit.Tests.Offline;

/// <summary>The offline verifier: an export, a signed checkpoint and the published key are all it needs.</summary>
public sealed class OfflineAuditVerifierTests
{
    public sealed record Fixture(string Export, string SignedCheckpoint, string VerifierKey, int Size);

    /// <summary>A real log of <paramref name="size"/> events, its export and a checkpoint signed over all of it.</summary>
    public static async Task<Fixture> BuildAsync(int size = 100)
    {
        var store = new InMemoryMerkleNodeStore();
        using var log = new MerkleLog(store);
        var leaves = Enumerable.Range(0, size)
            .Select(i => Encoding.UTF8.GetBytes($"{{\"decision\":\"permit\",\"index\":{i},\"v\":1}}"))
            .ToList();
        await log.AppendAsync(leaves);
        using var signer = NoteSigner.Generate("exchange.example/audit");
        var signed = new CheckpointSigner(signer).Sign(size, await log.RootAsync(size));
        using var export = new StringWriter();
        AuditExportFile.Write((await store.ReadEntriesAsync(0, size)).Select(e => new AuditExportEntry(e.Index, e.Leaf, e.LeafHash)), export);
        return new Fixture(export.ToString(), signed, signer.VerifierKey, size);
    }

    [Fact]
    public async Task UntouchedExportVerifiesAgainstTheSignedCheckpoint()
    {
        var f = await BuildAsync();
        var result = OfflineAuditVerifier.Verify(new StringReader(f.Export), f.SignedCheckpoint, f.VerifierKey);
        Assert.True(result.IsValid, result.Message);
        Assert.Contains("100 entries", result.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(42)]
    [InlineData(99)]
    public async Task AnEditedEntryIsNamed(int victim)
    {
        var f = await BuildAsync();
        var lines = f.Export.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        // A rogue administrator rewrites the event's decision in the stored leaf; its stored hash stays.
        var original = System.Text.Json.JsonDocument.Parse(lines[victim]).RootElement;
        var leaf = Encoding.UTF8.GetBytes($"{{\"decision\":\"deny\",\"index\":{victim},\"v\":1}}");
        lines[victim] = $"{{\"index\":{victim},\"leaf\":\"{Convert.ToBase64String(leaf)}\",\"leafHash\":\"{original.GetProperty("leafHash").GetString()}\"}}";
        var result = OfflineAuditVerifier.Verify(new StringReader(string.Join('\n', lines)), f.SignedCheckpoint, f.VerifierKey);
        Assert.False(result.IsValid);
        Assert.Equal(victim, result.EntryIndex);
    }

    [Fact]
    public async Task AnEntryRewrittenWithItsHashStillFailsTheCheckpoint()
    {
        var f = await BuildAsync();
        var lines = f.Export.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var leaf = Encoding.UTF8.GetBytes("{\"decision\":\"deny\",\"index\":5,\"v\":1}");
        var hash = Exchange.Audit.Merkle.MerkleHash.LeafHash(leaf);
        lines[5] = $"{{\"index\":5,\"leaf\":\"{Convert.ToBase64String(leaf)}\",\"leafHash\":\"{Convert.ToBase64String(hash)}\"}}";
        var result = OfflineAuditVerifier.Verify(new StringReader(string.Join('\n', lines)), f.SignedCheckpoint, f.VerifierKey);
        Assert.False(result.IsValid, result.Message); // located to a range only: see AuditLogVerifier
    }

    [Fact]
    public async Task ACheckpointSignedByAnotherKeyOrAlteredDoesNotVerify()
    {
        var f = await BuildAsync();
        using var other = NoteSigner.Generate("exchange.example/audit");
        Assert.False(OfflineAuditVerifier.Verify(new StringReader(f.Export), f.SignedCheckpoint, other.VerifierKey).IsValid);
        var altered = f.SignedCheckpoint.Replace("\n100\n", "\n99\n", StringComparison.Ordinal);
        Assert.False(OfflineAuditVerifier.Verify(new StringReader(f.Export), altered, f.VerifierKey).IsValid);
        Assert.False(OfflineAuditVerifier.Verify(new StringReader(f.Export), f.SignedCheckpoint, "not a key").IsValid);
    }

    [Fact]
    public async Task ATruncatedExportOrAMalformedLineIsReported()
    {
        var f = await BuildAsync();
        var lines = f.Export.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var truncated = OfflineAuditVerifier.Verify(new StringReader(string.Join('\n', lines[..50])), f.SignedCheckpoint, f.VerifierKey);
        Assert.False(truncated.IsValid);

        lines[7] = "{not json";
        var malformed = OfflineAuditVerifier.Verify(new StringReader(string.Join('\n', lines)), f.SignedCheckpoint, f.VerifierKey);
        Assert.False(malformed.IsValid);
        Assert.Contains("line 8", malformed.Message, StringComparison.Ordinal);
    }
}
