using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Exchange.Api.Configuration;
using Exchange.Api.Tests.AuditReview;
using Exchange.Api.Tests.Infrastructure;
using Exchange.Api.Tests.Policy;
using Exchange.Api.Tests.RollCheck;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Exchange.Api.Tests.Cohort;

/// <summary>The cohort's smallest chunk (Exchange:Cohort:ChunkSize), so a few dozen children span several.</summary>
public static class SmallChunks
{
    public const int Size = 10;
}

public sealed class CohortChunkSqliteFactory : ExchangeApiFactory, IMovableClockFactory
{
    public CohortChunkSqliteFactory() => Settings["Exchange:Cohort:ChunkSize"] = SmallChunks.Size.ToString(CultureInfo.InvariantCulture);

    public MovableTime Time { get; } = new();

    protected override void ConfigureTestServices(IServiceCollection services) => services.AddSingleton<TimeProvider>(Time);
}

public sealed class CohortChunkPostgresFactory : ExchangeApiFactory, IMovableClockFactory
{
    public CohortChunkPostgresFactory() : base(StorageKind.Postgres) => Settings["Exchange:Cohort:ChunkSize"] = SmallChunks.Size.ToString(CultureInfo.InvariantCulture);

    public MovableTime Time { get; } = new();

    protected override void ConfigureTestServices(IServiceCollection services) => services.AddSingleton<TimeProvider>(Time);
}

/// <summary>
/// The cohort read chunk by chunk (docs/COHORT.md, "How it is computed"): with chunks of ten, a council's 33 children
/// (four chunks: 10, 10, 10, 3) come out as the virtual school would expect whatever the page size or filter, each once,
/// in child-id order, the same rows as in one chunk, and every child listed audited once per pull.
/// </summary>
public abstract class CohortChunkTestsBase<TFactory>(TFactory api) where TFactory : ExchangeApiFactory, IMovableClockFactory
{
    private static int _nextLa = 300 + Random.Shared.Next(0, 250);

    /// <summary>Children in the council's care: three full chunks and part of a fourth.</summary>
    private const int Count = 33;

    /// <summary>
    /// The positions (in child-id order) of the persistently absent: the first and last of chunks, so a filtered pull's
    /// matches sit on every boundary (0 | 9, 10 | 19 | 21 | 30, 31).
    /// </summary>
    private static readonly int[] PersistentAt = [0, 9, 10, 19, 21, 30, 31];

    /// <summary>
    /// A council's cohort. By position in child-id order: every third child (0, 3, ...) at school and placed out of borough
    /// (council 209), the next at school in the council's own area, the next with no school. A week of marks each.
    /// </summary>
    private sealed record Seeded(string La, HttpClient Council, IReadOnlyList<string> Children, HttpClient OutOfBoroughMis, HttpClient InBoroughMis)
    {
        public IEnumerable<string> At(Func<int, bool> position) => Children.Where((_, i) => position(i));

        public IReadOnlyList<string> Persistent => At(i => PersistentAt.Contains(i)).ToList();

        public IReadOnlyList<string> OutOfBorough => At(i => i % 3 == 0).ToList();

        public IReadOnlyList<string> InBorough => At(i => i % 3 == 1).ToList();

        public IReadOnlyList<string> Unschooled => At(i => i % 3 == 2).ToList();
    }

    private void Today(string date, string time = "12:00:00") =>
        api.Time.Offset = DateTimeOffset.Parse(date + "T" + time + "Z", CultureInfo.InvariantCulture) - TimeProvider.System.GetUtcNow();

    /// <summary>One cohort per fixture for the tests that only read it (seeding 33 children is most of a test's time).</summary>
    private static readonly ConditionalWeakTable<TFactory, Task<Seeded>> ReadOnly = new();

    /// <summary>The cohort the reading tests share, seeded on 2 March 2026 (the day they read on).</summary>
    private Task<Seeded> ReadOnlyCohortAsync()
    {
        Today("2026-03-02");
        return ReadOnly.GetValue(api, _ => SeedAsync());
    }

