using System.Globalization;
using Exchange.Api.Auth;
using Exchange.Api.Configuration;
using Exchange.Api.Identity;
using Exchange.Api.Policy;
using Exchange.Api.Storage;
using Exchange.Api.Work;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Exchange.Api.RollCheck;

/// <summary>
/// Finds which pupils of a school's roll are children in care now. The roll's identifiers are looked up together
/// (blind indexes, in a few set queries, whatever share of the roll is in care), each child found is decided by the
/// policy like any other request about it (a restricted child is not disclosed), and the check is stored: the
/// check's size (for the per-school limit), and each child found (so the school may declare the enrolment for
/// 30 days). The identifiers themselves are not kept.
/// </summary>
public sealed partial class RollCheckService(
    ExchangeDbContext db, IdentifierProtector protector, AccessDecider decider, UnitOfWork work, TimeProvider clock,
    IOptions<ExchangeOptions> options, ILogger<RollCheckService> logger)
{
    // Digests per query: well under SQLite's and PostgreSQL's limits on parameters.
    private const int LookupChunk = 1_000;

    /// <summary>The answer, or the time to wait when the school has used its checks for the last 24 hours.</summary>
    public sealed record Result(RollCheckAnswer? Answer, TimeSpan? RetryAfter);

    public async Task<Result> CheckAsync(Caller caller, string purpose, IReadOnlyList<RollPupil?> pupils, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(caller);
        ArgumentNullException.ThrowIfNull(pupils);
        var limits = options.Value.RollCheck;
        var now = clock.GetUtcNow();
        var today = DateOnly.FromDateTime(now.UtcDateTime);
        var school = caller.Organisation;
        var (valid, rejected) = RollPupils.Check(pupils, today);

        await work.BeginAsync(ct).ConfigureAwait(false);
        // Inside the write gate, so two checks at once cannot both pass the limit.
        var since = now.AddHours(-24);
        var recent = await db.RollChecks.AsNoTracking().Where(r => r.SchoolId == school && r.CheckedAt > since)
            .Select(r => new { r.CheckedAt, r.Pupils }).ToListAsync(ct).ConfigureAwait(false);
        if (recent.Count >= limits.ChecksPer24Hours || recent.Sum(r => r.Pupils) + pupils.Count > limits.PupilsPer24Hours)
        {
            await work.RollbackAsync(ct).ConfigureAwait(false);
            var oldest = recent.Count == 0 ? now : recent.Min(r => r.CheckedAt);
            var wait = oldest.AddHours(24) - now;
            return new Result(null, wait > TimeSpan.Zero ? wait : TimeSpan.FromHours(24));
        }

        var found = await FindInCareAsync(valid, today, ct).ConfigureAwait(false);
        // The policy decides each child as it would any request about it: a child whose processing is restricted or
        // objected to is not disclosed, and the school cannot tell it from a child not in care. All of them at once, with
        // their facts read in set queries (one decision at a time was a handful of queries for each child found).
        var candidates = found.Select(f => f.ChildId).Distinct(StringComparer.Ordinal).ToList();
        var decisions = candidates.Count == 0 ? new Dictionary<string, AccessDecision>()
            : await decider.DecideManyAsync(caller, "read", "roll-check", purpose, candidates, ct).ConfigureAwait(false);
        var disclosed = candidates.Where(child => decisions[child] is { Decision.Permit: true, Erased: false }).ToList();

        var enrolledHere = await db.ChildRelationships.AsNoTracking()
            .Where(r => disclosed.Contains(r.ChildId) && r.Kind == ChildRelationship.EnrolledSchool && r.OrganisationId == school
                && r.StartDate <= today && (r.EndDate == null || r.EndDate >= today))
            .Select(r => r.ChildId).Distinct().ToListAsync(ct).ConfigureAwait(false);
        var matches = found.Where(f => disclosed.Contains(f.ChildId))
            .Select(f => new RollCheckMatchView(f.Index, f.ChildId, f.ResponsibleCouncil, enrolledHere.Contains(f.ChildId), f.MatchedOn))
            .OrderBy(m => m.Index).ThenBy(m => m.ChildId, StringComparer.Ordinal).ToList();

        var check = new Storage.RollCheck { Id = Guid.NewGuid(), SchoolId = school, Pupils = pupils.Count, Matches = matches.Count, CheckedAt = now };
        db.RollChecks.Add(check);
        db.RollCheckMatches.AddRange(disclosed.Select(child => new RollCheckMatch
        {
            Id = Guid.NewGuid(), RollCheckId = check.Id, SchoolId = school, ChildId = child, CheckedOn = today,
        }));
        if (pupils.Count > limits.AlertAbovePupils)
        {
            db.DpoAlerts.Add(new DpoAlert
            {
                Id = Guid.NewGuid(), Kind = DpoAlert.RollCheckOversize, ChildId = null, RaisedBy = school, Organisations = [school], RaisedAt = now,
            });
            LogOversize(logger, pupils.Count, limits.AlertAbovePupils);
        }

        await work.CommitAsync(Outcome.Batch(pupils.Count, disclosed), ct).ConfigureAwait(false);
        return new Result(new RollCheckAnswer(valid.Count, matches, rejected), null);
    }

    private sealed record Found(int Index, string ChildId, string ResponsibleCouncil, IReadOnlyList<string> MatchedOn);

    /// <summary>The pupils whose identifiers name a registered child with a care episode in force today.</summary>
    private async Task<List<Found>> FindInCareAsync(List<RollPupils.Valid> valid, DateOnly today, CancellationToken ct)
    {
        // Every digest a pupil's identifiers have under each blind-index secret still held, to the pupils presenting it.
        var byDigest = new Dictionary<string, List<(int Index, string Type)>>(StringComparer.Ordinal);
        foreach (var pupil in valid)
        {
            foreach (var identifier in pupil.Identifiers)
            {
                foreach (var (version, digest) in protector.IndexesForLookup(identifier))
                {
                    var key = Key(identifier.Type, version, digest);
                    if (!byDigest.TryGetValue(key, out var list))
                    {
                        byDigest[key] = list = [];
                    }

                    list.Add((pupil.Index, identifier.Type));
                }
            }
        }

        var digests = byDigest.Keys.Select(k => Convert.FromHexString(k.Split('|')[2])).ToList();
        var rows = new List<(string Type, string Version, byte[] Digest, string ChildId)>();
        foreach (var chunk in digests.Chunk(LookupChunk))
        {
            var list = chunk.ToList();
            rows.AddRange((await db.ChildIdentifiers.AsNoTracking().Where(i => EF.Parameter(list).Contains(i.BlindIndex))
                    .Select(i => new { i.Type, i.IndexKeyVersion, i.BlindIndex, i.ChildId }).ToListAsync(ct).ConfigureAwait(false))
                .Select(i => (i.Type, i.IndexKeyVersion, i.BlindIndex, i.ChildId)));
        }

        var children = rows.Select(r => r.ChildId).Distinct(StringComparer.Ordinal).ToList();
        var inCare = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var chunk in children.Chunk(LookupChunk))
        {
            var list = chunk.ToList();
            var episodes = await db.CareEpisodes.AsNoTracking()
                .Where(e => list.Contains(e.ChildId) && e.StartDate <= today && (e.EndDate == null || e.EndDate >= today))
                .Join(db.Children.Where(c => c.ErasedAt == null && c.MergedIntoChildId == null), e => e.ChildId, c => c.Id, (e, _) => new { e.ChildId, e.ResponsibleLaNumber, e.StartDate })
                .ToListAsync(ct).ConfigureAwait(false);
            foreach (var episode in episodes.OrderBy(e => e.StartDate))
            {
                inCare[episode.ChildId] = "la:" + episode.ResponsibleLaNumber; // the latest episode in force, if ever two
            }
        }

        return rows.Where(r => inCare.ContainsKey(r.ChildId))
            .SelectMany(r => byDigest.TryGetValue(Key(r.Type, r.Version, r.Digest), out var pupils)
                ? pupils.Where(p => p.Type == r.Type).Select(p => (p.Index, r.ChildId, p.Type))
                : [])
            .GroupBy(m => (m.Index, m.ChildId))
            .Select(g => new Found(g.Key.Index, g.Key.ChildId, inCare[g.Key.ChildId],
                g.Select(m => m.Type == PresentedIdentifier.Nhs ? "nhsNumber" : "upn").Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList()))
            .ToList();
    }

    private static string Key(string type, string version, byte[] digest) =>
        string.Create(CultureInfo.InvariantCulture, $"{type}|{version}|{Convert.ToHexString(digest)}");

    [LoggerMessage(EventId = 9601, EventName = "RollCheckOversize", Level = LogLevel.Warning, Message = "Roll check of {Pupils} pupils, above the alert threshold of {Threshold}; DPO alert raised")]
    private static partial void LogOversize(ILogger logger, int pupils, int threshold);
}
