using Exchange.Api.Auth;
using Exchange.Api.Auditing;
using Exchange.Api.Configuration;
using Exchange.Api.Dates;
using Exchange.Api.Decisions;
using Exchange.Api.Errors;
using Exchange.Api.Events;
using Exchange.Api.Identity;
using Exchange.Api.Paging;
using Exchange.Api.Policy;
using Exchange.Api.Purpose;
using Exchange.Api.Storage;
using Exchange.Api.Work;
using Exchange.Crypto.Keys;
using Exchange.Crypto.Sealing;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Exchange.Api.Subscriptions;

/// <summary>
/// Webhook subscriptions (docs/EVENTS.md): an organisation names a callback URL and the event types it wants, gets a
/// Standard Webhooks signing secret once, and from then on each outbox item it may be told of is POSTed to it, signed,
/// retried for a day, then parked as a dead letter it can list and redeliver. A subscription belongs to the
/// organisation: anyone of it whose role may be told of events lists and reads it, but only a caller holding every
/// role it is decided for (<see cref="SubscriptionRoles"/>: those of its maker's roles that may be told of events)
/// deletes it, rotates its secret (<see cref="SecretRotation"/>) or redelivers its letters (it is told what those roles
/// may be told); the organisation's DPO may delete any of them, and do nothing else with them; nobody else learns
/// they exist.
/// </summary>
public static class SubscriptionsApi
{
    public const string SecretEntity = "subscriptions";

    /// <summary>
    /// What the policy grants a caller that deletes any of its organisation's subscriptions without being told of
    /// events (policies/rules.yaml, <c>dpo-subscription-removal</c>): deleting shreds the subscription's key.
    /// </summary>
    public const string RemoveAnyAction = "erase";

    /// <summary>Where a subscription's secret is sealed: under the subscription's own data key, shredded with it.</summary>
    public static FieldPlace SecretPlace(string subscriptionId) => new(SecretEntity, "secret", subscriptionId, subscriptionId);

    public static IEndpointRouteBuilder MapSubscriptionsApi(this IEndpointRouteBuilder app)
    {
        // Decided without a child: a role with no rule for the notification category, or a purpose it may not use, is
        // refused at once; what a subscription is told is decided per item when it is delivered (EventAudience).
        var group = app.MapGroup("/v1/subscriptions").WithTags("Subscriptions").RequirePurposeOfUse();
        group.MapPost("/", CreateAsync).Audited("subscription.create", "notification", "id")
            .Decides("read", noChild: true, findsChild: true).Validates<SubscriptionRequest>();
        group.MapGet("/", ListAsync).Audited("subscription.list", "notification", "items").Decides("read", noChild: true, findsChild: true);
        group.MapGet("/{subscriptionId}", GetAsync).Audited("subscription.read", "notification", "id").Decides("read", noChild: true, findsChild: true);
        // The organisation's DPO, told of no events, may still delete (only delete) any of them: see ManageableAsync.
        group.MapDelete("/{subscriptionId}", DeleteAsync).Audited("subscription.delete", "notification", "id")
            .Decides("read", noChild: true, findsChild: true, otherwise: RemoveAnyAction);
        group.MapPost("/{subscriptionId}/secret", SecretRotation.RotateAsync).Audited("subscription.rotate-secret", "notification", "id")
            .Decides("read", noChild: true, findsChild: true);
        group.MapGet("/{subscriptionId}/dead-letters", DeadLettersAsync).Audited("subscription.dead-letters", "notification", "items")
            .Decides("read", noChild: true, findsChild: true);
        group.MapPost("/{subscriptionId}/dead-letters/{deliveryId}/redeliver", RedeliverAsync)
            .Audited("subscription.redeliver", "notification", "deliveryId").Decides("read", noChild: true, findsChild: true);
        return app;
    }

