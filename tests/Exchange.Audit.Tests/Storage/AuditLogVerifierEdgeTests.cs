using Exchange.Audit.Merkle;
using Exchange.Audit.Storage;

namespace Exchange.Audit.Tests.Storage;

/// <summary>
/// The offline verifier at its edges: a trusted head for the empty tree, a withheld entry without a usable
/// hash, an edited entry followed by a gap or an early end (the edit is still what is named), malformed
/// input, and the sentences an auditor reads.
/// </summary>
public class AuditLogVerifierEdgeTests
{
    private const int Size = 20;

    private static async Task<(List<AuditExportEntry> Export, byte[] Root)> ExportAsync()
    {
        var store = new InMemoryMerkleNodeStore();
        using var log = new MerkleLog(store);
        await log.AppendAsync(Enumerable.Range(0, Size).Select(i => MerkleLogPropertyTests.Leaf(i)).ToArray());
        var entries = await store.ReadEntriesAsync(0, Size);
        return (entries.Select(e => new AuditExportEntry(e.Index, e.Leaf, e.LeafHash)).ToList(), await log.RootAsync(Size));
    }

    private static AuditExportEntry Edited(AuditExportEntry entry)
    {
        var leaf = (byte[])entry.Leaf.Clone();
        leaf[^2] ^= 0x01;
        return entry with { Leaf = leaf };
    }

