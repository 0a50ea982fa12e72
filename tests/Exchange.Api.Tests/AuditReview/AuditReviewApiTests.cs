using System.Net;
using System.Text.Json;
using Exchange.Api.Tests.Infrastructure;
using Exchange.Audit.Checkpoints;
using Exchange.Audit.Merkle;
using Exchange.Audit.Offline;
using Microsoft.Extensions.DependencyInjection;

namespace Exchange.Api.Tests.AuditReview;

/// <summary>The DPO endpoints: a signed checkpoint, proofs and an export that verify with the library alone.</summary>
public abstract class AuditReviewApiTestsBase<TFactory>(TFactory api) where TFactory : ExchangeApiFactory
{
    [SkippableFact]
    public async Task TheCheckpointVerifiesWithThePublishedKeyAndTheProofsWithTheLibrary()
    {
        await Problem.ChildIdAsync(await api.Council202.RegisterAsync(new { nhsNumber = TestIdentifiers.NewNhs() }), HttpStatusCode.Created);
        var dpo = api.DpoOf();
        var key = (await dpo.GetStringAsync("/v1/audit/verifier-key")).Trim();
        var verifier = CheckpointVerifier.Parse(key);
        var older = Assert.IsType<Checkpoint>(verifier.Verify(await dpo.GetStringAsync("/v1/audit/checkpoint")).Checkpoint);

        await Problem.ChildIdAsync(await api.Council209.RegisterAsync(new { nhsNumber = TestIdentifiers.NewNhs() }), HttpStatusCode.Created);
        var note = await dpo.GetStringAsync("/v1/audit/checkpoint");
        var verified = verifier.Verify(note);
        Assert.True(verified.IsValid, verified.ToString());
        var newer = verified.Checkpoint!;
        Assert.True(newer.TreeSize > older.TreeSize);

        // Every entry's inclusion proof verifies against the signed root.
        var entries = JsonDocument.Parse(await dpo.GetStringAsync($"/v1/audit/entries?start=0&end={newer.TreeSize}")).RootElement.GetProperty("entries");
        Assert.Equal(newer.TreeSize, entries.GetArrayLength());
        foreach (var entry in entries.EnumerateArray())
        {
            var index = entry.GetProperty("index").GetInt64();
            var leaf = Convert.FromBase64String(entry.GetProperty("leaf").GetString()!);
            var proof = JsonDocument.Parse(await dpo.GetStringAsync($"/v1/audit/proofs/inclusion?index={index}&treeSize={newer.TreeSize}")).RootElement;
            Assert.Equal(index, proof.GetProperty("leafIndex").GetInt64());
            Assert.Equal(newer.TreeSize, proof.GetProperty("treeSize").GetInt64());
            var path = proof.GetProperty("proof").EnumerateArray().Select(p => Convert.FromBase64String(p.GetString()!)).ToList();
            Assert.True(MerkleProofVerifier.VerifyInclusion(index, newer.TreeSize, MerkleHash.LeafHash(leaf), path, newer.RootHash.ToArray()).IsValid, $"entry {index}");
            Assert.Equal(entry.GetProperty("event").GetProperty("request_id").GetString(),
                JsonDocument.Parse(leaf).RootElement.GetProperty("request_id").GetString());
        }

        // The newer checkpoint extends the older one.
        var consistency = JsonDocument.Parse(await dpo.GetStringAsync($"/v1/audit/proofs/consistency?from={older.TreeSize}&to={newer.TreeSize}")).RootElement;
        var hashes = consistency.GetProperty("proof").EnumerateArray().Select(p => Convert.FromBase64String(p.GetString()!)).ToList();
        Assert.True(MerkleProofVerifier.VerifyConsistency(older.TreeSize, newer.TreeSize, hashes, older.RootHash.ToArray(), newer.RootHash.ToArray()).IsValid);
    }

