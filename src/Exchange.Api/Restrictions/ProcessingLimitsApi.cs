using Exchange.Api.Decisions;
using Exchange.Api.Dates;
using Exchange.Api.Auditing;
using Exchange.Api.Auth;
using Exchange.Api.Errors;
using Exchange.Api.Policy;
using Exchange.Api.Purpose;
using Exchange.Api.Relationships;
using Exchange.Api.Storage;
using Exchange.Api.Work;
using Exchange.Crypto.Sealing;
using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Exchange.Api.Restrictions;

/// <summary>What every restriction or objection request carries.</summary>
public interface IProcessingLimitRequest
{
    bool? Active { get; }
    IReadOnlyList<string>? Purposes { get; }
    string? Reason { get; }
}

/// <summary>An objection (Art. 21), upheld or withdrawn.</summary>
public sealed record ProcessingLimitRequest(bool? Active, IReadOnlyList<string>? Purposes, string? Reason) : IProcessingLimitRequest;

/// <summary>A restriction (Art. 18), on or lifted; lifting it says when the data subject was told (Art. 18(3)).</summary>
public sealed record RestrictionRequest(bool? Active, IReadOnlyList<string>? Purposes, string? Reason, string? DataSubjectInformedOn) : IProcessingLimitRequest;

public sealed record ProcessingLimitView(
    Guid Id, string ChildId, string Kind, bool Active, IReadOnlyList<string> Purposes, string Authority, string? DataSubjectInformedOn, DateTimeOffset RecordedAt);

public sealed class ProcessingLimitRulesValidator : AbstractValidator<IProcessingLimitRequest>
{
    public ProcessingLimitRulesValidator(PolicySet policy)
    {
        var code = ProblemTypes.ProcessingLimitInvalid.Code;
        RuleFor(x => x.Active).NotNull().WithErrorCode(code).WithMessage("active must be true or false.");
        RuleFor(x => x.Purposes).Must(p => p is not null && p.Count <= 10 && p.All(policy.Purposes.Contains)).WithErrorCode(code)
            .WithMessage("purposes must list the policy's purposes (at most 10).");
        RuleFor(x => x.Reason).Must(r => r is { Length: >= 10 and <= 500 }).WithErrorCode(code).WithMessage("reason must be 10 to 500 characters.");
    }
}

public sealed class ProcessingLimitRequestValidator : AbstractValidator<ProcessingLimitRequest>
{
    public ProcessingLimitRequestValidator(PolicySet policy) => Include(new ProcessingLimitRulesValidator(policy));
}

public sealed class RestrictionRequestValidator : AbstractValidator<RestrictionRequest>
{
    public RestrictionRequestValidator(PolicySet policy, TimeProvider clock)
    {
        Include(new ProcessingLimitRulesValidator(policy));
        When(x => x.Active == false, () => RuleFor(x => x.DataSubjectInformedOn).Must(d => RelationshipRules.IsDate(d, clock, out _))
            .WithErrorCode(ProblemTypes.DataSubjectNotInformed.Code)
            .WithMessage("dataSubjectInformedOn (the day the data subject was told the restriction would be lifted) must be a date (YYYY-MM-DD), not in the future."));
        When(x => x.Active == true, () => RuleFor(x => x.DataSubjectInformedOn).Null().WithErrorCode(ProblemTypes.ProcessingLimitInvalid.Code)
            .WithMessage("dataSubjectInformedOn is recorded only when lifting a restriction."));
    }
}

/// <summary>
/// Who may change a limit in force. The operator's DPO ranks above a council: a restriction or objection the DPO
/// recorded on a data subject's request is the DPO's to lift. A council's is lifted by a council the policy lets
/// record limits for the child (the one responsible now, during its episode) or by the DPO.
/// </summary>
public static class LimitAuthority
{
    public static string Of(Caller caller)
    {
        ArgumentNullException.ThrowIfNull(caller);
        return caller.Organisation.StartsWith("operator:", StringComparison.Ordinal) && caller.Roles.Contains(Roles.Dpo)
            ? ProcessingLimit.OperatorDpoAuthority
            : ProcessingLimit.CouncilAuthority;
    }

