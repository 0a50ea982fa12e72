using System.Text;
using Exchange.Audit.Merkle;
using Exchange.Audit.Storage;

namespace Exchange.Audit.Tests.Storage;

/// <summary>Group commit: many requests, few transactions, each request waiting for its own durable entry.</summary>
public sealed class GroupCommitAppenderTests
{
    [Fact]
    public async Task ConcurrentAppendsShareTransactionsAndEachGetsItsDurableIndex()
    {
        var store = new SlowStore(new InMemoryMerkleNodeStore());
        using var log = new MerkleLog(store);
        await using var appender = new GroupCommitAppender(log);

        var leaves = Enumerable.Range(0, 300).Select(i => Encoding.UTF8.GetBytes($"{{\"i\":{i}}}")).ToList();
        var indexes = await Task.WhenAll(leaves.Select(l => Task.Run(() => appender.AppendAsync(l))));

        // Every request got a distinct index, all of them are in the log, and the log holds exactly its own leaf there.
        Assert.Equal(Enumerable.Range(0, 300).Select(i => (long)i), indexes.Order());
        var stored = await store.ReadEntriesAsync(0, 300);
        for (var i = 0; i < 300; i++)
        {
            Assert.Equal(leaves[i], stored[(int)indexes[i]].Leaf);
        }

        Assert.True(appender.Batches < 300, $"group commit made {appender.Batches} transactions for 300 appends");
        Assert.Equal(MerkleTree.RootHash(stored.Select(e => MerkleHash.LeafHash(e.Leaf)).ToList()), await log.RootAsync(300));
    }

    [Fact]
    public async Task ABatchRequestsEntriesGoInTogetherInTheirOrderInAsFewTransactionsAsTheLimitAllows()
    {
        var store = new SlowStore(new InMemoryMerkleNodeStore());
        using var log = new MerkleLog(store);
        await using var appender = new GroupCommitAppender(log, maxBatch: 100);
        await appender.AppendAsync("{\"before\":true}"u8.ToArray());
        var before = appender.Batches;

        var leaves = Enumerable.Range(0, 250).Select(i => Encoding.UTF8.GetBytes($"{{\"child\":{i}}}")).ToList();
        var indexes = await appender.AppendManyAsync(leaves);

        Assert.Equal(Enumerable.Range(1, 250).Select(i => (long)i), indexes);
        var stored = await store.ReadEntriesAsync(1, 251);
        Assert.Equal(leaves, stored.Select(e => e.Leaf));
        // 250 entries at 100 a transaction: three, or four when the writer woke while the entries were still being queued.
        Assert.InRange(appender.Batches - before, 3, 4);
    }

    [Fact]
    public async Task ABatchRequestWithdrawnWhileAnotherTransactionIsOpenWritesNoneOfItsEntries()
    {
        var store = new SlowStore(new InMemoryMerkleNodeStore()) { Hold = new SemaphoreSlim(0) };
        using var log = new MerkleLog(store);
        await using var appender = new GroupCommitAppender(log);
        var first = appender.AppendAsync("{\"first\":true}"u8.ToArray());
        await store.Entered.WaitAsync();

        using var giveUp = new CancellationTokenSource();
        var withdrawn = appender.AppendManyAsync([.. Enumerable.Range(0, 10).Select(i => Encoding.UTF8.GetBytes($"{{\"withdrawn\":{i}}}"))], giveUp.Token);
        await giveUp.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => withdrawn);

