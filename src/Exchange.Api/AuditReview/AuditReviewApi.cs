using System.Globalization;
using System.Text.Json;
using Exchange.Api.Decisions;
using Exchange.Api.Auditing;
using Exchange.Api.Auditing.Storage;
using Exchange.Api.Auth;
using Exchange.Api.Errors;
using Exchange.Api.Identity;
using Exchange.Api.Paging;
using Exchange.Api.Policy;
using Exchange.Api.Purpose;
using Exchange.Api.Storage;
using Exchange.Audit.Offline;
using Exchange.Audit.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Exchange.Api.AuditReview;

/// <summary>
/// The DPO's view of the audit log: signed checkpoints, the verifier key, entries, proofs, search and the
/// export the offline verifier reads. Who may use it is the policy's dpo-audit rule (role dpo, purpose audit-review); each use is itself audited.
/// </summary>
public static class AuditReviewApi
{
    public const int MaxEntriesPerRequest = 1_000;
    private const int ExportPage = 2_000;

    public sealed record EntryView(long Index, string LeafHash, string? Leaf, JsonElement? Event, bool? Withheld);

    public sealed record EntriesView(long TreeSize, IReadOnlyList<EntryView> Entries);

    public sealed record InclusionProofView(long LeafIndex, long TreeSize, IReadOnlyList<string> Proof);

    public sealed record ConsistencyProofView(long From, long To, IReadOnlyList<string> Proof);

    public sealed record EventView(long Index, JsonElement Event);

    public static IEndpointRouteBuilder MapAuditReviewApi(this IEndpointRouteBuilder app)
    {
        // Who may review (role dpo, purpose audit-review) is the policy's dpo-audit rule; AuditReviewScope narrows what each DPO sees.
        var group = app.MapGroup("/v1/audit").WithTags("Audit")
            .RequirePurposeOfUse()
            .Decides("read", noChild: true);
        group.MapGet("/checkpoint", CheckpointAsync).Audited("audit.checkpoint", "audit", "checkpoint");
        group.MapGet("/verifier-key", (AuditCheckpoints checkpoints) => TypedResults.Text(checkpoints.VerifierKey + "\n", "text/plain", System.Text.Encoding.UTF8))
            .Audited("audit.verifier-key", "audit", "checkpoint");
        group.MapGet("/entries", EntriesAsync).Audited("audit.entries", "audit", "entries");
        group.MapGet("/proofs/inclusion", InclusionAsync).Audited("audit.proof.inclusion", "audit", "proofs");
        group.MapGet("/proofs/consistency", ConsistencyAsync).Audited("audit.proof.consistency", "audit", "proofs");
        group.MapGet("/events", EventsAsync).Audited("audit.events.search", "audit", "events");
        group.MapGet("/export", ExportAsync).AuditedStream("audit.export", "audit", "entries");
        return app;
    }

    private static async Task<ContentHttpResult> CheckpointAsync(AuditCheckpoints checkpoints, CancellationToken ct) =>
        TypedResults.Text((await checkpoints.CurrentAsync(ct).ConfigureAwait(false)).SignedNote, "text/plain", System.Text.Encoding.UTF8);

    private static async Task<Results<Ok<EntriesView>, ProblemHttpResult>> EntriesAsync(
        long? start, long? end, HttpContext http, MerkleLog log, IMerkleNodeStore store, ExchangeDbContext db, CancellationToken ct)
    {
        var size = await log.GetSizeAsync(ct).ConfigureAwait(false);
        if (start is not { } first || end is not { } last || first < 0 || last <= first || last > size || last - first > MaxEntriesPerRequest)
        {
            return Invalid($"Give start and end with 0 <= start < end <= {size} (the tree size) and at most {MaxEntriesPerRequest} entries.");
        }

        var scope = await AuditReviewScope.ForAsync(Caller.From(http.User), db, ct).ConfigureAwait(false);
        var entries = await store.ReadEntriesAsync(first, last, ct).ConfigureAwait(false);
        return TypedResults.Ok(new EntriesView(size, entries.Select(e => View(e, scope)).ToList()));
    }

    private static async Task<Results<Ok<InclusionProofView>, ProblemHttpResult>> InclusionAsync(
        long? index, long? treeSize, MerkleLog log, CancellationToken ct)
    {
        var size = await log.GetSizeAsync(ct).ConfigureAwait(false);
        if (index is not { } i || treeSize is not { } n || i < 0 || i >= n || n > size)
        {
            return Invalid($"Give index and treeSize with 0 <= index < treeSize <= {size}.");
        }

        var proof = await log.InclusionProofAsync(i, n, ct).ConfigureAwait(false);
        return TypedResults.Ok(new InclusionProofView(i, n, proof.Select(Convert.ToBase64String).ToList()));
    }

