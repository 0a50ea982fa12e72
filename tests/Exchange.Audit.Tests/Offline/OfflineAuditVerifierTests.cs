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

    /// <summary>The export with the content of every entry in <paramref name="withheld"/> replaced by its leaf hash.</summary>
    private static string Withhold(Fixture f, params int[] withheld)
    {
        var entries = AuditExportFile.Read(new StringReader(f.Export))
            .Select(e => withheld.Contains((int)e.Index) ? AuditExportEntry.WithheldEntry(e.Index, e.StoredLeafHash!) : e);
        using var writer = new StringWriter();
        AuditExportFile.Write(entries, writer);
        return writer.ToString();
    }

    [Fact]
    public async Task AnExportWithWithheldEntriesStillVerifiesAndSaysSo()
    {
        var f = await BuildAsync();
        var export = Withhold(f, 3, 4, 50, 99);
        Assert.Contains("{\"index\":3,\"leafHash\":", export, StringComparison.Ordinal);
        Assert.DoesNotContain("\"index\":3,\"leaf\":", export, StringComparison.Ordinal);
        var result = OfflineAuditVerifier.Verify(new StringReader(export), f.SignedCheckpoint, f.VerifierKey);
        Assert.True(result.IsValid, result.Message);
        Assert.Contains("4 were withheld", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AWithheldEntrysHashIsStillCheckedByTheRoot()
    {
        var f = await BuildAsync();
        var lines = Withhold(f, 10).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var forged = Exchange.Audit.Merkle.MerkleHash.LeafHash(Encoding.UTF8.GetBytes("{\"decision\":\"deny\"}"));
        lines[10] = $"{{\"index\":10,\"leafHash\":\"{Convert.ToBase64String(forged)}\",\"withheld\":true}}";
        var result = OfflineAuditVerifier.Verify(new StringReader(string.Join('\n', lines)), f.SignedCheckpoint, f.VerifierKey);
        Assert.False(result.IsValid, result.Message);

        lines[10] = "{\"index\":10,\"withheld\":true}";
        var missingHash = OfflineAuditVerifier.Verify(new StringReader(string.Join('\n', lines)), f.SignedCheckpoint, f.VerifierKey);
        Assert.False(missingHash.IsValid);
        Assert.Contains("line 11", missingHash.Message, StringComparison.Ordinal);
    }
}