    private CohortOptions CohortOptions => api.Services.GetRequiredService<IOptions<ExchangeOptions>>().Value.Cohort;

    private async Task<Seeded> SeedAsync()
    {
        // The setting reached the service: otherwise every test below would read one chunk and prove nothing about chunks.
        Assert.Equal(SmallChunks.Size, CohortOptions.ChunkSize);
        var la = Interlocked.Increment(ref _nextLa).ToString(CultureInfo.InvariantCulture);
        var created = await api.Admin.PostAsJsonAsync("/v1/organisations", new { id = "la:" + la, name = "Chunk Council " + la, laNumber = la });
        Assert.True(created.StatusCode == HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
        var council = api.WithToken(api.Issuer.Token("la:" + la, ["virtual-school"]), "attendance-monitoring");

        var children = new List<string>();
        for (var i = 0; i < Count; i++)
        {
            children.Add(await Problem.ChildIdAsync(await council.RegisterAsync(new { upn = TestIdentifiers.NewUpn() }, "2025-09-01"), HttpStatusCode.Created));
        }

        // Roles by position in child-id order, so where each kind of child falls among the chunks is known.
        children.Sort(StringComparer.Ordinal);
        var (outOrg, outMis) = await api.NewSchoolAsync("209");
        var (inOrg, inMis) = await api.NewSchoolAsync(la);
        var cohort = new Seeded(la, council, children, outMis, inMis);
        foreach (var (child, org) in cohort.OutOfBorough.Select(c => (c, outOrg)).Concat(cohort.InBorough.Select(c => (c, inOrg))))
        {
            var enrolled = await council.PostAsJsonAsync("/v1/enrolments", new { childId = child, urn = org[7..], startDate = "2025-09-01" });
            Assert.True(enrolled.StatusCode == HttpStatusCode.Created, await enrolled.Content.ReadAsStringAsync());
        }

        foreach (var child in cohort.OutOfBorough)
        {
            Assert.Equal(HttpStatusCode.Created, (await council.PostAsJsonAsync($"/v1/children/{child}/placements", new { la = "209", startDate = "2025-09-01" })).StatusCode);
        }

        // A week of marks: present, except the persistently absent, away one day in five (20%: persistent, not severe).
        await PostMarksAsync(outMis, cohort.OutOfBorough, "2026-02-23", "2026-02-27", cohort.Persistent, "2026-02-25");
        await PostMarksAsync(inMis, cohort.InBorough, "2026-02-23", "2026-02-27", cohort.Persistent, "2026-02-25");
        return cohort;
    }

    /// <summary>Both sessions of each weekday from <paramref name="from"/> to <paramref name="to"/> for each child, in one batch: present, except <paramref name="absentees"/> on <paramref name="absentDay"/> (O).</summary>
    private static async Task PostMarksAsync(HttpClient mis, IEnumerable<string> children, string from, string to, IReadOnlyList<string>? absentees = null, string? absentDay = null) =>
        await CohortMarks.PostAsync(mis, children.SelectMany(child => CohortMarks.Weekdays(child, from, to, date => date == absentDay && absentees!.Contains(child))).ToList());

    private static async Task<JsonElement> PageAsync(HttpClient client, string query)
    {
        var response = await client.GetAsync("/v1/cohort?" + query);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    private static List<JsonElement> Items(JsonElement page) => page.GetProperty("items").EnumerateArray().ToList();

    private static string? Next(JsonElement page) => page.GetProperty("next").ValueKind == JsonValueKind.String ? page.GetProperty("next").GetString() : null;

    /// <summary>Every page, following the cursor until a page has no next (at most one more page than the children, so a cursor that loops fails).</summary>
    private static async Task<List<JsonElement>> PagesAsync(HttpClient client, string query, int limit)
    {
        var pages = new List<JsonElement>();
        string? cursor = null;
        do
        {
            Assert.True(pages.Count <= Count, "the cursor never ends");
            var parts = new[] { query, "limit=" + limit, cursor is null ? "" : "cursor=" + cursor }.Where(p => p.Length > 0);
            var page = await PageAsync(client, string.Join('&', parts));
            Assert.True(Items(page).Count <= limit, $"a page of {Items(page).Count} rows for limit {limit}");
            pages.Add(page);
            cursor = Next(page);
        }
        while (cursor is not null);
        return pages;
    }

    private static async Task<string[]> AllIdsAsync(HttpClient client, string query, int limit) => Ids((await PagesAsync(client, query, limit)).SelectMany(Items));

    private static string[] Ids(IEnumerable<JsonElement> rows) => rows.Select(r => r.GetProperty("childId").GetString()!).ToArray();

    private static string[] Flags(JsonElement row) => row.GetProperty("flags").EnumerateArray().Select(f => f.GetString()!).ToArray();

    /// <summary>
    /// Runs <paramref name="read"/> with another chunk size. The options are read per request, so changing the bound
    /// value is the same service reading in chunks of <paramref name="size"/>; a second host on the same store would be
    /// a second writer to the same audit log. The tests of a class run one at a time.
    /// </summary>
    private async Task<T> WithChunkSizeAsync<T>(int size, Func<Task<T>> read)
    {
        var options = CohortOptions;
        var before = options.ChunkSize;
        options.ChunkSize = size;
        try
        {
            return await read();
        }
        finally
        {
            options.ChunkSize = before;
        }
    }

    /// <summary>The <c>cohort.list</c> events the council's pulls wrote, grouped by request, each with its index in the log.</summary>
    private async Task<List<IGrouping<string, (long Index, JsonElement Event)>>> PullsAsync(string la)
    {
        // Newest first, at most 200: the council's registrations, enrolments, placements and pulls here are fewer.
        var events = await api.IndexedEventsAsync("org=la:" + la);
        Assert.True(events.Count < 200, "more events than one page of the audit search");
        return events.Where(e => e.Event.GetProperty("action").GetString() == "cohort.list").OrderBy(e => e.Index)
            .GroupBy(e => e.Event.GetProperty("request_id").GetString()!).ToList();
    }

    /// <summary>A pull's events: one per child listed, each with 200, and the request's own event (no child) last, with 200.</summary>
    private static void AssertRecorded(IGrouping<string, (long Index, JsonElement Event)> pull, IReadOnlyList<string> listed)
    {
        var named = pull.Where(e => e.Event.GetProperty("child_id").ValueKind == JsonValueKind.String).ToList();
        Assert.Equal(listed.Order(StringComparer.Ordinal), named.Select(e => e.Event.GetProperty("child_id").GetString()!).Order(StringComparer.Ordinal));
        Assert.All(named, e => Assert.Equal((200, "permit"), (e.Event.GetProperty("status").GetInt32(), e.Event.GetProperty("decision").GetString())));
        var own = Assert.Single(pull, e => e.Event.GetProperty("child_id").ValueKind == JsonValueKind.Null);
        Assert.Equal(200, own.Event.GetProperty("status").GetInt32());
        Assert.Equal(pull.Max(e => e.Index), own.Index);
    }

    [SkippableFact]
    public async Task TheWholeCohortReadInChunksIsEveryChildOnceInIdOrderWithTheRowsOfOneChunk()
    {
        var cohort = await ReadOnlyCohortAsync();

        var page = await PageAsync(cohort.Council, "limit=5000");
        var rows = Items(page);
        Assert.Null(Next(page));
        Assert.Equal(cohort.Children, Ids(rows));
        // Each row is its own child's, wherever its chunk: school council, placement, marks and flags.
        foreach (var (row, i) in rows.Select((r, i) => (r, i)))
        {
            var (schoolCouncil, placementCouncil) = (i % 3) switch { 0 => ("209", "209"), 1 => (cohort.La, null), _ => (null, null) };
            Assert.Equal(schoolCouncil, row.GetProperty("schoolCouncil").GetString());
            Assert.Equal(placementCouncil, row.GetProperty("placementCouncil").GetString());
            Assert.Equal(i % 3 == 2 ? 0 : 10, row.GetProperty("possibleSessions").GetInt32());
            Assert.Equal(PersistentAt.Contains(i), Flags(row).Contains("persistent-absence"));
            Assert.Equal(i % 3 == 2, Flags(row).Contains("no-current-school"));
        }

        // The same request read in one chunk (the default size) answers the same rows, field for field.
        var whole = await WithChunkSizeAsync(new CohortOptions().ChunkSize, () => PageAsync(cohort.Council, "limit=5000"));
        Assert.Null(Next(whole));
        Assert.Equal(Items(whole).Select(r => r.GetRawText()), rows.Select(r => r.GetRawText()));
    }

    [SkippableFact]
    public async Task PagesAcrossChunkBoundariesNeitherRepeatNorSkipAChild()
    {
        var cohort = await ReadOnlyCohortAsync();

        // 7 and 11 cut chunks anywhere; 10 is a chunk exactly (each chunk fills its page); 15 ends a page mid-chunk
        // after a full one; 30 is whole chunks; 33 is everything, ending in the short last chunk.
        foreach (var limit in new[] { 7, 10, 11, 15, 30, 33 })
        {
            var pages = await PagesAsync(cohort.Council, "", limit);
            Assert.Equal(cohort.Children, Ids(pages.SelectMany(Items)));
            // Every page full but the last, which holds the rest (33 fills no chunk, so the service knows it is the last).
            Assert.Equal(cohort.Children.Chunk(limit).Select(c => c.Length), pages.Select(p => Items(p).Count));
            Assert.All(pages.SkipLast(1), p => Assert.NotNull(Next(p)));
        }

        // A page that ends exactly where a chunk ends: it says another follows, and the next one starts at the following chunk.
        var first = await PageAsync(cohort.Council, "limit=10");
        Assert.Equal(cohort.Children.Take(10), Ids(Items(first)));
        var second = await PageAsync(cohort.Council, "limit=10&cursor=" + Next(first));
        Assert.Equal(cohort.Children.Skip(10).Take(10), Ids(Items(second)));
    }

    [SkippableFact]
    public async Task AFilteredPullWhoseMatchesSpreadOverChunksFindsEachMatchOnceAndNothingElse()
    {
        var cohort = await ReadOnlyCohortAsync();
        var outOfBoroughAndPersistent = cohort.OutOfBorough.Intersect(cohort.Persistent).ToList();
        Assert.Equal(4, outOfBoroughAndPersistent.Count);

        // Limit 1: a page per match, each cursor at a chunk's edge; 3: a page whose last match is a chunk's last child
        // (19 | 21, 30 | 31); 500: all in one page.
        foreach (var limit in new[] { 1, 3, 500 })
        {
            Assert.Equal(cohort.Persistent, await AllIdsAsync(cohort.Council, "flag=persistent-absence", limit));
        }

        Assert.Equal(cohort.OutOfBorough, await AllIdsAsync(cohort.Council, "schoolLa=209", 4));
        Assert.Equal(cohort.InBorough, await AllIdsAsync(cohort.Council, "schoolLa=" + cohort.La, 4));
        Assert.Equal(cohort.Unschooled, await AllIdsAsync(cohort.Council, "flag=no-current-school", 4));
        Assert.Equal(outOfBoroughAndPersistent, await AllIdsAsync(cohort.Council, "flag=persistent-absence&schoolLa=209", 1));

        Assert.Empty(await AllIdsAsync(cohort.Council, "flag=severe-absence", 3));
    }

    [SkippableFact]
    public async Task EachChildListedAcrossChunksIsRecordedOnceAndNoneThePageLeftOut()
    {
        Today("2026-03-02");
        var cohort = await SeedAsync();

        // The whole cohort, four chunks recorded ahead of one answer.
        Assert.Equal(cohort.Children, Ids(Items(await PageAsync(cohort.Council, "limit=5000"))));
        var pulls = await PullsAsync(cohort.La);
        AssertRecorded(Assert.Single(pulls), cohort.Children);

        // A page ending in the middle of the second chunk: the first chunk and half the second, none of the rest.
        Assert.Equal(cohort.Children.Take(15), Ids(Items(await PageAsync(cohort.Council, "limit=15"))));
        pulls = await PullsAsync(cohort.La);
        Assert.Equal(2, pulls.Count);
        AssertRecorded(pulls[1], cohort.Children.Take(15).ToList());

        // Filtered: the first three matches (0, 9 | 10), none of the children read beside them, nor the match (19) the
        // second chunk held beyond the page.
        var filtered = await PageAsync(cohort.Council, "flag=persistent-absence&limit=3");
        Assert.Equal(cohort.Persistent.Take(3), Ids(Items(filtered)));
        pulls = await PullsAsync(cohort.La);
        Assert.Equal(3, pulls.Count);
        AssertRecorded(pulls[2], cohort.Persistent.Take(3).ToList());

        // Over all three pulls, each child's events: 1 + (1 if among the first 15) + (1 if among the first three matches).
        foreach (var (child, i) in cohort.Children.Select((c, i) => (c, i)))
        {
            var expected = 1 + (i < 15 ? 1 : 0) + (cohort.Persistent.Take(3).Contains(child) ? 1 : 0);
            Assert.Equal(expected, pulls.Sum(p => p.Count(e => e.Event.GetProperty("child_id").GetString() == child)));
        }
    }

    [SkippableFact]
    public async Task AnIncrementalPullFindsTheChangesInAnEarlyAndALateChunk()
    {
        Today("2026-03-03", "09:00:00");
        var cohort = await SeedAsync();
        Today("2026-03-03", "10:00:00");
        const string since = "updatedSince=2026-03-03T09:30:00Z";
        Assert.Empty(await AllIdsAsync(cohort.Council, since, 500));

        // The last child of the first chunk (at school out of borough) gets a mark; the last child of all, in the short
        // last chunk (no school), a placement. A chunk that began one child too early would list the first twice, one that
        // began one child too late would miss the second.
        Today("2026-03-03", "11:00:00");
        var (early, late) = (cohort.Children[SmallChunks.Size - 1], cohort.Children[^1]);
        await PostMarksAsync(cohort.OutOfBoroughMis, [early], "2026-03-02", "2026-03-02");
        Assert.Equal(HttpStatusCode.Created, (await cohort.Council.PostAsJsonAsync($"/v1/children/{late}/placements", new { la = "202", startDate = "2026-03-03" })).StatusCode);

        foreach (var limit in new[] { 1, 2, 500 })
        {
            Assert.Equal([early, late], await AllIdsAsync(cohort.Council, since, limit));
        }

        var changed = Items(await PageAsync(cohort.Council, since + "&limit=500"));
        Assert.Equal(12, changed[0].GetProperty("possibleSessions").GetInt32());
        Assert.Equal("202", changed[1].GetProperty("placementCouncil").GetString());
    }
}

public sealed class SqliteCohortChunkTests(CohortChunkSqliteFactory api) : CohortChunkTestsBase<CohortChunkSqliteFactory>(api), IClassFixture<CohortChunkSqliteFactory>;

public sealed class PostgresCohortChunkTests : CohortChunkTestsBase<CohortChunkPostgresFactory>, IClassFixture<CohortChunkPostgresFactory>
{
    public PostgresCohortChunkTests(CohortChunkPostgresFactory api) : base(api) => Postgres.SkipUnlessAvailable();
}