    [SkippableFact]
    public async Task TheExportVerifiesOfflineAgainstTheSignedCheckpoint()
    {
        await Problem.ChildIdAsync(await api.Council202.RegisterAsync(new { nhsNumber = TestIdentifiers.NewNhs() }), HttpStatusCode.Created);
        var dpo = api.DpoOf();
        var note = await dpo.GetStringAsync("/v1/audit/checkpoint");
        var key = (await dpo.GetStringAsync("/v1/audit/verifier-key")).Trim();
        var export = await dpo.GetAsync("/v1/audit/export");
        Assert.Equal("application/x-ndjson", export.Content.Headers.ContentType?.MediaType);
        var lines = await export.Content.ReadAsStringAsync();
        Assert.Equal(note.Split('\n')[1], export.Headers.GetValues("X-Audit-Tree-Size").Single());

        var result = OfflineAuditVerifier.Verify(new StringReader(lines), note, key);
        Assert.True(result.IsValid, result.Message);
    }

    [SkippableFact]
    public async Task ACouncilsDpoSeesItsOwnAndItsChildrensEventsAndStillVerifiesTheWholeLog()
    {
        var camdenChild = await Problem.ChildIdAsync(await api.Council202.RegisterAsync(new { nhsNumber = TestIdentifiers.NewNhs() }), HttpStatusCode.Created);
        var lewishamChild = await Problem.ChildIdAsync(await api.Council209.RegisterAsync(new { nhsNumber = TestIdentifiers.NewNhs() }), HttpStatusCode.Created);

        var lewishamDpo = api.DpoOf("la:209");
        Assert.Empty(await api.EventsAsync($"childId={camdenChild}", dpoOrg: "la:209"));
        Assert.NotEmpty(await api.EventsAsync($"childId={lewishamChild}", dpoOrg: "la:209"));
        Assert.NotEmpty(await api.EventsAsync($"childId={camdenChild}")); // the operator's DPO sees all

        var note = await lewishamDpo.GetStringAsync("/v1/audit/checkpoint");
        var lines = await lewishamDpo.GetStringAsync("/v1/audit/export");
        Assert.DoesNotContain(camdenChild, DecodedLeaves(lines), StringComparison.Ordinal);
        Assert.Contains(lewishamChild, DecodedLeaves(lines), StringComparison.Ordinal);
        Assert.Contains("\"withheld\":true", lines, StringComparison.Ordinal);
        var result = OfflineAuditVerifier.Verify(new StringReader(lines), note, (await lewishamDpo.GetStringAsync("/v1/audit/verifier-key")).Trim());
        Assert.True(result.IsValid, result.Message);
        Assert.Contains("withheld", result.Message, StringComparison.Ordinal);

        var entries = JsonDocument.Parse(await lewishamDpo.GetStringAsync($"/v1/audit/entries?start=0&end={note.Split('\n')[1]}")).RootElement.GetProperty("entries");
        Assert.All(entries.EnumerateArray().Where(e => e.GetProperty("withheld").ValueKind == JsonValueKind.True),
            e => Assert.Equal(JsonValueKind.Null, e.GetProperty("leaf").ValueKind));
    }

    [SkippableFact]
    public async Task OnlyADpoDeclaringAuditReviewMayUseTheLogAndEachRefusalIsRecorded()
    {
        foreach (var path in new[] { "/v1/audit/checkpoint", "/v1/audit/verifier-key", "/v1/audit/entries?start=0&end=1", "/v1/audit/proofs/inclusion?index=0&treeSize=1", "/v1/audit/proofs/consistency?from=1&to=1", "/v1/audit/events", "/v1/audit/export" })
        {
            await Problem.AssertAsync(await api.Admin.GetAsync(path), HttpStatusCode.Forbidden, "forbidden");
            await Problem.AssertAsync(await api.Council202.GetAsync(path), HttpStatusCode.Forbidden, "forbidden");
            var wrongPurpose = api.WithToken(api.Issuer.Token("operator:exchange", "dpo"), "safeguarding");
            await Problem.AssertAsync(await wrongPurpose.GetAsync(path), HttpStatusCode.Forbidden, "purpose-not-permitted");
        }

        var denied = await api.EventsAsync("decision=deny");
        Assert.Contains(denied, e => e.GetProperty("action").GetString() == "audit.export" && e.GetProperty("actor").GetProperty("org").GetString() == "operator:exchange"
            && e.GetProperty("purpose").GetString() == "safeguarding");
        Assert.Contains(denied, e => e.GetProperty("action").GetString() == "audit.entries" && e.GetProperty("actor").GetProperty("roles")[0].GetString() == "exchange-admin");
    }

