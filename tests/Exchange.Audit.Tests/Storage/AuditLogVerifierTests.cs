using Exchange.Audit.Merkle;
using Exchange.Audit.Storage;

namespace Exchange.Audit.Tests.Storage;

public class AuditLogVerifierTests
{
    private const int Size = 100;

    private static async Task<(List<AuditExportEntry> Export, MerkleLog Log)> ExportAsync(int size = Size)
    {
        var store = new InMemoryMerkleNodeStore();
        var log = new MerkleLog(store);
        await log.AppendAsync(Enumerable.Range(0, size).Select(i => MerkleLogPropertyTests.Leaf(i)).ToArray());
        var entries = await store.ReadEntriesAsync(0, size);
        return (entries.Select(e => new AuditExportEntry(e.Index, e.Leaf, e.LeafHash)).ToList(), log);
    }

    private static async Task<List<TrustedTreeHead>> HeadsAsync(MerkleLog log, IEnumerable<long> sizes)
    {
        var heads = new List<TrustedTreeHead>();
        foreach (var size in sizes)
        {
            heads.Add(new TrustedTreeHead(size, await log.RootAsync(size)));
        }

        return heads;
    }

    private static AuditExportEntry FlipByte(AuditExportEntry entry, bool rehash)
    {
        var leaf = (byte[])entry.Leaf.Clone();
        leaf[leaf.Length / 2] ^= 0x01;
        return entry with { Leaf = leaf, StoredLeafHash = rehash ? MerkleHash.LeafHash(leaf) : entry.StoredLeafHash };
    }

    [Fact]
    public async Task UntouchedExportVerifies()
    {
        var (export, log) = await ExportAsync();

        var result = AuditLogVerifier.Verify(export, Size, await log.RootAsync(Size));

        Assert.True(result.IsValid, result.Detail);
        Assert.Equal(Size, result.VerifiedSize);
        Assert.Null(result.EntryIndex);
    }

    [Fact]
    public async Task UntouchedExportVerifiesAgainstEveryCheckpointAndWithoutStoredHashes()
    {
        var (export, log) = await ExportAsync();
        var heads = await HeadsAsync(log, [Size, 1, 64, 37]); // any order

        Assert.True(AuditLogVerifier.Verify(export, heads).IsValid);
        Assert.True(AuditLogVerifier.Verify(export.Select(e => e with { StoredLeafHash = null }), heads).IsValid);
    }

