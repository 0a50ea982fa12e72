using System.Text.Json;
using Exchange.Api.Decisions;
using Exchange.Api.Auth;
using Exchange.Api.Errors;
using Exchange.Api.Idempotency;
using Exchange.Api.Policy;
using Exchange.Api.Storage;
using Exchange.Api.Work;
using Microsoft.EntityFrameworkCore;

namespace Exchange.Api.Attendance;

/// <summary>The answer to a batch: how many marks were taken, and each one refused with where it was and why.</summary>
/// <param name="Accepted">Marks stored or already held as sent (<paramref name="Replaced"/> and <paramref name="Unchanged"/> among them).</param>
/// <param name="Replaced">Marks that replaced an earlier, different mark of this school for the same child, day and session.</param>
/// <param name="Unchanged">Marks the school had already sent as they are: nothing new was stored for them.</param>
public sealed record AttendanceBatchAnswer(Guid BatchId, int Received, int Accepted, int Replaced, int Unchanged, IReadOnlyList<RejectedMark> Rejected);

/// <summary>
/// Stores a school's batch of attendance marks. Each mark is checked on its own (<see cref="MarkRules"/>), then the
/// batch is decided child by child by the policy engine from facts read in set queries for the whole batch
/// (<see cref="AccessDecider.DecideManyAsync"/>), checked against the school's enrolments and the child's care on each
/// mark's date, and stored in one unit of work with one audit event per child and one for the batch. Marks that
/// fail are refused with their index; the others are stored.
/// </summary>
public sealed class AttendanceBatchService(
    ExchangeDbContext db, AccessDecider decider, ChildDecisions childDecisions, IdempotencyStore idempotency, UnitOfWork work, TimeProvider clock)
{
    public const string Operation = "POST /v1/attendance";

    /// <summary>The outcome: a fresh answer, or the first answer to this key, or a refusal of the key.</summary>
    public sealed record Result(int Status, string Json, ProblemTypes.ProblemType? Problem = null);

    public async Task<Result> RecordAsync(Caller caller, string purpose, string key, byte[] requestHash, AttendanceBatch batch, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(caller);
        ArgumentNullException.ThrowIfNull(batch);
        var now = clock.GetUtcNow();
        var today = DateOnly.FromDateTime(now.UtcDateTime);
        var school = caller.Organisation;
        var rejected = new List<RejectedMark>();
        var marks = new List<ParsedMark>(batch.Marks.Count);
        var seen = new HashSet<(string, DateOnly, string)>();
        foreach (var incoming in batch.Marks)
        {
            var (mark, refusal) = MarkRules.Check(incoming, today);
            if (refusal is not null)
            {
                rejected.Add(refusal);
            }
            else if (!seen.Add((mark!.ChildId, mark.Date, mark.Session)))
            {
                rejected.Add(new RejectedMark(mark.Index, mark.Line, "session", ProblemTypes.AttendanceDuplicate.Code, "An earlier mark of this batch is for the same child, date and session."));
            }
            else
            {
                marks.Add(mark);
            }
        }

        await work.BeginAsync(ct).ConfigureAwait(false);
        if (await idempotency.FindAsync(school, key, ct).ConfigureAwait(false) is { } first)
        {
            await work.RollbackAsync(ct).ConfigureAwait(false);
            // The same organisation's retry gets the answer its first request was decided and given; nothing is decided again.
            childDecisions.AdoptBatch(null);
            return first.RequestHash.AsSpan().SequenceEqual(requestHash)
                ? new Result(first.Status, first.ResponseJson)
                : new Result(ProblemTypes.IdempotencyKeyReused.Status, "", ProblemTypes.IdempotencyKeyReused);
        }

        var decisions = await decider.DecideManyAsync(caller, "write", "attendance", purpose, marks.Select(m => m.ChildId).ToList(), ct).ConfigureAwait(false);
        // Each mark the policy did not permit is refused below; the batch's event records the rule its marks were stored under.
        childDecisions.AdoptBatch(decisions.Values.FirstOrDefault(d => d.Decision.Permit && !d.Erased));

        var children = decisions.Values.Where(d => d.Decision.Permit && !d.Erased).Select(d => d.ChildId!).Distinct(StringComparer.Ordinal).ToList();
        var care = (await db.CareEpisodes.AsNoTracking().Where(e => EF.Parameter(children).Contains(e.ChildId))
                .Select(e => new { e.ChildId, e.StartDate, e.EndDate }).ToListAsync(ct).ConfigureAwait(false))
            .ToLookup(e => e.ChildId, StringComparer.Ordinal);
        var accepted = new List<(ParsedMark Mark, string ChildId)>();
        foreach (var mark in marks)
        {
            var decision = decisions[mark.ChildId];
            RejectedMark Reject(string field, ProblemTypes.ProblemType type, string detail) => new(mark.Index, mark.Line, field, type.Code, detail);
            if (!decision.Decision.Permit)
            {
                // A child not enrolled here, another school's pupil and an unknown id answer alike.
                rejected.Add(Reject("childId", ProblemTypes.ChildNotFound, "No child enrolled at this school has this id."));
            }
            else if (decision.Erased)
            {
                rejected.Add(Reject("childId", ProblemTypes.ChildErased, "This child's data has been erased."));
            }
            else if (decision.Windows is { } windows && !windows.Periods.Any(p => p.Start <= mark.Date && (p.End is null || mark.Date <= p.End)))
            {
                rejected.Add(Reject("date", ProblemTypes.AttendanceNotEnrolled, "The child was not enrolled at this school on this date."));
            }
            else if (!care[decision.ChildId!].Any(e => e.StartDate <= mark.Date && (e.EndDate is null || mark.Date <= e.EndDate)))
            {
                rejected.Add(Reject("date", ProblemTypes.AttendanceNotInCare, "The child was not in care on this date."));
            }
            else
            {
                accepted.Add((mark, decision.ChildId!));
            }
        }

        var batchId = Guid.NewGuid();
        var (replaced, unchanged) = await StoreAsync(accepted, school, batchId, now, ct).ConfigureAwait(false);
        var answer = new AttendanceBatchAnswer(batchId, batch.Marks.Count, accepted.Count, replaced, unchanged,
            rejected.OrderBy(r => r.Index).ToList());
        var json = JsonSerializer.Serialize(answer, JsonOptions);
        idempotency.Remember(school, key, Operation, requestHash, StatusCodes.Status200OK, json);
        await work.CommitAsync(Outcome.Batch(batch.Marks.Count, accepted.Select(a => a.ChildId)), ct).ConfigureAwait(false);
        return new Result(StatusCodes.Status200OK, json);
    }

    /// <summary>
    /// Stores the accepted marks: a mark the school already holds as sent changes nothing; one that differs replaces
    /// the school's current mark, which is kept as history (replaced first, so the one-current-mark index holds). The
    /// year's counts (<see cref="YearCounts"/>) change with them.
    /// </summary>
    private async Task<(int Replaced, int Unchanged)> StoreAsync(List<(ParsedMark Mark, string ChildId)> accepted, string school, Guid batchId, DateTimeOffset now, CancellationToken ct)
    {
        if (accepted.Count == 0)
        {
            return (0, 0);
        }

        var children = accepted.Select(a => a.ChildId).Distinct(StringComparer.Ordinal).ToList();
        var (from, to) = (accepted.Min(a => a.Mark.Date), accepted.Max(a => a.Mark.Date));
        var current = (await db.AttendanceMarks
                .Where(m => m.SchoolId == school && m.ReplacedAt == null && m.Date >= from && m.Date <= to && EF.Parameter(children).Contains(m.ChildId))
                .ToListAsync(ct).ConfigureAwait(false))
            .ToDictionary(m => (m.ChildId, m.Date, m.Session));
        var (replaced, unchanged) = (0, 0);
        var added = new List<AttendanceMark>(accepted.Count);
        var replacedMarks = new List<AttendanceMark>();
        foreach (var (mark, child) in accepted)
        {
            var stored = new AttendanceMark
            {
                Id = Guid.CreateVersion7(now), ChildId = child, SchoolId = school, Date = mark.Date, Session = mark.Session, Code = mark.Code,
                MinutesLate = mark.MinutesLate, BatchId = batchId, RecordedAt = now,
            };
            if (current.TryGetValue((child, mark.Date, mark.Session), out var earlier))
            {
                if (earlier.Code == mark.Code && earlier.MinutesLate == mark.MinutesLate)
                {
                    unchanged++;
                    continue;
                }

                replaced++;
                replacedMarks.Add(earlier);
                earlier.ReplacedAt = now;
                earlier.ReplacedBy = stored.Id;
            }

            added.Add(stored);
        }

        if (replaced > 0)
        {
            await work.FlushAsync(ct).ConfigureAwait(false);
        }

        await work.InsertAsync(added, ct).ConfigureAwait(false);
        await YearCounts.AddAsync(work, added, replacedMarks, now, ct).ConfigureAwait(false);
        return (replaced, unchanged);
    }

    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
    };
}