    [SkippableTheory]
    [InlineData("/v1/audit/entries?start=1&end=1")]
    [InlineData("/v1/audit/entries?start=-1&end=1")]
    [InlineData("/v1/audit/entries?start=0&end=1000000000")]
    [InlineData("/v1/audit/entries?start=0")]
    [InlineData("/v1/audit/proofs/inclusion?index=1&treeSize=1")]
    [InlineData("/v1/audit/proofs/inclusion?index=0&treeSize=1000000000")]
    [InlineData("/v1/audit/proofs/inclusion?treeSize=1")]
    [InlineData("/v1/audit/proofs/consistency?from=0&to=1")]
    [InlineData("/v1/audit/proofs/consistency?from=2&to=1")]
    [InlineData("/v1/audit/proofs/consistency?from=1&to=1000000000")]
    [InlineData("/v1/audit/events?decision=maybe")]
    [InlineData("/v1/audit/events?childId=9434765919")]
    [InlineData("/v1/audit/events?purpose=curiosity")]
    [InlineData("/v1/audit/events?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z")]
    [InlineData("/v1/audit/export?start=5&end=1")]
    public async Task BadAuditQueriesGetAClearError(string path)
    {
        var problem = await Problem.AssertAsync(await api.DpoOf().GetAsync(path), HttpStatusCode.BadRequest, "audit-query-invalid");
        Assert.DoesNotContain("9434765919", problem.ToString(), StringComparison.Ordinal); // never echoed
    }

    [SkippableFact]
    public async Task EachDpoReadRecordsTheKindOfAuditDataItReleased()
    {
        await Problem.ChildIdAsync(await api.Council202.RegisterAsync(new { nhsNumber = TestIdentifiers.NewNhs() }), HttpStatusCode.Created);
        var dpo = api.WithToken(api.Issuer.Token("operator:exchange", "dpo"), "audit-review");
        var sub = "fields-check-" + Guid.NewGuid().ToString("N")[..8];
        var reader = api.WithToken(api.Issuer.Mint(new TokenSpec("operator:exchange", ["dpo"], Subject: sub)), "audit-review");
        foreach (var path in new[] { "/v1/audit/checkpoint", "/v1/audit/verifier-key", "/v1/audit/entries?start=0&end=1", "/v1/audit/proofs/inclusion?index=0&treeSize=1",
            "/v1/audit/proofs/consistency?from=1&to=1", "/v1/audit/events?limit=1", "/v1/audit/alerts" })
        {
            Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync(path)).StatusCode);
        }

        var recorded = JsonDocument.Parse(await dpo.GetStringAsync($"/v1/audit/events?limit=50&sub={sub}")).RootElement.GetProperty("items").EnumerateArray()
            .ToDictionary(i => i.GetProperty("event").GetProperty("action").GetString()!, i => string.Join(",", i.GetProperty("event").GetProperty("fields").EnumerateArray().Select(f => f.GetString())));
        Assert.Equal("checkpoint", recorded["audit.checkpoint"]);
        Assert.Equal("checkpoint", recorded["audit.verifier-key"]);
        Assert.Equal("entries", recorded["audit.entries"]);
        Assert.Equal("proofs", recorded["audit.proof.inclusion"]);
        Assert.Equal("proofs", recorded["audit.proof.consistency"]);
        Assert.Equal("events", recorded["audit.events.search"]);
        Assert.Equal("alerts", recorded["audit.alerts"]);
    }

    [SkippableFact]
    public async Task SearchPagesNewestFirstWithACursor()
    {
        for (var i = 0; i < 3; i++)
        {
            await Problem.ChildIdAsync(await api.Council209.RegisterAsync(new { nhsNumber = TestIdentifiers.NewNhs() }), HttpStatusCode.Created);
        }

        var dpo = api.DpoOf();
        var seen = new List<long>();
        string? cursor = null;
        do
        {
            var page = JsonDocument.Parse(await dpo.GetStringAsync("/v1/audit/events?org=la:209&decision=permit&limit=2" + (cursor is null ? "" : "&cursor=" + cursor))).RootElement;
            seen.AddRange(page.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("index").GetInt64()));
            Assert.All(page.GetProperty("items").EnumerateArray(), i => Assert.Equal("la:209", i.GetProperty("event").GetProperty("actor").GetProperty("org").GetString()));
            cursor = page.GetProperty("nextCursor").GetString();
        }
        while (cursor is not null);

        Assert.True(seen.Count >= 3);
        Assert.Equal(seen.OrderDescending(), seen);
        Assert.Equal(seen.Count, seen.Distinct().Count());
        await Problem.AssertAsync(await dpo.GetAsync("/v1/audit/events?cursor=not-a-cursor"), HttpStatusCode.BadRequest, "cursor-invalid");
    }

    [SkippableFact]
    public async Task AnUntouchedLogLetsTheNextInstanceStart()
    {
        await Problem.ChildIdAsync(await api.Council202.RegisterAsync(new { nhsNumber = TestIdentifiers.NewNhs() }), HttpStatusCode.Created);
        // Runs until killed: the start-up check passed and the service was serving.
        var run = await ApiProcess.RunAsync(api.ProcessEnvironment(), TimeSpan.FromSeconds(20));
        Assert.Equal(-1, run.ExitCode);
        Assert.Contains("Audit log checked at start", run.All, StringComparison.Ordinal);
    }

    private static string DecodedLeaves(string exportLines) => string.Join('\n', exportLines.Split('\n', StringSplitOptions.RemoveEmptyEntries)
        .Select(l => JsonDocument.Parse(l).RootElement)
        .Where(l => l.TryGetProperty("leaf", out _))
        .Select(l => System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(l.GetProperty("leaf").GetString()!))));
}

