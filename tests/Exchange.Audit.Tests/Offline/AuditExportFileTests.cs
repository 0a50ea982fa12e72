using System.Text;
using Exchange.Audit.Checkpoints;
using Exchange.Audit.Offline;
using Exchange.Audit.Storage;

namespace Exchange.Audit.Tests.Offline;

/// <summary>
/// The export file an auditor verifies offline, line by line: what is read back, which malformed
/// lines are named, and what the verifier says about an export longer than its checkpoint.
/// </summary>
public sealed class AuditExportFileTests
{
    private static readonly byte[] Leaf = Encoding.UTF8.GetBytes("{\"decision\":\"permit\"}");

    [Fact]
    public void AnEntryWithoutAStoredLeafHashRoundTripsWithoutOne()
    {
        var line = AuditExportFile.FormatLine(new AuditExportEntry(4, Leaf));

        Assert.DoesNotContain("leafHash", line, StringComparison.Ordinal);
        var read = Assert.Single(AuditExportFile.Read(new StringReader(line)));
        Assert.Equal(4, read.Index);
        Assert.Equal(Leaf, read.Leaf);
        Assert.Null(read.StoredLeafHash);
        Assert.False(read.Withheld);
    }

    [Fact]
    public void AnEntryWithAStoredLeafHashRoundTripsWithIt()
    {
        var hash = Exchange.Audit.Merkle.MerkleHash.LeafHash(Leaf);

        var read = Assert.Single(AuditExportFile.Read(new StringReader(AuditExportFile.FormatLine(new AuditExportEntry(4, Leaf, hash)))));

        Assert.Equal(hash, read.StoredLeafHash);
    }

    [Fact]
    public void BlankLinesAreSkipped()
    {
        var text = "\n" + AuditExportFile.FormatLine(new AuditExportEntry(0, Leaf)) + "\n   \n\n" + AuditExportFile.FormatLine(new AuditExportEntry(1, Leaf)) + "\n";

        Assert.Equal([0L, 1L], AuditExportFile.Read(new StringReader(text)).Select(e => e.Index));
    }

    [Theory]
    [InlineData("{\"index\":3}", "line 2 has no leaf")]
    [InlineData("null", "line 2 has no leaf")]
    [InlineData("{\"index\":3,\"leaf\":\"not base64!\"}", "line 2 is not base64")]
    [InlineData("{\"index\":3,\"leaf\":\"AA==\",\"leafHash\":\"not base64!\"}", "line 2 is not base64")]
    [InlineData("{\"index\":3,\"leafHash\":\"not base64!\",\"withheld\":true}", "line 2 is not base64")]
    [InlineData("{\"index\":3,\"withheld\":true}", "line 2 is withheld but has no leafHash")]
    [InlineData("[1,2]", "line 2 is not JSON")]
    public void AMalformedLineIsNamedByItsNumber(string malformed, string message)
    {
        var text = AuditExportFile.FormatLine(new AuditExportEntry(0, Leaf)) + "\n" + malformed + "\n";

        var ex = Assert.Throws<FormatException>(() => AuditExportFile.Read(new StringReader(text)).ToList());

        Assert.Contains(message, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NullArgumentsAreRejected()
    {
        Assert.Throws<ArgumentNullException>(() => AuditExportFile.Write(null!, new StringWriter()));
        Assert.Throws<ArgumentNullException>(() => AuditExportFile.Write([], null!));
        Assert.Throws<ArgumentNullException>(() => AuditExportFile.FormatLine(null!));
        Assert.Throws<ArgumentNullException>(() => AuditExportFile.Read(null!).ToList());
        Assert.Throws<ArgumentNullException>(() => OfflineAuditVerifier.Verify(null!, "c", "k"));
        Assert.Throws<ArgumentNullException>(() => OfflineAuditVerifier.Verify(new StringReader(""), null!, "k"));
        Assert.Throws<ArgumentNullException>(() => OfflineAuditVerifier.Verify(new StringReader(""), "c", null!));
    }

    [Fact]
    public async Task AVerifiedExportSaysHowManyEntriesAndWhoSignedExactly()
    {
        var f = await OfflineAuditVerifierTests.BuildAsync(10);

        var result = OfflineAuditVerifier.Verify(new StringReader(f.Export), f.SignedCheckpoint, f.VerifierKey);

        Assert.Equal("Verified: 10 entries match the checkpoint signed by exchange.example/audit.", result.Message);
        Assert.Null(result.EntryIndex);
    }

    [Fact]
    public async Task EntriesAppendedAfterTheCheckpointAreLeftOutOfItsVerification()
    {
        // The export runs to 10 entries; the checkpoint was signed when the log held 6.
        var store = new InMemoryMerkleNodeStore();
        using var log = new MerkleLog(store);
        await log.AppendAsync(Enumerable.Range(0, 10).Select(i => Encoding.UTF8.GetBytes($"{{\"index\":{i}}}")).ToList());
        using var signer = NoteSigner.Generate("exchange.example/audit");
        var signed = new CheckpointSigner(signer).Sign(6, await log.RootAsync(6));
        using var export = new StringWriter();
        AuditExportFile.Write((await store.ReadEntriesAsync(0, 10)).Select(e => new AuditExportEntry(e.Index, e.Leaf, e.LeafHash)), export);

        var result = OfflineAuditVerifier.Verify(new StringReader(export.ToString()), signed, signer.VerifierKey);

        Assert.True(result.IsValid, result.Message);
        Assert.Contains("Verified: 6 entries", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EachKindOfFailureSaysWhatFailed()
    {
        var f = await OfflineAuditVerifierTests.BuildAsync(10);
        using var other = NoteSigner.Generate("exchange.example/audit");

        Assert.StartsWith("The verifier key is malformed: ",
            OfflineAuditVerifier.Verify(new StringReader(f.Export), f.SignedCheckpoint, "not a key").Message, StringComparison.Ordinal);
        Assert.StartsWith("The checkpoint does not verify with this key: ",
            OfflineAuditVerifier.Verify(new StringReader(f.Export), f.SignedCheckpoint, other.VerifierKey).Message, StringComparison.Ordinal);
        var lines = f.Export.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var truncated = OfflineAuditVerifier.Verify(new StringReader(string.Join('\n', lines[..5])), f.SignedCheckpoint, f.VerifierKey);
        Assert.StartsWith(nameof(AuditLogVerificationOutcome.MissingEntry) + ": ", truncated.Message, StringComparison.Ordinal);
    }
}