    [Fact]
    public void EmptyExportVerifiesAgainstTheEmptyTree()
    {
        Assert.True(AuditLogVerifier.Verify([], 0, MerkleHash.EmptyRoot.ToArray()).IsValid);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(42)]
    [InlineData(63)]
    [InlineData(64)]
    [InlineData(99)]
    public async Task ChangingOneByteOfAnEntryNamesThatEntry(int k)
    {
        var (export, log) = await ExportAsync();
        export[k] = FlipByte(export[k], rehash: false);

        var result = AuditLogVerifier.Verify(export, Size, await log.RootAsync(Size));

        Assert.Equal(AuditLogVerificationOutcome.LeafMismatch, result.Outcome);
        Assert.Equal(k, result.EntryIndex);
        Assert.Contains($"Entry {k} ", result.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WhenSeveralEntriesChangeTheFirstIsNamed()
    {
        var (export, log) = await ExportAsync();
        export[71] = FlipByte(export[71], rehash: false);
        export[30] = FlipByte(export[30], rehash: false);

        Assert.Equal(30, AuditLogVerifier.Verify(export, Size, await log.RootAsync(Size)).EntryIndex);
    }

    [Fact]
    public async Task AnEntryRewrittenWithItsHashIsBracketedByTheCheckpointsAround()
    {
        var (export, log) = await ExportAsync();
        export[42] = FlipByte(export[42], rehash: true);

        var single = AuditLogVerifier.Verify(export, Size, await log.RootAsync(Size));
        Assert.Equal(AuditLogVerificationOutcome.RootMismatch, single.Outcome);
        Assert.Equal((0L, (long)Size), (single.SuspectStart!.Value, single.SuspectEnd!.Value));

        var everyTen = AuditLogVerifier.Verify(export, await HeadsAsync(log, Enumerable.Range(1, 10).Select(i => i * 10L)));
        Assert.Equal(AuditLogVerificationOutcome.RootMismatch, everyTen.Outcome);
        Assert.Equal((40L, 50L), (everyTen.SuspectStart!.Value, everyTen.SuspectEnd!.Value));
        Assert.Equal(40, everyTen.VerifiedSize);

        var everySize = AuditLogVerifier.Verify(export, await HeadsAsync(log, Enumerable.Range(1, Size).Select(i => (long)i)));
        Assert.Equal(AuditLogVerificationOutcome.LeafMismatch, everySize.Outcome);
        Assert.Equal(42, everySize.EntryIndex);
    }

    [Fact]
    public async Task AnAlteredStoredHashAloneIsReportedAsSuch()
    {
        var (export, log) = await ExportAsync();
        export[17] = export[17] with { StoredLeafHash = new byte[MerkleHash.Size] };

        var result = AuditLogVerifier.Verify(export, Size, await log.RootAsync(Size));

        Assert.Equal(AuditLogVerificationOutcome.StoredLeafHashMismatch, result.Outcome);
        Assert.Equal(17, result.EntryIndex);
    }

    [Fact]
    public async Task AWrongRootIsAMismatchOverTheWholeLog()
    {
        var (export, _) = await ExportAsync();

        var result = AuditLogVerifier.Verify(export, Size, new byte[MerkleHash.Size]);

        Assert.Equal(AuditLogVerificationOutcome.RootMismatch, result.Outcome);
        Assert.Equal(0, result.VerifiedSize);
    }

    [Fact]
    public async Task AMissingEntryIsNamed()
    {
        var (export, log) = await ExportAsync();
        export.RemoveAt(58);

        var result = AuditLogVerifier.Verify(export, Size, await log.RootAsync(Size));

        Assert.Equal(AuditLogVerificationOutcome.MissingEntry, result.Outcome);
        Assert.Equal(58, result.EntryIndex);
        Assert.Contains("Entry 58 is missing", result.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ATruncatedExportNamesTheFirstMissingEntry()
    {
        var (export, log) = await ExportAsync();

        var result = AuditLogVerifier.Verify(export.Take(90), Size, await log.RootAsync(Size));

        Assert.Equal(AuditLogVerificationOutcome.MissingEntry, result.Outcome);
        Assert.Equal(90, result.EntryIndex);
    }

    [Fact]
    public async Task ADuplicatedEntryIsReportedAsUnexpected()
    {
        var (export, log) = await ExportAsync();
        export.Insert(21, export[20]);

        var result = AuditLogVerifier.Verify(export, Size, await log.RootAsync(Size));

        Assert.Equal(AuditLogVerificationOutcome.UnexpectedEntry, result.Outcome);
        Assert.Equal(21, result.EntryIndex);
    }

    [Fact]
    public async Task AnInsertedEntryRenumberingTheRestIsBracketedAndNamedWithCheckpointsAtEverySize()
    {
        var (export, log) = await ExportAsync();
        export.Insert(33, new AuditExportEntry(0, MerkleLogPropertyTests.Leaf(-1)));
        var renumbered = export.Select((e, i) => e with { Index = i }).Take(Size).ToList();

        // Moved entries keep their leaf and stored hash together, so only the roots can tell.
        var single = AuditLogVerifier.Verify(renumbered, Size, await log.RootAsync(Size));
        Assert.Equal(AuditLogVerificationOutcome.RootMismatch, single.Outcome);

        var everySize = AuditLogVerifier.Verify(renumbered, await HeadsAsync(log, Enumerable.Range(1, Size).Select(i => (long)i)));
        Assert.Equal(AuditLogVerificationOutcome.LeafMismatch, everySize.Outcome);
        Assert.Equal(33, everySize.EntryIndex);
    }

    [Fact]
    public async Task EntriesBeyondTheTrustedSizeAreReportedAsExtra()
    {
        var (export, log) = await ExportAsync();

        var result = AuditLogVerifier.Verify(export, 90, await log.RootAsync(90));

        Assert.Equal(AuditLogVerificationOutcome.ExtraEntry, result.Outcome);
        Assert.Equal(90, result.EntryIndex);
        Assert.Equal(90, result.VerifiedSize);
    }

    [Fact]
    public async Task StreamingFromTheStoreInPagesFindsTheSameEntry()
    {
        var store = new InMemoryMerkleNodeStore();
        using var log = new MerkleLog(store);
        await log.AppendAsync(Enumerable.Range(0, Size).Select(i => MerkleLogPropertyTests.Leaf(i)).ToArray());
        var heads = await HeadsAsync(log, [Size]);

        Assert.True((await AuditLogVerifier.VerifyAsync(PagesAsync(store, tamperAt: -1), heads)).IsValid);
        var result = await AuditLogVerifier.VerifyAsync(PagesAsync(store, tamperAt: 77), heads);

        Assert.Equal(AuditLogVerificationOutcome.LeafMismatch, result.Outcome);
        Assert.Equal(77, result.EntryIndex);
    }

    private static async IAsyncEnumerable<AuditExportEntry> PagesAsync(IMerkleNodeStore store, long tamperAt)
    {
        for (long start = 0; ; start += 16)
        {
            var page = await store.ReadEntriesAsync(start, start + 16);
            if (page.Count == 0)
            {
                yield break;
            }

            foreach (var e in page)
            {
                var entry = new AuditExportEntry(e.Index, e.Leaf, e.LeafHash);
                yield return e.Index == tamperAt ? FlipByte(entry, rehash: false) : entry;
            }
        }
    }

    [Fact]
    public void MalformedTreeHeadsAreRejected()
    {
        var root = new byte[MerkleHash.Size];

        Assert.Throws<ArgumentException>(() => AuditLogVerifier.Verify([], []));
        Assert.Throws<ArgumentException>(() => AuditLogVerifier.Verify([], 1, new byte[3]));
        Assert.Throws<ArgumentException>(() => AuditLogVerifier.Verify([], [new(1, root), new(1, root)]));
    }
}