    public static int Rank(string authority) => authority switch
    {
        ProcessingLimit.OperatorDpoAuthority => 2,
        ProcessingLimit.CouncilAuthority => 1,
        _ => 0,
    };
}

/// <summary>
/// Restriction of processing (Art. 18: <c>POST /v1/children/{id}/restriction</c>, on with the purposes still allowed,
/// or lifted, saying when the data subject was told) and objections (Art. 21: <c>POST /v1/children/{id}/objections</c>,
/// the purposes objected to, upheld or withdrawn), recorded by the responsible council or the operator's DPO, kept as
/// history, in force on the next decision. A limit in force is changed only by an authority as high as the one that
/// recorded it (<see cref="LimitAuthority"/>): otherwise 403 <c>processing-limit-authority</c>.
/// </summary>
public static class ProcessingLimitsApi
{
    public const string ReasonEntity = "processing_limits";

    public static IEndpointRouteBuilder MapProcessingLimitsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/children/{childId}").WithTags("Consent").RequirePurposeOfUse();
        group.MapPost("/restriction", (RestrictionRequest request, Decided decided, HttpContext http, ExchangeDbContext db, FieldSealer sealer, UnitOfWork work, TimeProvider clock, CancellationToken ct) =>
                RecordAsync(ProcessingLimit.Restriction, request, InformedOn(request), decided, http, db, sealer, work, clock, ct))
            .Audited("restriction.record", "restriction", "restriction").Decides("write").Validates<RestrictionRequest>();
        group.MapPost("/objections", (ProcessingLimitRequest request, Decided decided, HttpContext http, ExchangeDbContext db, FieldSealer sealer, UnitOfWork work, TimeProvider clock, CancellationToken ct) =>
                RecordAsync(ProcessingLimit.Objection, request, null, decided, http, db, sealer, work, clock, ct))
            .Audited("objection.record", "restriction", "objection").Decides("write").Validates<ProcessingLimitRequest>();
        return app;
    }

    private static DateOnly? InformedOn(RestrictionRequest request) =>
        request.DataSubjectInformedOn is { } text ? DateOnly.ParseExact(text, IsoDates.Format, System.Globalization.CultureInfo.InvariantCulture) : null;

    private static async Task<Results<Created<ProcessingLimitView>, ProblemHttpResult>> RecordAsync(
        string kind, IProcessingLimitRequest request, DateOnly? informedOn, Decided decided, HttpContext http, ExchangeDbContext db, FieldSealer sealer,
        UnitOfWork work, TimeProvider clock, CancellationToken ct)
    {
        var caller = Caller.From(http.User);
        var child = decided.ChildId;
        var authority = LimitAuthority.Of(caller);
        var purposes = request.Purposes!.Distinct(StringComparer.Ordinal).ToList();

        var id = Guid.NewGuid();
        // Free text a person wrote about the child: sealed under its key (before the write lock: key work may be remote).
        var sealedReason = await sealer.SealAsync(ReasonPlace(child, id), request.Reason!, ct).ConfigureAwait(false);
        // Check-then-insert must be atomic: the newest record is the one in force, so a lower authority's record
        // stamped after a higher one's but checked before it was written would outrank it. SQLite's write gate
        // serialises the whole process; on PostgreSQL (no gate, several instances) a per-child transaction lock does.
        await work.BeginAsync(ct).ConfigureAwait(false);
        if (db.Database.IsNpgsql())
        {
            await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock(hashtext({"processing-limit:" + child}))", ct).ConfigureAwait(false);
        }

        // Stamped inside the lock, so "newest" is the order in which records were checked.
        var record = new ProcessingLimit
        {
            Id = id, ChildId = child, Kind = kind, Active = request.Active!.Value, Purposes = purposes, SealedReason = sealedReason,
            RecordedBy = caller.Organisation, Authority = authority, DataSubjectInformedOn = informedOn, RecordedAt = clock.UtcNowToMillisecond(),
        };
        if (await OutranksAsync(db, child, kind, purposes, authority, ct).ConfigureAwait(false))
        {
            return Problems.Result(ProblemTypes.ProcessingLimitAuthority,
                kind == ProcessingLimit.Restriction
                    ? "The restriction in force was recorded by the operator's DPO; only the DPO can lift or replace it."
                    : "An objection in force for one of these purposes was recorded by the operator's DPO; only the DPO can withdraw or record it again.");
        }

        db.ProcessingLimits.Add(record);
        await work.CommitAsync(Outcome.Created(child), ct).ConfigureAwait(false);
        return TypedResults.Created($"/v1/children/{child}/{kind}", View(record));
    }

    /// <summary>
    /// Whether a limit in force that this record would change was recorded by a higher authority. The newest restriction
    /// is in force, so any new one (lifted, or on with other purposes) changes it; an objection changes the objections in
    /// force for the purposes it names. Recording one again under the lower authority would let it then lift it.
    /// </summary>
    private static async Task<bool> OutranksAsync(ExchangeDbContext db, string child, string kind, List<string> purposes, string authority, CancellationToken ct)
    {
        var history = await db.ProcessingLimits.AsNoTracking().Where(l => l.ChildId == child && l.Kind == kind).ToListAsync(ct).ConfigureAwait(false);
        var inForce = kind == ProcessingLimit.Restriction
            ? [history.MaxBy(l => l.RecordedAt)]
            : purposes.Select(p => history.Where(l => l.Purposes.Contains(p)).MaxBy(l => l.RecordedAt)).ToList();
        return inForce.Any(l => l is { Active: true } && LimitAuthority.Rank(l.Authority) > LimitAuthority.Rank(authority));
    }

    public static ProcessingLimitView View(ProcessingLimit record)
    {
        ArgumentNullException.ThrowIfNull(record);
        return new(record.Id, record.ChildId, record.Kind, record.Active, record.Purposes, record.Authority, record.DataSubjectInformedOn?.Iso(), record.RecordedAt);
    }

    /// <summary>Where a restriction's or objection's reason is sealed: bound to the child's data key and to the record.</summary>
    public static FieldPlace ReasonPlace(string childId, Guid limitId) => new(ReasonEntity, "reason", childId, limitId.ToString("N"));
}