    private static async Task<Results<Created<CreatedSubscriptionView>, ProblemHttpResult>> CreateAsync(
        SubscriptionRequest request, HttpContext http, ChildDecisions decisions, ExchangeDbContext db, FieldSealer sealer, DataKeyService keys, UnitOfWork work,
        PolicySet policy, IOptions<ExchangeOptions> options, TimeProvider clock, CancellationToken ct)
    {
        decisions.DecidedAtDelivery();
        var caller = Caller.From(http.User);
        // Only the roles that may be told of events under the purpose: another role of the token would add nothing to
        // a delivery and only keep the organisation's callers without it from deleting the subscription.
        var roles = SubscriptionRoles.Told(policy, caller.Roles, PurposeOfUse.Of(http)!);
        if (roles.Count == 0)
        {
            // The decision point refuses such a caller already (no rule for the role, or the purpose); kept in step with it.
            return Problems.Result(ProblemTypes.Forbidden, "No rule of the access policy lets your role do this to this kind of data.");
        }

        var limit = options.Value.Webhooks.MaxPerOrganisation;
        // Refused before any key is made for it (a data key per subscription: a vault call in production).
        if (await db.Subscriptions.CountAsync(s => s.OrganisationId == caller.Organisation, ct).ConfigureAwait(false) >= limit)
        {
            return Problems.Result(ProblemTypes.SubscriptionLimit);
        }

        var id = Ids.NewSubscriptionId();
        var secret = WebhookSignature.NewSecret();
        // Sealed before the write gate (it may create the subscription's data key in a transaction of its own).
        var sealedSecret = await sealer.SealAsync(SecretPlace(id), secret, ct).ConfigureAwait(false);
        await work.BeginAsync(ct).ConfigureAwait(false);
        if (db is PostgresExchangeDbContext)
        {
            // The write gate serialises SQLite; on PostgreSQL two requests of one organisation take turns here, so the
            // count below cannot be passed by requests made at the same moment.
            await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock(hashtext({"subscriptions:" + caller.Organisation}))", ct).ConfigureAwait(false);
        }

        if (await db.Subscriptions.CountAsync(s => s.OrganisationId == caller.Organisation, ct).ConfigureAwait(false) >= limit)
        {
            await work.RollbackAsync(ct).ConfigureAwait(false);
            await keys.EraseAsync(id, ct).ConfigureAwait(false); // the key made for it goes with it
            return Problems.Result(ProblemTypes.SubscriptionLimit);
        }

        var now = clock.UtcNowToMillisecond();
        // New subscriptions hear of what happens from now on: the feed (GET /v1/events) holds what came before.
        var from = await db.OutboxItems.MaxAsync(o => (long?)o.Sequence, ct).ConfigureAwait(false) ?? 0;
        var subscription = new Subscription
        {
            Id = id,
            OrganisationId = caller.Organisation,
            Roles = string.Join(' ', roles),
            Purpose = PurposeOfUse.Of(http)!,
            Url = request.Url!,
            EventTypes = string.Join(' ', request.EventTypes!),
            SealedSecret = sealedSecret,
            CreatedBy = caller.Subject,
            CreatedAt = now,
            Cursor = from,
        };
        db.Subscriptions.Add(subscription);
        await work.CommitAsync(Outcome.Created(), ct).ConfigureAwait(false);
        var view = SubscriptionView.Of(subscription, roles);
        return TypedResults.Created($"/v1/subscriptions/{id}",
            new CreatedSubscriptionView(view.Id, view.Url, view.EventTypes, view.Purpose, view.Roles, view.CreatedAt, secret));
    }

    private static async Task<Results<Ok<Page<SubscriptionView>>, ProblemHttpResult>> ListAsync(
        HttpContext http, ChildDecisions decisions, ExchangeDbContext db, PolicySet policy, string? cursor, int? limit, CancellationToken ct)
    {
        decisions.DecidedAtDelivery();
        if (!PageRequest.TryParse(cursor, limit, out var page, out var problem))
        {
            return problem;
        }

        var organisation = Caller.From(http.User).Organisation;
        var query = db.Subscriptions.AsNoTracking().Where(s => s.OrganisationId == organisation);
        if (page.After is { } after)
        {
            query = query.Where(s => s.CreatedAt > after.At || (s.CreatedAt == after.At && string.Compare(s.Id, after.Id) > 0));
        }

        var rows = await query.OrderBy(s => s.CreatedAt).ThenBy(s => s.Id).Take(page.Limit + 1).ToListAsync(ct).ConfigureAwait(false);
        var views = await WithCountsAsync(db, policy, rows, ct).ConfigureAwait(false);
        return TypedResults.Ok(Pages.From(rows, page.Limit, s => views[s.Id], s => new PageCursor(s.CreatedAt, s.Id)));
    }

    private static async Task<Results<Ok<SubscriptionView>, ProblemHttpResult>> GetAsync(
        string subscriptionId, HttpContext http, ChildDecisions decisions, ExchangeDbContext db, PolicySet policy, CancellationToken ct)
    {
        decisions.DecidedAtDelivery();
        var subscription = await OwnAsync(db, http, subscriptionId, ct).ConfigureAwait(false);
        return subscription is null ? Problems.Result(ProblemTypes.SubscriptionNotFound)
            : TypedResults.Ok((await WithCountsAsync(db, policy, [subscription], ct).ConfigureAwait(false))[subscription.Id]);
    }