    private static async Task<Results<Ok<ConsistencyProofView>, ProblemHttpResult>> ConsistencyAsync(
        long? from, long? to, MerkleLog log, CancellationToken ct)
    {
        var size = await log.GetSizeAsync(ct).ConfigureAwait(false);
        if (from is not { } m || to is not { } n || m < 1 || m > n || n > size)
        {
            return Invalid($"Give from and to with 1 <= from <= to <= {size}.");
        }

        var proof = await log.ConsistencyProofAsync(m, n, ct).ConfigureAwait(false);
        return TypedResults.Ok(new ConsistencyProofView(m, n, proof.Select(Convert.ToBase64String).ToList()));
    }

    private static async Task<Results<Ok<Page<EventView>>, ProblemHttpResult>> EventsAsync(
        [AsParameters] AuditEventQuery query, HttpContext http, AuditDatabase audit, ExchangeDbContext db, CancellationToken ct)
    {
        if (query.Validate(PurposeOfUse.KnownIn(http)) is { } problem)
        {
            return problem;
        }

        if (!PageRequest.TryParse(query.Cursor, query.Limit, out var page, out var pageProblem))
        {
            return pageProblem;
        }

        long? before = null;
        if (page.After is { } after)
        {
            if (!long.TryParse(after.Id, NumberStyles.None, CultureInfo.InvariantCulture, out var index))
            {
                return Problems.Result(ProblemTypes.CursorInvalid);
            }

            before = index;
        }

        var scope = await AuditReviewScope.ForAsync(Caller.From(http.User), db, ct).ConfigureAwait(false);
        await using var log = audit.Create();
        var rows = query.Apply(log.Entries.AsNoTracking());
        if (!scope.SeesAll)
        {
            var org = scope.Organisation;
            var children = scope.Children.ToList();
            rows = rows.Where(e => e.ActorOrganisation == org || (e.ChildId != null && children.Contains(e.ChildId)));
        }

        // The SQL filter is coarse (the DPO's organisation, or a child in its scope); each event's time is then held
        // to the periods the scope gives for its child, a batch at a time until the page is full.
        var found = new List<(long Index, byte[] Leaf, long TimeMs)>();
        var batch = scope.SeesAll ? page.Limit + 1 : Math.Max(page.Limit + 1, 200);
        while (found.Count < page.Limit + 1)
        {
            var rowsBefore = before is { } cut ? rows.Where(e => e.Index < cut) : rows;
            var fetched = await rowsBefore.OrderByDescending(e => e.Index).Take(batch)
                .Select(e => new { e.Index, e.Leaf, e.TimeMs, e.ActorOrganisation, e.ChildId }).ToListAsync(ct).ConfigureAwait(false);
            found.AddRange(fetched.Where(e => scope.Sees(e.ActorOrganisation, e.ChildId, e.TimeMs)).Select(e => (e.Index, e.Leaf, e.TimeMs)));
            if (fetched.Count < batch)
            {
                break;
            }

            before = fetched[^1].Index;
        }

        found = found.Take(page.Limit + 1).ToList();
        return TypedResults.Ok(Pages.From(found, page.Limit,
            r => new EventView(r.Index, Parse(r.Leaf)),
            r => new PageCursor(DateTimeOffset.FromUnixTimeMilliseconds(r.TimeMs), r.Index.ToString(CultureInfo.InvariantCulture))));
    }

    /// <summary>
    /// JSON Lines in the offline verifier's format, from <c>start</c> (default 0) to <c>end</c> (default: the
    /// newest stored checkpoint's size, so the export pairs with <c>GET /v1/audit/checkpoint</c> fetched before it).
    /// Entries outside the DPO's scope carry their leaf hash only.
    /// </summary>
    private static async Task<IResult> ExportAsync(
        long? start, long? end, HttpContext http, MerkleLog log, IMerkleNodeStore store, AuditCheckpoints checkpoints,
        ExchangeDbContext db, AuditTrail trail, CancellationToken ct)
    {
        var size = await log.GetSizeAsync(ct).ConfigureAwait(false);
        var first = start ?? 0;
        var last = end ?? (await checkpoints.LatestAsync(ct).ConfigureAwait(false))?.TreeSize ?? size;
        if (first < 0 || last < first || last > size)
        {
            return Invalid($"Give 0 <= start <= end <= {size} (the tree size).");
        }

        var scope = await AuditReviewScope.ForAsync(Caller.From(http.User), db, ct).ConfigureAwait(false);
        http.Response.ContentType = "application/x-ndjson";
        http.Response.Headers["X-Audit-Tree-Size"] = last.ToString(CultureInfo.InvariantCulture);
        // The event goes in before the first byte of the export leaves.
        await trail.RecordAsync(StatusCodes.Status200OK, ct).ConfigureAwait(false);
        await using var writer = new StreamWriter(http.Response.Body, new System.Text.UTF8Encoding(false), 64 * 1024, leaveOpen: true) { NewLine = "\n" };
        for (var from = first; from < last; from += ExportPage)
        {
            foreach (var entry in await store.ReadEntriesAsync(from, Math.Min(from + ExportPage, last), ct).ConfigureAwait(false))
            {
                var line = Sees(scope, entry.Leaf)
                    ? new AuditExportEntry(entry.Index, entry.Leaf, entry.LeafHash)
                    // The hash of the leaf as stored now, not the stored hash column: an edited leaf still breaks the root.
                    : AuditExportEntry.WithheldEntry(entry.Index, Exchange.Audit.Merkle.MerkleHash.LeafHash(entry.Leaf));
                await writer.WriteLineAsync(AuditExportFile.FormatLine(line).AsMemory(), ct).ConfigureAwait(false);
            }

            await writer.FlushAsync(ct).ConfigureAwait(false);
        }

        return Results.Empty;
    }

