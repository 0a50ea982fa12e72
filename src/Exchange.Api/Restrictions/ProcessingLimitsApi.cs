using Exchange.Api.Hosting;
using Exchange.Api.Auditing;
using Exchange.Api.Auth;
using Exchange.Api.Errors;
using Exchange.Api.Policy;
using Exchange.Api.Purpose;
using Exchange.Api.Relationships;
using Exchange.Api.Storage;
using Exchange.Crypto.Sealing;
using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Exchange.Api.Restrictions;

public sealed record ProcessingLimitRequest(bool? Active, IReadOnlyList<string>? Purposes, string? Reason);

public sealed record ProcessingLimitView(Guid Id, string ChildId, string Kind, bool Active, IReadOnlyList<string> Purposes, DateTimeOffset RecordedAt);

public sealed class ProcessingLimitRequestValidator : AbstractValidator<ProcessingLimitRequest>
{
    public ProcessingLimitRequestValidator(PolicySet policy)
    {
        var code = ProblemTypes.ProcessingLimitInvalid.Code;
        RuleFor(x => x.Active).NotNull().WithErrorCode(code).WithMessage("active must be true or false.");
        RuleFor(x => x.Purposes).Must(p => p is not null && p.Count <= 10 && p.All(policy.Purposes.Contains)).WithErrorCode(code)
            .WithMessage("purposes must list the policy's purposes (at most 10).");
        RuleFor(x => x.Reason).Must(r => r is { Length: >= 10 and <= 500 }).WithErrorCode(code).WithMessage("reason must be 10 to 500 characters.");
    }
}

/// <summary>
/// Restriction of processing (Art. 18: <c>POST /v1/children/{id}/restriction</c>, on with the purposes still allowed,
/// or lifted) and objections (Art. 21: <c>POST /v1/children/{id}/objections</c>, the purposes objected to, upheld or
/// withdrawn), recorded by the responsible council, kept as history, in force on the next decision.
/// </summary>
public static class ProcessingLimitsApi
{
    public const string ReasonEntity = "processing_limits";

    public static IEndpointRouteBuilder MapProcessingLimitsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/children/{childId}").WithTags("Consent").RequirePurposeOfUse();
        group.MapPost("/restriction", (ProcessingLimitRequest request, HttpContext http, ExchangeDbContext db, FieldSealer sealer, IWriteGate gate, AuditTrail audit, TimeProvider clock, CancellationToken ct) =>
                RecordAsync(ProcessingLimit.Restriction, request, http, db, sealer, gate, audit, clock, ct))
            .Audited("restriction.record", "restriction", "restriction").Decides("write").Validates<ProcessingLimitRequest>();
        group.MapPost("/objections", (ProcessingLimitRequest request, HttpContext http, ExchangeDbContext db, FieldSealer sealer, IWriteGate gate, AuditTrail audit, TimeProvider clock, CancellationToken ct) =>
                RecordAsync(ProcessingLimit.Objection, request, http, db, sealer, gate, audit, clock, ct))
            .Audited("objection.record", "restriction", "objection").Decides("write").Validates<ProcessingLimitRequest>();
        return app;
    }

    private static async Task<Results<Created<ProcessingLimitView>, ProblemHttpResult>> RecordAsync(
        string kind, ProcessingLimitRequest request, HttpContext http, ExchangeDbContext db, FieldSealer sealer,
        IWriteGate gate, AuditTrail audit, TimeProvider clock, CancellationToken ct)
    {
        var caller = Caller.From(http.User);
        var child = PolicyDecidedEndpointExtensions.DecidedChild(http);

        var id = Guid.NewGuid();
        // Free text a person wrote about the child: sealed under its key (before the write lock: key work may be remote).
        var sealedReason = await sealer.SealAsync(ReasonPlace(child, id), request.Reason!, ct).ConfigureAwait(false);
        var record = new ProcessingLimit
        {
            Id = id, ChildId = child, Kind = kind, Active = request.Active!.Value,
            Purposes = request.Purposes!.Distinct(StringComparer.Ordinal).ToList(), SealedReason = sealedReason, RecordedBy = caller.Organisation,
            RecordedAt = clock.UtcNowToMillisecond(),
        };
        using var _ = await gate.EnterAsync(ct).ConfigureAwait(false);
        db.ProcessingLimits.Add(record);
        audit.Expect(StatusCodes.Status201Created, child);
        await db.SaveChangesAsync(ct).ConfigureAwait(false);
        return TypedResults.Created($"/v1/children/{child}/{kind}", new ProcessingLimitView(record.Id, record.ChildId, kind, record.Active, record.Purposes, record.RecordedAt));
    }

    /// <summary>Where a restriction's or objection's reason is sealed: bound to the child's data key and to the record.</summary>
    public static FieldPlace ReasonPlace(string childId, Guid limitId) => new(ReasonEntity, "reason", childId, limitId.ToString("N"));
}

/// <summary>
/// A child's processing state for the engine: restricted, and which purposes remain allowed. An upheld objection
/// removes its purposes; a restriction allows only the purposes it names (an objection still removes them).
/// </summary>
public sealed class ProcessingState(ExchangeDbContext db, PolicySet policy)
{
    public async Task<(bool Restricted, IReadOnlyList<string> Allows)> ForAsync(string childId, CancellationToken ct)
    {
        var limits = await db.ProcessingLimits.AsNoTracking().Where(l => l.ChildId == childId).ToListAsync(ct).ConfigureAwait(false);
        var restriction = limits.Where(l => l.Kind == ProcessingLimit.Restriction).MaxBy(l => l.RecordedAt);
        // Per purpose, the newest objection that names it decides: upheld, or withdrawn.
        var objections = limits.Where(l => l.Kind == ProcessingLimit.Objection).ToList();
        var objected = policy.Purposes.Where(p => objections.Where(l => l.Purposes.Contains(p)).MaxBy(l => l.RecordedAt) is { Active: true })
            .ToHashSet(StringComparer.Ordinal);
        var restricted = restriction is { Active: true };
        if (!restricted && objected.Count == 0)
        {
            return (false, []);
        }

        var allowed = (restricted ? restriction!.Purposes : policy.Purposes.ToList()).Where(p => !objected.Contains(p)).ToList();
        return (true, allowed);
    }
}