    /// <summary>
    /// Deletes the subscription and whatever it still had to deliver, and shreds its data key (its secret's, and the
    /// previous one's). The organisation's DPO, granted <see cref="RemoveAnyAction"/> by the policy, deletes any of them.
    /// </summary>
    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(
        string subscriptionId, HttpContext http, Decided decided, ChildDecisions decisions, ExchangeDbContext db, PolicySet policy, DataKeyService keys,
        UnitOfWork work, CancellationToken ct)
    {
        decisions.DecidedAtDelivery();
        var removesAny = decided.Action == RemoveAnyAction && decided.Decision.Permit;
        await work.BeginAsync(ct).ConfigureAwait(false);
        var (subscription, refusal) = await ManageableAsync(db, policy, http, subscriptionId, ct, removesAny).ConfigureAwait(false);
        if (subscription is null)
        {
            return refusal!;
        }

        await work.DeleteAsync(db.WebhookDeliveries.Where(d => d.SubscriptionId == subscription.Id), ct).ConfigureAwait(false);
        await work.DeleteAsync(db.Subscriptions.Where(s => s.Id == subscription.Id), ct).ConfigureAwait(false);
        await keys.EraseAsync(subscription.Id, ct).ConfigureAwait(false);
        await work.CommitAsync(Outcome.NoContent(), ct).ConfigureAwait(false);
        return TypedResults.NoContent();
    }

    /// <summary>
    /// The subscription's dead letters, newest last, each decided as the feed decides an item: one the caller may no
    /// longer be told of (the relationship ended, the child was erased) is left out.
    /// </summary>
    private static async Task<Results<Ok<Page<DeadLetterView>>, ProblemHttpResult>> DeadLettersAsync(
        string subscriptionId, HttpContext http, ChildDecisions decisions, EventAudience audience, AuditTrail audit, ExchangeDbContext db,
        string? cursor, int? limit, CancellationToken ct)
    {
        decisions.DecidedAtDelivery();
        if (!PageRequest.TryParse(cursor, limit, out var page, out var problem))
        {
            return problem;
        }

        var subscription = await OwnAsync(db, http, subscriptionId, ct).ConfigureAwait(false);
        if (subscription is null)
        {
            return Problems.Result(ProblemTypes.SubscriptionNotFound);
        }

        var query = db.WebhookDeliveries.AsNoTracking().Where(d => d.SubscriptionId == subscription.Id && d.State == WebhookDelivery.Dead);
        if (page.After is { } after)
        {
            if (!long.TryParse(after.Id, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var afterSequence))
            {
                return Problems.Result(ProblemTypes.CursorInvalid);
            }

            query = query.Where(d => d.DeadAt > after.At || (d.DeadAt == after.At && d.Sequence > afterSequence));
        }

        var rows = await query.OrderBy(d => d.DeadAt).ThenBy(d => d.Sequence).Take(page.Limit + 1).ToListAsync(ct).ConfigureAwait(false);
        var told = await audience.TellAsync(Caller.From(http.User), PurposeOfUse.Of(http)!, rows, d => new EventFacts(d.Type, d.ChildId, d.OccurredAt), ct)
            .ConfigureAwait(false);
        var notices = told.ToDictionary(t => t.Item.Id, t => t.Notice);
        decisions.AdoptBatch(told.Count > 0 ? told[0].Notice : null);
        var shown = rows.Take(page.Limit).Where(d => notices.ContainsKey(d.Id)).Select(d => DeadLetterView.Of(d, notices[d.Id].ChildId ?? d.ChildId)).ToList();
        audit.AlsoAbout(shown.Select(d => d.ChildId));
        var next = rows.Count > page.Limit ? new PageCursor(rows[page.Limit - 1].DeadAt!.Value, rows[page.Limit - 1].Sequence.ToString(System.Globalization.CultureInfo.InvariantCulture)).Encode() : null;
        return TypedResults.Ok(new Page<DeadLetterView>(shown, next));
    }

