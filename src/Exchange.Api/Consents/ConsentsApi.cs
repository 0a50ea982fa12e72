using Exchange.Api.Decisions;
using Exchange.Api.Dates;
using System.Globalization;
using Exchange.Api.Auditing;
using Exchange.Api.Auth;
using Exchange.Api.Errors;
using Exchange.Api.Policy;
using Exchange.Api.Purpose;
using Exchange.Api.Relationships;
using Exchange.Api.Storage;
using Exchange.Api.Work;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Exchange.Api.Consents;

/// <summary>
/// Consents (UK GDPR Art. 7) recorded by the responsible council: who gave it, for which categories,
/// recipients and purposes, from/until. Withdrawal takes effect on the next decision; records are never deleted.
/// </summary>
public static class ConsentsApi
{
    public static IEndpointRouteBuilder MapConsentsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/children/{childId}/consents").WithTags("Consent").RequirePurposeOfUse();
        group.MapPost("/", RecordAsync).Audited("consent.record", "consent", "consentId").Decides("write").Validates<ConsentRequest>();
        group.MapGet("/", ListAsync).Audited("consent.list", "consent", "consents").Decides("read");
        group.MapPost("/{consentId}/withdraw", WithdrawAsync).Audited("consent.withdraw", "consent", "withdrawnAt").Decides("write");
        return app;
    }

    private static async Task<Results<Created<ConsentView>, ProblemHttpResult>> RecordAsync(
        ConsentRequest request, Decided decided, HttpContext http, ExchangeDbContext db, UnitOfWork work,
        TimeProvider clock, CancellationToken ct)
    {
        var caller = Caller.From(http.User);
        var child = decided.ChildId;
        var recipients = request.Recipients!.Distinct(StringComparer.Ordinal).ToList();
        var known = await db.Organisations.AsNoTracking().Where(o => recipients.Contains(o.Id) && o.Active).CountAsync(ct).ConfigureAwait(false);
        if (known != recipients.Count)
        {
            return Problems.Result(ProblemTypes.ConsentInvalid, "Every recipient must be a registered, active organisation.");
        }

        var record = new ConsentRecord
        {
            Id = Guid.NewGuid(),
            ChildId = child,
            GivenBy = request.GivenBy!,
            Categories = request.Categories!.Distinct(StringComparer.Ordinal).ToList(),
            Recipients = recipients,
            Purposes = request.Purposes!.Distinct(StringComparer.Ordinal).ToList(),
            From = Date(request.From)!.Value,
            Until = Date(request.Until),
            RecordedBy = caller.Organisation,
            RecordedAt = clock.UtcNowToMillisecond(),
        };
        await work.BeginAsync(ct).ConfigureAwait(false);
        db.Consents.Add(record);
        await work.CommitAsync(Outcome.Created(child), ct).ConfigureAwait(false);
        return TypedResults.Created($"/v1/children/{child}/consents/{record.Id}", View(record));
    }

    private static async Task<Results<Ok<IReadOnlyList<ConsentView>>, ProblemHttpResult>> ListAsync(
        Decided decided, HttpContext http, ExchangeDbContext db, CancellationToken ct)
    {
        var child = decided.ChildId;

        var records = await db.Consents.AsNoTracking().Where(c => c.ChildId == child).OrderBy(c => c.RecordedAt).ToListAsync(ct).ConfigureAwait(false);
        var windows = decided.Windows;
        var caller = Caller.From(http.User).Organisation;
        return TypedResults.Ok<IReadOnlyList<ConsentView>>(records.Where(c => c.RecordedBy == caller || Within(c, windows)).Select(View).ToList());
    }

    /// <summary>
    /// A consent is within the caller's windows when the period it was in force (from, to its until or the day
    /// before its withdrawal) overlaps one of them: a consent still in force in the council's episode is its business.
    /// (A caller also sees the consents its organisation recorded itself.)
    /// </summary>
    private static bool Within(ConsentRecord c, DateWindows? windows)
    {
        if (windows is null)
        {
            return true;
        }

        DateOnly? until = c.WithdrawnAt is { } withdrawn ? DateOnly.FromDateTime(withdrawn.UtcDateTime).AddDays(-1) : null;
        if (c.Until is { } u && (until is null || u < until))
        {
            until = u;
        }

        return windows.Overlaps(c.From, until is { } end && end < c.From ? c.From : until, c.RecordedAt);
    }

    /// <summary>Idempotent: withdrawing a withdrawn consent answers the same.</summary>
    private static async Task<Results<Ok<ConsentView>, ProblemHttpResult>> WithdrawAsync(
        string consentId, Decided decided, HttpContext http, ExchangeDbContext db, UnitOfWork work,
        TimeProvider clock, CancellationToken ct)
    {
        var child = decided.ChildId;

        await work.BeginAsync(ct).ConfigureAwait(false);
        var record = Guid.TryParse(consentId, CultureInfo.InvariantCulture, out var id)
            ? await db.Consents.FirstOrDefaultAsync(c => c.Id == id && c.ChildId == child, ct).ConfigureAwait(false)
            : null;
        // A consent outside the caller's windows is not one it can see, so not one it can withdraw.
        if (record is null || (record.RecordedBy != Caller.From(http.User).Organisation && !Within(record, decided.Windows)))
        {
            return Problems.Result(ProblemTypes.ConsentNotFound);
        }

        if (record.WithdrawnAt is null)
        {
            record.WithdrawnAt = clock.UtcNowToMillisecond();
            await work.CommitAsync(Outcome.Ok(child), ct).ConfigureAwait(false);
        }

        return TypedResults.Ok(View(record));
    }

    private static DateOnly? Date(string? text) => text is null ? null : IsoDates.ParseIso(text);

    internal static ConsentView View(ConsentRecord c) => new(c.Id, c.ChildId, c.GivenBy, c.Categories, c.Recipients, c.Purposes,
        c.From.Iso(), c.Until?.Iso(), c.WithdrawnAt, c.RecordedAt);
}