    [Fact]
    public void ATrustedEmptyTreeWhoseRootIsNotTheEmptyRootFailsBeforeAnyEntryIsRead()
    {
        var result = AuditLogVerifier.Verify(NeverRead(), 0, new byte[MerkleHash.Size]);

        Assert.Equal(AuditLogVerificationOutcome.RootMismatch, result.Outcome);
        Assert.Null(result.EntryIndex);
        Assert.Equal(0, result.VerifiedSize);
        Assert.Contains("empty tree", result.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheStreamingVerifierAlsoDecidesOnTheHeadsAloneWithoutReading()
    {
        var result = await AuditLogVerifier.VerifyAsync(NeverReadAsync(), [new TrustedTreeHead(0, new byte[MerkleHash.Size])]);

        Assert.Equal(AuditLogVerificationOutcome.RootMismatch, result.Outcome);
    }

    [Fact]
    public async Task AnEmptyTreeHeadBesideOthersIsCheckedAndPassedOver()
    {
        var (export, root) = await ExportAsync();

        var result = AuditLogVerifier.Verify(export, [new(0, MerkleHash.EmptyRoot.ToArray()), new(Size, root)]);

        Assert.True(result.IsValid, result.Detail);
        Assert.Equal($"All {Size} entries verify against 2 trusted root(s).", result.Detail);
        Assert.Equal(Size, result.VerifiedSize);
    }

    [Fact]
    public async Task AVerifiedExportWithWithheldEntriesSaysHowManyWereCheckedByHashOnly()
    {
        var (export, root) = await ExportAsync();
        var withheld = export.Select(e => e.Index is 3 or 11 ? AuditExportEntry.WithheldEntry(e.Index, e.StoredLeafHash!) : e);

        var result = await AuditLogVerifier.VerifyAsync(withheld.ToAsyncEnumerable(), [new TrustedTreeHead(Size, root)]);

        Assert.True(result.IsValid, result.Detail);
        Assert.Contains($"All {Size} entries verify against 1 trusted root(s); 2 of them were withheld", result.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(31)]
    [InlineData(33)]
    [InlineData(-1)]
    public async Task AWithheldEntryWithoutAWellFormedHashIsNamed(int hashLength)
    {
        var (export, root) = await ExportAsync();
        export[7] = new AuditExportEntry(7, [], hashLength < 0 ? null : new byte[hashLength], Withheld: true);

        var result = AuditLogVerifier.Verify(export, Size, root);

        Assert.Equal(AuditLogVerificationOutcome.LeafMismatch, result.Outcome);
        Assert.Equal(7, result.EntryIndex);
        Assert.Contains("Entry 7 is withheld but its leaf hash is missing or malformed", result.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AWithheldEntryEndingAtATrustedSizeIsCheckedThere()
    {
        var (export, root) = await ExportAsync();
        var rootOf8 = MerkleTree.RootHash(export.Take(8).Select(e => e.StoredLeafHash!).ToArray());
        export[7] = AuditExportEntry.WithheldEntry(7, new byte[MerkleHash.Size]); // a hash that is not the entry's

        var result = AuditLogVerifier.Verify(export, [new(8, rootOf8), new(Size, root)]);

        Assert.Equal(AuditLogVerificationOutcome.RootMismatch, result.Outcome);
        Assert.Equal((0L, 8L), (result.SuspectStart, result.SuspectEnd));
        Assert.Equal("The root at size 8 does not match; the first altered entry lies in [0, 8).", result.Detail);
    }

    [Fact]
    public async Task AnEditedEntryFollowedByAnEarlyEndIsTheEntryNamed()
    {
        var (export, root) = await ExportAsync();
        export[4] = Edited(export[4]);

        var result = AuditLogVerifier.Verify(export.Take(12), Size, root);

        Assert.Equal(AuditLogVerificationOutcome.LeafMismatch, result.Outcome);
        Assert.Equal(4, result.EntryIndex);
        Assert.Equal("Entry 4 does not match (its root could not be checked); it is the first entry that does not.", result.Detail);
    }

    [Fact]
    public async Task AnEditedEntryFollowedByAGapIsTheEntryNamed()
    {
        var (export, root) = await ExportAsync();
        export[4] = Edited(export[4]);
        export.RemoveAt(9);

        var result = AuditLogVerifier.Verify(export, Size, root);

        Assert.Equal(AuditLogVerificationOutcome.LeafMismatch, result.Outcome);
        Assert.Equal(4, result.EntryIndex);
        Assert.Equal("Entry 4 does not match (its root could not be checked); it is the first entry that does not.", result.Detail);
    }

    [Fact]
    public async Task AnEditedEntryIsNamedByTheRootAfterIt()
    {
        var (export, root) = await ExportAsync();
        export[4] = Edited(export[4]);

        var result = AuditLogVerifier.Verify(export, Size, root);

        Assert.Equal("Entry 4 does not match (the root at size 20 does not match); it is the first entry that does not.", result.Detail);
        Assert.Equal(0, result.VerifiedSize);
    }

    [Fact]
    public async Task AnEntryRewrittenWithItsHashBetweenConsecutiveHeadsIsNamedByThem()
    {
        var (export, root) = await ExportAsync();
        var heads = Enumerable.Range(1, Size).Select(n => new TrustedTreeHead(n, MerkleTree.RootHash(export.Take(n).Select(e => e.StoredLeafHash!).ToArray()))).ToList();
        var leaf = (byte[])export[9].Leaf.Clone();
        leaf[^2] ^= 0x01;
        export[9] = export[9] with { Leaf = leaf, StoredLeafHash = MerkleHash.LeafHash(leaf) };

        var result = AuditLogVerifier.Verify(export, heads);

        Assert.Equal(AuditLogVerificationOutcome.LeafMismatch, result.Outcome);
        Assert.Equal("Entry 9 does not match (the roots at sizes 9 and 10 isolate it); it is the first entry that does not.", result.Detail);
        Assert.Equal(root, heads[^1].RootHash);
    }

    [Fact]
    public async Task TheSentencesForAGapADuplicateAnEarlyEndAndExtraEntriesNameTheEntries()
    {
        var (export, root) = await ExportAsync();

        Assert.Equal(
            "Entry 5 is missing: the export goes on with entry 6.",
            AuditLogVerifier.Verify(export.Where(e => e.Index != 5), Size, root).Detail);
        Assert.Equal(
            "Where entry 6 was expected the export has entry 5 again (duplicated or out of order).",
            AuditLogVerifier.Verify([.. export.Take(6), export[5], .. export.Skip(6)], Size, root).Detail);
        Assert.Equal(
            $"The export ends before entry 12 but the trusted tree size is {Size}; entry 12 is missing.",
            AuditLogVerifier.Verify(export.Take(12), Size, root).Detail);
        var rootOf12 = MerkleTree.RootHash(export.Take(12).Select(e => e.StoredLeafHash!).ToArray());
        Assert.Equal(
            "The export has entries from 12 on, beyond the trusted tree size 12.",
            AuditLogVerifier.Verify(export, 12, rootOf12).Detail);
    }

    [Fact]
    public async Task AStoredHashMismatchIsNamedWithTheSizeThatVerified()
    {
        var (export, root) = await ExportAsync();
        export[6] = export[6] with { StoredLeafHash = new byte[MerkleHash.Size] };

        var result = AuditLogVerifier.Verify(export, Size, root);

        Assert.Equal(AuditLogVerificationOutcome.StoredLeafHashMismatch, result.Outcome);
        Assert.Equal(Size, result.VerifiedSize);
        Assert.Equal($"Entry 6's leaf verifies against the root at size {Size}, but its stored leaf hash differs.", result.Detail);
    }

    [Fact]
    public async Task MalformedInputIsRefused()
    {
        var (export, root) = await ExportAsync();

        Assert.Throws<ArgumentNullException>(() => AuditLogVerifier.Verify(null!, Size, root));
        Assert.Throws<ArgumentNullException>(() => AuditLogVerifier.Verify(export, null!));
        await Assert.ThrowsAsync<ArgumentNullException>(() => AuditLogVerifier.VerifyAsync(null!, [new TrustedTreeHead(Size, root)]));
        Assert.Throws<ArgumentException>(() => AuditLogVerifier.Verify(export, [new(Size, root), null!]));
        Assert.Throws<ArgumentException>(() => AuditLogVerifier.Verify(export, -1, root));
        Assert.Throws<ArgumentException>(() => AuditLogVerifier.Verify(export, Size, null!));
        Assert.Throws<ArgumentException>(() => AuditLogVerifier.Verify(export, Size, [.. root, 0]));
        var nullEntry = Assert.Throws<ArgumentException>(() => AuditLogVerifier.Verify([export[0], null!], Size, root));
        Assert.Contains("position 1", nullEntry.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => AuditLogVerifier.Verify([export[0] with { Leaf = null! }], Size, root));
        var twice = Assert.Throws<ArgumentException>(() => AuditLogVerifier.Verify(export, [new(3, root), new(Size, root), new(3, root)]));
        Assert.Contains("Tree size 3 is given twice", twice.Message, StringComparison.Ordinal);
    }

    private static IEnumerable<AuditExportEntry> NeverRead()
    {
        throw new InvalidOperationException("The entries were read.");
#pragma warning disable CS0162 // an iterator needs a yield
        yield break;
#pragma warning restore CS0162
    }

    private static async IAsyncEnumerable<AuditExportEntry> NeverReadAsync()
    {
        await Task.Yield();
        throw new InvalidOperationException("The entries were read.");
#pragma warning disable CS0162
        yield break;
#pragma warning restore CS0162
    }
}