        store.Hold.Release(int.MaxValue / 2);
        Assert.Equal(0, await first);
        Assert.Equal(1, await appender.AppendAsync("{\"next\":true}"u8.ToArray()));
        Assert.Equal(2, await log.GetSizeAsync());
    }

    [Fact]
    public async Task AFailedTransactionFailsEveryRequestInItAndLeavesNothingBehind()
    {
        var store = new SlowStore(new InMemoryMerkleNodeStore()) { Fail = true };
        using var log = new MerkleLog(store);
        await using var appender = new GroupCommitAppender(log);

        var attempts = Enumerable.Range(0, 20).Select(i => appender.AppendAsync(Encoding.UTF8.GetBytes($"{{\"i\":{i}}}"))).ToList();
        foreach (var attempt in attempts)
        {
            await Assert.ThrowsAsync<IOException>(() => attempt);
        }

        Assert.Equal(0, await log.GetSizeAsync());

        // The store recovers; the log carries on from where it durably stood.
        store.Fail = false;
        Assert.Equal(0, await appender.AppendAsync("{\"after\":true}"u8.ToArray()));
        Assert.Equal(1, await log.GetSizeAsync());
    }

    [Fact]
    public async Task AnEntryWithdrawnBeforeItsBatchIsNeverWritten()
    {
        var store = new SlowStore(new InMemoryMerkleNodeStore()) { Hold = new SemaphoreSlim(0) };
        using var log = new MerkleLog(store);
        await using var appender = new GroupCommitAppender(log);

        // The first entry's transaction is held open; the second waits behind it and then gives up (a request timing out).
        var first = appender.AppendAsync("{\"first\":true}"u8.ToArray());
        await store.Entered.WaitAsync();
        using var giveUp = new CancellationTokenSource();
        var withdrawn = appender.AppendAsync("{\"withdrawn\":true}"u8.ToArray(), giveUp.Token);
        await giveUp.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => withdrawn);

        store.Hold.Release(int.MaxValue / 2);
        Assert.Equal(0, await first);
        Assert.Equal(1, await appender.AppendAsync("{\"third\":true}"u8.ToArray()));
        var stored = await store.ReadEntriesAsync(0, 10);
        Assert.Equal(2, stored.Count);
        Assert.DoesNotContain(stored, e => Encoding.UTF8.GetString(e.Leaf).Contains("withdrawn", StringComparison.Ordinal));
    }

    [Fact]
    public async Task TwoWritersOnOneStoreBothGetEveryEntryIn()
    {
        // Two instances of the service on one database: each appender's log goes stale whenever the other appends.
        var store = new InMemoryMerkleNodeStore();
        using var logA = new MerkleLog(store);
        using var logB = new MerkleLog(store);
        await using var a = new GroupCommitAppender(logA);
        await using var b = new GroupCommitAppender(logB);
        for (var i = 0; i < 20; i++)
        {
            await a.AppendAsync(Encoding.UTF8.GetBytes($"{{\"a\":{i}}}"));
            await b.AppendAsync(Encoding.UTF8.GetBytes($"{{\"b\":{i}}}"));
        }

        Assert.Equal(40, await store.GetSizeAsync());
        var stored = await store.ReadEntriesAsync(0, 40);
        Assert.Equal(MerkleTree.RootHash(stored.Select(e => MerkleHash.LeafHash(e.Leaf)).ToList()), await logA.RootAsync(40));
    }

    [Fact]
    public async Task AClosedAppenderRefusesNewEntries()
    {
        using var log = new MerkleLog(new InMemoryMerkleNodeStore());
        var appender = new GroupCommitAppender(log);
        await appender.DisposeAsync();
        await Assert.ThrowsAsync<ObjectDisposedException>(() => appender.AppendAsync("{}"u8.ToArray()));
    }

    [Fact]
    public async Task AWriterThatKeepsLosingTheRaceGivesUpAfterFiveTransactions()
    {
        var store = new ConflictingStore(new InMemoryMerkleNodeStore()) { ConflictsLeft = int.MaxValue };
        using var log = new MerkleLog(store);
        await using var appender = new GroupCommitAppender(log);

        await Assert.ThrowsAsync<MerkleLogConflictException>(() => appender.AppendAsync("{}"u8.ToArray()));

        Assert.Equal(5, store.Attempts);
        Assert.Equal(5, appender.Batches);
        Assert.Equal(0, await log.GetSizeAsync());
    }

    [Fact]
    public async Task AWriterThatLosesTheRaceFourTimesGetsInOnTheFifth()
    {
        var store = new ConflictingStore(new InMemoryMerkleNodeStore()) { ConflictsLeft = 4 };
        using var log = new MerkleLog(store);
        await using var appender = new GroupCommitAppender(log);

        Assert.Equal(0, await appender.AppendAsync("{}"u8.ToArray()));

        Assert.Equal(5, store.Attempts);
        Assert.Equal(5, appender.Batches);
        Assert.Equal(1, await log.GetSizeAsync());
    }

    [Fact]
    public async Task NoTransactionHoldsMoreEntriesThanTheLimit()
    {
        var store = new SlowStore(new InMemoryMerkleNodeStore());
        using var log = new MerkleLog(store);
        await using var appender = new GroupCommitAppender(log, maxBatch: 1);

        var indexes = await appender.AppendManyAsync([.. Enumerable.Range(0, 3).Select(i => Encoding.UTF8.GetBytes($"{{\"i\":{i}}}"))]);

        Assert.Equal([0L, 1L, 2L], indexes);
        Assert.Equal(3, appender.Batches);
    }

    [Fact]
    public async Task EntriesQueuedBeforeTheAppenderClosesAreStillWritten()
    {
        var store = new SlowStore(new InMemoryMerkleNodeStore()) { Hold = new SemaphoreSlim(0) };
        using var log = new MerkleLog(store);
        var appender = new GroupCommitAppender(log);
        var first = appender.AppendAsync("{\"first\":true}"u8.ToArray());
        await store.Entered.WaitAsync();
        var queued = appender.AppendAsync("{\"queued\":true}"u8.ToArray());

        var closing = appender.DisposeAsync();
        store.Hold.Release(int.MaxValue / 2);
        await closing;

        Assert.Equal(0, await first);
        Assert.Equal(1, await queued);
        Assert.Equal(2, await log.GetSizeAsync());
    }

    [Fact]
    public async Task ArgumentsAreCheckedBeforeAnythingIsQueued()
    {
        using var log = new MerkleLog(new InMemoryMerkleNodeStore());
        Assert.Throws<ArgumentNullException>(() => new GroupCommitAppender(null!));
        Assert.Throws<ArgumentOutOfRangeException>(() => new GroupCommitAppender(log, maxBatch: 0));
        await using var appender = new GroupCommitAppender(log);

        await Assert.ThrowsAsync<ArgumentNullException>(() => appender.AppendAsync(null!));
        await Assert.ThrowsAsync<ArgumentNullException>(() => appender.AppendManyAsync(null!));
        var ex = await Assert.ThrowsAsync<ArgumentException>(() => appender.AppendManyAsync(["{}"u8.ToArray(), null!]));

        Assert.Contains("position 1", ex.Message, StringComparison.Ordinal);
        Assert.Empty(await appender.AppendManyAsync([]));
        Assert.Equal(0, await appender.AppendAsync("{}"u8.ToArray())); // the valid first entry of the refused request was not queued
    }

    /// <summary>Refuses the first appends as if another writer had always just appended.</summary>
    private sealed class ConflictingStore(InMemoryMerkleNodeStore inner) : IMerkleNodeStore
    {
        public int ConflictsLeft { get; set; }

        public int Attempts { get; private set; }

        public Task<long> GetSizeAsync(CancellationToken ct = default) => inner.GetSizeAsync(ct);

        public Task<IReadOnlyList<byte[]>> ReadHashesAsync(IReadOnlyList<MerkleNodeId> nodes, CancellationToken ct = default) => inner.ReadHashesAsync(nodes, ct);

        public Task<IReadOnlyList<MerkleLogEntry>> ReadEntriesAsync(long startIndex, long endIndex, CancellationToken ct = default) =>
            inner.ReadEntriesAsync(startIndex, endIndex, ct);

        public Task AppendAsync(MerkleAppendBatch batch, CancellationToken ct = default)
        {
            Attempts++;
            if (ConflictsLeft > 0)
            {
                ConflictsLeft--;
                return Task.FromException(new MerkleLogConflictException());
            }

            return inner.AppendAsync(batch, ct);
        }
    }

    /// <summary>A store whose appends take a moment (as a database commit does), and can be made to fail.</summary>
    private sealed class SlowStore(InMemoryMerkleNodeStore inner) : IMerkleNodeStore
    {
        public volatile bool Fail;

        /// <summary>When set, each append waits for it after signalling <see cref="Entered"/>.</summary>
        public SemaphoreSlim? Hold { get; init; }

        public SemaphoreSlim Entered { get; } = new(0);

        public Task<long> GetSizeAsync(CancellationToken ct = default) => inner.GetSizeAsync(ct);

        public Task<IReadOnlyList<byte[]>> ReadHashesAsync(IReadOnlyList<MerkleNodeId> nodes, CancellationToken ct = default) => inner.ReadHashesAsync(nodes, ct);

        public Task<IReadOnlyList<MerkleLogEntry>> ReadEntriesAsync(long startIndex, long endIndex, CancellationToken ct = default) =>
            inner.ReadEntriesAsync(startIndex, endIndex, ct);

        public async Task AppendAsync(MerkleAppendBatch batch, CancellationToken ct = default)
        {
            if (Hold is not null)
            {
                Entered.Release();
                await Hold.WaitAsync(ct);
            }

            await Task.Delay(5, ct);
            if (Fail)
            {
                throw new IOException("The disk is full.");
            }

            await inner.AppendAsync(batch, ct);
        }
    }
}