    /// <summary>Puts a dead letter back to be sent now, with a fresh retry budget (after the receiver is mended).</summary>
    private static async Task<Results<Accepted<DeadLetterView>, ProblemHttpResult>> RedeliverAsync(
        string subscriptionId, string deliveryId, HttpContext http, ChildDecisions decisions, EventAudience audience, ExchangeDbContext db,
        PolicySet policy, UnitOfWork work, TimeProvider clock, CancellationToken ct)
    {
        decisions.DecidedAtDelivery();
        var (subscription, refusal) = await ManageableAsync(db, policy, http, subscriptionId, ct).ConfigureAwait(false);
        if (subscription is null)
        {
            return refusal!;
        }

        if (!Guid.TryParse(deliveryId, out var id)
            || await db.WebhookDeliveries.AsNoTracking().FirstOrDefaultAsync(d => d.Id == id && d.SubscriptionId == subscription.Id && d.State == WebhookDelivery.Dead, ct)
                .ConfigureAwait(false) is not { } dead)
        {
            return Problems.Result(ProblemTypes.DeadLetterNotFound);
        }

        // What may not be told any more is not sent again, and its letter answers as if absent.
        var told = await audience.TellAsync(Caller.From(http.User), PurposeOfUse.Of(http)!, [dead], d => new EventFacts(d.Type, d.ChildId, d.OccurredAt), ct)
            .ConfigureAwait(false);
        if (told.Count == 0)
        {
            return Problems.Result(ProblemTypes.DeadLetterNotFound);
        }

        decisions.Adopt(told[0].Notice);
        var childId = told[0].Notice.ChildId ?? dead.ChildId;
        await work.BeginAsync(ct).ConfigureAwait(false);
        var now = clock.UtcNowToMillisecond();
        var revived = await work.UpdateAsync(db.WebhookDeliveries.Where(d => d.Id == id && d.State == WebhookDelivery.Dead), u => u
            .SetProperty(d => d.State, WebhookDelivery.Pending)
            .SetProperty(d => d.DueSince, now)
            .SetProperty(d => d.NextAttemptAt, now)
            .SetProperty(d => d.DeadAt, (DateTimeOffset?)null)
            .SetProperty(d => d.LeaseUntil, (DateTimeOffset?)null), ct).ConfigureAwait(false);
        if (revived == 0)
        {
            return Problems.Result(ProblemTypes.DeadLetterNotFound); // redelivered by another request meanwhile
        }

        await work.CommitAsync(Outcome.Accepted(childId), ct).ConfigureAwait(false);
        var view = DeadLetterView.Of(dead, childId) with { State = WebhookDelivery.Pending, DeadAt = null };
        return TypedResults.Accepted($"/v1/subscriptions/{subscription.Id}/dead-letters", view);
    }

    private static Task<Subscription?> OwnAsync(ExchangeDbContext db, HttpContext http, string subscriptionId, CancellationToken ct)
    {
        var organisation = Caller.From(http.User).Organisation;
        return db.Subscriptions.AsNoTracking().FirstOrDefaultAsync(s => s.Id == subscriptionId && s.OrganisationId == organisation, ct);
    }

    /// <summary>
    /// The organisation's subscription, for an action that manages it (delete, rotate its secret, redeliver): the caller
    /// must hold every role it is decided for (<see cref="SubscriptionRoles"/>), or one with fewer could silence, take
    /// over or replay a subscription that is told more than it may be told. Refused with 403, not 404: the caller can
    /// list it anyway. <paramref name="removesAny"/>: the caller was granted deleting any of its organisation's
    /// subscriptions (its DPO), and is deleting. Another organisation's is not found, as for every route, whoever asks.
    /// </summary>
    internal static async Task<(Subscription? Subscription, ProblemHttpResult? Refusal)> ManageableAsync(
        ExchangeDbContext db, PolicySet policy, HttpContext http, string subscriptionId, CancellationToken ct, bool removesAny = false)
    {
        var subscription = await OwnAsync(db, http, subscriptionId, ct).ConfigureAwait(false);
        if (subscription is null)
        {
            return (null, Problems.Result(ProblemTypes.SubscriptionNotFound));
        }

        var held = Caller.From(http.User).Roles;
        return removesAny || SubscriptionRoles.Of(policy, subscription).All(role => held.Contains(role, StringComparer.Ordinal))
            ? (subscription, null)
            : (null, Problems.Result(ProblemTypes.SubscriptionRolesRequired));
    }

    internal static async Task<Dictionary<string, SubscriptionView>> WithCountsAsync(
        ExchangeDbContext db, PolicySet policy, IReadOnlyList<Subscription> rows, CancellationToken ct)
    {
        var ids = rows.Select(r => r.Id).ToList();
        var counts = await db.WebhookDeliveries.AsNoTracking().Where(d => ids.Contains(d.SubscriptionId))
            .GroupBy(d => new { d.SubscriptionId, d.State }).Select(g => new { g.Key.SubscriptionId, g.Key.State, Count = g.Count() })
            .ToListAsync(ct).ConfigureAwait(false);
        var delivered = await db.WebhookDeliveries.AsNoTracking().Where(d => ids.Contains(d.SubscriptionId) && d.DeliveredAt != null)
            .GroupBy(d => d.SubscriptionId).Select(g => new { Id = g.Key, Last = g.Max(d => d.DeliveredAt) }).ToListAsync(ct).ConfigureAwait(false);
        int Count(string id, string state) => counts.FirstOrDefault(c => c.SubscriptionId == id && c.State == state)?.Count ?? 0;
        return rows.ToDictionary(r => r.Id, r => SubscriptionView.Of(r, SubscriptionRoles.Of(policy, r), Count(r.Id, WebhookDelivery.Pending), Count(r.Id, WebhookDelivery.Dead),
            delivered.FirstOrDefault(d => d.Id == r.Id)?.Last));
    }
}