public sealed class SqliteAuditReviewApiTests(ExchangeApiFactory api) : AuditReviewApiTestsBase<ExchangeApiFactory>(api), IClassFixture<ExchangeApiFactory>;

public sealed class PostgresAuditReviewApiTests : AuditReviewApiTestsBase<PostgresApiFactory>, IClassFixture<PostgresApiFactory>
{
    public PostgresAuditReviewApiTests(PostgresApiFactory api) : base(api) => Postgres.SkipUnlessAvailable();
}

/// <summary>A rogue administrator bypasses the triggers and edits one stored leaf: both verifiers name that entry.</summary>
public abstract class AuditTamperTestsBase<TFactory>(TFactory api) where TFactory : ExchangeApiFactory
{
    [SkippableFact]
    public async Task EditingOneStoredLeafIsNamedByTheOfflineVerifierAndStopsTheNextStart()
    {
        var childId = await Problem.ChildIdAsync(await api.Council202.RegisterAsync(new { nhsNumber = TestIdentifiers.NewNhs() }), HttpStatusCode.Created);
        var dpo = api.DpoOf();
        var (index, target) = (await api.IndexedEventsAsync($"childId={childId}")).Single();
        Assert.Equal("child.register", target.GetProperty("action").GetString());
        var note = await dpo.GetStringAsync("/v1/audit/checkpoint");
        var key = (await dpo.GetStringAsync("/v1/audit/verifier-key")).Trim();

        // Make the registration look refused.
        await api.TamperWithLeafAsync(index, "\"decision\":\"permit\"", "\"decision\":\"deny\"");

        var export = await dpo.GetStringAsync("/v1/audit/export?end=" + note.Split('\n')[1]);
        var offline = OfflineAuditVerifier.Verify(new StringReader(export), note, key);
        Assert.False(offline.IsValid);
        Assert.Equal(index, offline.EntryIndex);
        Assert.Contains($"Entry {index}", offline.Message, StringComparison.Ordinal);

        // A second instance on the same storage refuses to start, naming the entry.
        var run = await ApiProcess.RunAsync(api.ProcessEnvironment(), TimeSpan.FromSeconds(90));
        AuditStartupFailure.AssertCleanExit(run);
        Assert.Contains($"Entry {index}", run.All, StringComparison.Ordinal);
    }
}

public sealed class SqliteAuditTamperTests(ExchangeApiFactory api) : AuditTamperTestsBase<ExchangeApiFactory>(api), IClassFixture<ExchangeApiFactory>;

public sealed class PostgresAuditTamperTests : AuditTamperTestsBase<PostgresApiFactory>, IClassFixture<PostgresApiFactory>
{
    public PostgresAuditTamperTests(PostgresApiFactory api) : base(api) => Postgres.SkipUnlessAvailable();
}

/// <summary>Checkpoints are signed on a timer while the log grows; a truncated log stops the next start.</summary>
public abstract class AuditCheckpointTestsBase<TFactory> where TFactory : ExchangeApiFactory
{
    private readonly TFactory api;