/// <summary>
/// A child's processing state for the engine: restricted, and which purposes remain allowed. An upheld objection
/// removes its purposes; a restriction allows only the purposes it names (an objection still removes them).
/// </summary>
public sealed class ProcessingState(ExchangeDbContext db, PolicySet policy) : IProcessingLimitFacts
{
    public async Task<(bool Restricted, IReadOnlyList<string> Allows)> ForAsync(string childId, CancellationToken ct) =>
        (await LimitedManyAsync([childId], ct).ConfigureAwait(false)).TryGetValue(childId, out var allows) ? (true, allows) : (false, []);

    public async Task<IReadOnlyDictionary<string, IReadOnlyList<string>>> LimitedManyAsync(IReadOnlyCollection<string> childIds, CancellationToken ct)
    {
        var ids = childIds.Distinct(StringComparer.Ordinal).ToList();
        var limited = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        var all = await db.ProcessingLimits.AsNoTracking().Where(l => EF.Parameter(ids).Contains(l.ChildId)).ToListAsync(ct).ConfigureAwait(false);
        foreach (var limits in all.GroupBy(l => l.ChildId, StringComparer.Ordinal))
        {
            var restriction = limits.Where(l => l.Kind == ProcessingLimit.Restriction).MaxBy(l => l.RecordedAt);
            // Per purpose, the newest objection that names it decides: upheld, or withdrawn.
            var objections = limits.Where(l => l.Kind == ProcessingLimit.Objection).ToList();
            var objected = policy.Purposes.Where(p => objections.Where(l => l.Purposes.Contains(p)).MaxBy(l => l.RecordedAt) is { Active: true })
                .ToHashSet(StringComparer.Ordinal);
            var restricted = restriction is { Active: true };
            if (restricted || objected.Count > 0)
            {
                limited[limits.Key] = (restricted ? restriction!.Purposes : policy.Purposes.ToList()).Where(p => !objected.Contains(p)).ToList();
            }
        }

        return limited;
    }
}