    private static EntryView View(MerkleLogEntry entry, AuditReviewScope scope) =>
        Sees(scope, entry.Leaf)
            ? new EntryView(entry.Index, Convert.ToBase64String(entry.LeafHash), Convert.ToBase64String(entry.Leaf), Parse(entry.Leaf), null)
            : new EntryView(entry.Index, Convert.ToBase64String(Exchange.Audit.Merkle.MerkleHash.LeafHash(entry.Leaf)), null, null, true);

    private static bool Sees(AuditReviewScope scope, byte[] leaf)
    {
        if (scope.SeesAll)
        {
            return true;
        }

        var fields = EfAuditStore.SearchFields.From(leaf);
        return scope.Sees(fields.Organisation, fields.ChildId, fields.TimeMs);
    }

    private static JsonElement Parse(byte[] leaf)
    {
        using var doc = JsonDocument.Parse(leaf);
        return doc.RootElement.Clone();
    }

    internal static ProblemHttpResult Invalid(string detail) => Problems.Result(ProblemTypes.AuditQueryInvalid, detail);
}

/// <summary>The DPO's search filters. Each is optional; all given must match.</summary>
public sealed class AuditEventQuery
{
    public string? ChildId { get; init; }
    public string? Org { get; init; }
    public string? Sub { get; init; }
    public string? Purpose { get; init; }
    public string? Decision { get; init; }
    public DateTimeOffset? From { get; init; }
    public DateTimeOffset? To { get; init; }
    public string? Cursor { get; init; }
    public int? Limit { get; init; }

    internal ProblemHttpResult? Validate(IReadOnlySet<string> purposes)
    {
        if (ChildId is not null && !Ids.LooksLikeChildId(ChildId))
        {
            return AuditReviewApi.Invalid("childId must be a pseudonymous child id (ch_...).");
        }

        if (Decision is not null && Decision is not ("permit" or "deny" or "error"))
        {
            return AuditReviewApi.Invalid("decision must be permit, deny or error.");
        }

        if (Purpose is not null && !purposes.Contains(Purpose))
        {
            return AuditReviewApi.Invalid("purpose must be one of: " + string.Join(", ", purposes) + ".");
        }

        if (From is { } from && To is { } to && to < from)
        {
            return AuditReviewApi.Invalid("to must not be before from.");
        }

        return Org is { Length: > 64 } || Sub is { Length: > 200 } ? AuditReviewApi.Invalid("org or sub is too long.") : null;
    }

    internal IQueryable<AuditEntryRecord> Apply(IQueryable<AuditEntryRecord> rows)
    {
        if (ChildId is { } child)
        {
            rows = rows.Where(e => e.ChildId == child);
        }

        if (Org is { } org)
        {
            rows = rows.Where(e => e.ActorOrganisation == org);
        }

        if (Sub is { } sub)
        {
            rows = rows.Where(e => e.ActorSubject == sub);
        }

        if (Purpose is { } purpose)
        {
            rows = rows.Where(e => e.Purpose == purpose);
        }

        if (Decision is { } decision)
        {
            rows = rows.Where(e => e.Decision == decision);
        }

        if (From is { } from)
        {
            var ms = from.ToUnixTimeMilliseconds();
            rows = rows.Where(e => e.TimeMs >= ms);
        }

        if (To is { } to)
        {
            var ms = to.ToUnixTimeMilliseconds();
            rows = rows.Where(e => e.TimeMs < ms);
        }

        return rows;
    }
}