    protected AuditCheckpointTestsBase(TFactory api)
    {
        this.api = api;
        api.Settings["Exchange:Audit:CheckpointInterval"] = "00:00:00.200";
    }

    [SkippableFact]
    public async Task APeriodicCheckpointCoversNewEventsAndTruncationStopsTheNextStart()
    {
        await Problem.ChildIdAsync(await api.Council202.RegisterAsync(new { nhsNumber = TestIdentifiers.NewNhs() }), HttpStatusCode.Created);
        var checkpoints = api.Services.GetRequiredService<Exchange.Api.Auditing.AuditCheckpoints>();
        var log = api.Services.GetRequiredService<Exchange.Audit.Storage.MerkleLog>();
        var size = await log.GetSizeAsync();
        Assert.True(size > 0);
        // No request asked for a checkpoint: the timer signs one that covers the registration's event.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while ((await checkpoints.LatestAsync(default))?.TreeSize < size && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }

        var latest = await checkpoints.LatestAsync(default);
        Assert.True(latest?.TreeSize >= size, $"latest checkpoint {latest?.TreeSize}, log size {size}");
        Assert.True(CheckpointVerifier.Parse(checkpoints.VerifierKey).Verify(latest!.SignedNote).IsValid);

        // A rogue administrator removes the newest event (bypassing the triggers).
        var last = latest.TreeSize - 1;
        await api.ExecuteAuditSqlAsync(
            $"DROP TRIGGER audit_entries_no_delete; DELETE FROM audit_entries WHERE \"Index\" >= {last}; CREATE TRIGGER audit_entries_no_delete BEFORE DELETE ON audit_entries BEGIN SELECT RAISE(ABORT, 'audit_entries is append-only'); END;",
            $"ALTER TABLE audit_entries DISABLE TRIGGER audit_entries_append_only; DELETE FROM audit_entries WHERE \"Index\" >= {last}; ALTER TABLE audit_entries ENABLE TRIGGER audit_entries_append_only;");
        var run = await ApiProcess.RunAsync(api.ProcessEnvironment(), TimeSpan.FromSeconds(90));
        AuditStartupFailure.AssertCleanExit(run);
        Assert.Contains("truncated", run.All, StringComparison.Ordinal);

        // Removing the checkpoints too does not hide it: the main database remembers the newest one.
        await api.ExecuteAuditSqlAsync(
            "DROP TRIGGER audit_checkpoints_no_delete; DELETE FROM audit_checkpoints;",
            "ALTER TABLE audit_checkpoints DISABLE TRIGGER audit_checkpoints_append_only; DELETE FROM audit_checkpoints;");
        run = await ApiProcess.RunAsync(api.ProcessEnvironment(), TimeSpan.FromSeconds(90));
        Assert.True(run.ExitCode is not 0 and not -1, run.All);
        Assert.Contains("checkpoints were removed", run.All, StringComparison.Ordinal);
    }
}

public sealed class SqliteAuditCheckpointTests(ExchangeApiFactory api) : AuditCheckpointTestsBase<ExchangeApiFactory>(api), IClassFixture<ExchangeApiFactory>;

public sealed class PostgresAuditCheckpointTests : AuditCheckpointTestsBase<PostgresApiFactory>, IClassFixture<PostgresApiFactory>
{
    public PostgresAuditCheckpointTests(PostgresApiFactory api) : base(api) => Postgres.SkipUnlessAvailable();
}

/// <summary>A failed start-up audit check ends the process cleanly: one line saying why, exit code 3, no crash.</summary>
internal static class AuditStartupFailure
{
    public static void AssertCleanExit(ApiProcess.Outcome run)
    {
        // 3, as the README documents; not 134 (an unhandled exception's abort and core dump), not our timeout (-1).
        Assert.True(run.ExitCode == Exchange.Api.Auditing.AuditStartupFailedException.ExitCode, $"exit code {run.ExitCode}: {run.All}");
        var lines = run.All.Split('\n').Where(l => l.Contains("AUDIT LOG INTEGRITY FAILURE", StringComparison.Ordinal)).ToList();
        Assert.Single(lines);
        Assert.Contains("\"@l\":\"Fatal\"", lines[0], StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", run.All, StringComparison.Ordinal);
        Assert.DoesNotContain("\"@x\"", run.All, StringComparison.Ordinal); // no exception and stack trace logged
    }
}
