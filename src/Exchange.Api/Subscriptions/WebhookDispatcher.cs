using System.Net.Http.Headers;
using System.Text.Json;
using Exchange.Api.Auditing;
using Exchange.Api.Configuration;
using Exchange.Api.Dates;
using Exchange.Api.Events;
using Exchange.Api.Logging;
using Exchange.Api.Policy;
using Exchange.Api.Storage;
using Exchange.Api.Work;
using Exchange.Audit.Events;
using Exchange.Crypto.Sealing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Exchange.Api.Subscriptions;

/// <summary>
/// Delivers outbox items to subscriptions (docs/EVENTS.md), one pass per call: it queues each new item for every
/// subscription whose organisation may be told of it (decided as the pull feed decides), then takes the deliveries
/// that are due, decides each again (a relationship may have ended meanwhile), records every one in the audit log
/// before it leaves, POSTs it signed per Standard Webhooks (with the secret a rotation replaced too, during its grace
/// period), and records the outcome: delivered, retried later with
/// exponential backoff and jitter, or parked as a dead letter once the retry budget is spent. Several instances on
/// one PostgreSQL database share the work: a queued item is claimed by one of them (<c>FOR UPDATE SKIP LOCKED</c>
/// and a lease), and an item is queued once per subscription (a compare-and-set on the subscription's cursor, backed
/// by a unique index).
/// </summary>
public sealed partial class WebhookDispatcher(
    ExchangeDbContext db, UnitOfWork work, EventAudience audience, FieldSealer sealer, AuditWriter auditLog, PolicySet policy,
    IHttpClientFactory httpClients, IOptions<ExchangeOptions> options, TimeProvider clock, ILogger<WebhookDispatcher> logger)
{
    public const string HttpClientName = "webhooks";
    public const string DeliverAction = "webhook.deliver";

    /// <summary>Items one pass reads per subscription: the rest wait for the next pass.</summary>
    private const int ItemsPerPass = 2_000;
    private const int Chunk = 500;

    /// <summary>The fields a delivery carries (what the audit event says was released).</summary>
    private static readonly string[] DeliveredFields = ["childId", "eventId", "occurredAt", "type"];

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>What one pass did.</summary>
    public sealed record Report(int Queued, int Delivered, int Failed, int Dead, int Withdrawn)
    {
        /// <summary>Deliveries the pass took and settled (sent, or withdrawn).</summary>
        public int Taken => Delivered + Failed + Dead + Withdrawn;
    }

    private WebhookOptions Options => options.Value.Webhooks;

    public async Task<Report> RunOnceAsync(CancellationToken ct)
    {
        // First, so a pass that fails later (a receiver, the database) still drops the secrets whose grace is over.
        await ForgetPreviousSecretsAsync(ct).ConfigureAwait(false);
        var queued = await QueueNewItemsAsync(ct).ConfigureAwait(false);
        var sent = await SendDueAsync(ct).ConfigureAwait(false);
        await ForgetSettledAsync(ct).ConfigureAwait(false);
        var report = sent with { Queued = queued };
        if (report != new Report(0, 0, 0, 0, 0))
        {
            LogPass(logger, report.Queued, report.Delivered, report.Failed, report.Dead, report.Withdrawn);
        }

        return report;
    }

    /// <summary>
    /// Deletes the rows of deliveries settled longer than <see cref="WebhookOptions.KeepSettledFor"/> ago (storage
    /// limitation: the audit log is the lasting record of who was told). At most one batch a pass, so it never holds the
    /// write gate long; cheap when there is nothing to delete (the state index).
    /// </summary>
    private async Task ForgetSettledAsync(CancellationToken ct)
    {
        var cutoff = clock.GetUtcNow() - Options.KeepSettledFor;
        var old = db.WebhookDeliveries.Where(d => ((d.State == WebhookDelivery.Delivered || d.State == WebhookDelivery.Withdrawn) && d.NextAttemptAt < cutoff)
            || (d.State == WebhookDelivery.Dead && d.DeadAt < cutoff));
        var batch = await old.AsNoTracking().OrderBy(d => d.NextAttemptAt).Select(d => d.Id).Take(1_000).ToListAsync(ct).ConfigureAwait(false);
        if (batch.Count == 0)
        {
            return;
        }

        await work.BeginAsync(ct).ConfigureAwait(false);
        try
        {
            await work.DeleteAsync(db.WebhookDeliveries.Where(d => EF.Parameter(batch).Contains(d.Id)), ct).ConfigureAwait(false);
            await work.CommitAsync(Outcome.Background, ct).ConfigureAwait(false);
        }
        finally
        {
            await work.RollbackAsync(CancellationToken.None).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Drops the secrets rotations replaced once their grace period is over: they sign nothing any more, and a secret
    /// kept is one more to leak. Cheap when there is none (one query).
    /// </summary>
    private async Task ForgetPreviousSecretsAsync(CancellationToken ct)
    {
        var now = clock.UtcNowToMillisecond();
        if (!await db.Subscriptions.AsNoTracking().AnyAsync(s => s.PreviousSecretUntil != null && s.PreviousSecretUntil <= now, ct).ConfigureAwait(false))
        {
            return;
        }

        await work.BeginAsync(ct).ConfigureAwait(false);
        try
        {
            await work.UpdateAsync(db.Subscriptions.Where(s => s.PreviousSecretUntil != null && s.PreviousSecretUntil <= now), u => u
                .SetProperty(s => s.SealedPreviousSecret, (byte[]?)null)
                .SetProperty(s => s.PreviousSecretUntil, (DateTimeOffset?)null), ct).ConfigureAwait(false);
            await work.CommitAsync(Outcome.Background, ct).ConfigureAwait(false);
        }
        finally
        {
            await work.RollbackAsync(CancellationToken.None).ConfigureAwait(false);
        }
    }

    /// <summary>Passes until one takes less than a full batch: a backlog is worked through at once, not a batch per poll.</summary>
    public async Task<Report> DrainAsync(CancellationToken ct)
    {
        var total = new Report(0, 0, 0, 0, 0);
        Report pass;
        do
        {
            pass = await RunOnceAsync(ct).ConfigureAwait(false);
            total = new Report(total.Queued + pass.Queued, total.Delivered + pass.Delivered, total.Failed + pass.Failed,
                total.Dead + pass.Dead, total.Withdrawn + pass.Withdrawn);
        }
        while (pass.Taken >= Options.BatchSize && !ct.IsCancellationRequested);
        return total;
    }

    /// <summary>
    /// The caller a subscription's deliveries are decided for: its organisation with the roles it was made with that
    /// may be told of events under its purpose (<see cref="SubscriptionRoles"/>: the roles managing it needs).
    /// </summary>
    public PolicyCaller CallerOf(Subscription subscription)
    {
        ArgumentNullException.ThrowIfNull(subscription);
        return new PolicyCaller("webhook:" + subscription.Id, subscription.OrganisationId, SubscriptionRoles.Of(policy, subscription));
    }

    /// <summary>
    /// Queues the items each subscription has not yet considered. Cheap when idle (one query finds nothing newer than
    /// every cursor) and at scale: subscriptions at the same place read each chunk once together, and only those of an
    /// organisation with some relationship to one of the chunk's children (a council by its care episodes, a host
    /// council, a school, a health body) have it decided; the others just move past it.
    /// </summary>
    private async Task<int> QueueNewItemsAsync(CancellationToken ct)
    {
        var newest = await db.OutboxItems.AsNoTracking().MaxAsync(o => (long?)o.Sequence, ct).ConfigureAwait(false) ?? 0;
        var active = db.Organisations.Where(o => o.Active).Select(o => o.Id);
        var pending = await db.Subscriptions.AsNoTracking().Where(s => s.Cursor < newest && active.Contains(s.OrganisationId)).ToListAsync(ct).ConfigureAwait(false);
        var queued = 0;
        for (var round = 0; round < ItemsPerPass / Chunk && pending.Count > 0; round++)
        {
            var still = new List<Subscription>();
            foreach (var group in pending.GroupBy(s => s.Cursor))
            {
                var from = group.Key;
                var items = await db.OutboxItems.AsNoTracking().Where(o => o.Sequence > from)
                    .OrderBy(o => o.Sequence).Take(Chunk).ToListAsync(ct).ConfigureAwait(false);
                if (items.Count == 0)
                {
                    continue;
                }

                var related = await RelatedOrganisationsAsync(items.Select(i => i.ChildId).Distinct(StringComparer.Ordinal).ToList(), ct).ConfigureAwait(false);
                var decided = new List<(Subscription Subscription, IReadOnlyList<(OutboxItem Item, AccessDecision Notice)> Told)>();
                foreach (var subscription in group.Where(s => related.Contains(s.OrganisationId)))
                {
                    var wanted = subscription.EventTypeList;
                    decided.Add((subscription, await audience.TellAsync(CallerOf(subscription), subscription.Purpose, items.Where(i => wanted.Contains(i.Type)).ToList(),
                        o => new EventFacts(o.Type, o.ChildId, o.OccurredAt), ct).ConfigureAwait(false)));
                }

                var unrelated = group.Where(s => !related.Contains(s.OrganisationId)).Select(s => s.Id).ToList();
                queued += await AdvanceAsync(from, items[^1].Sequence, unrelated, decided, ct).ConfigureAwait(false);
                foreach (var subscription in group)
                {
                    subscription.Cursor = items[^1].Sequence;
                }

                if (items.Count == Chunk)
                {
                    still.AddRange(group);
                }
            }

            pending = still;
        }

        return queued;
    }

    /// <summary>
    /// Moves the subscriptions past a chunk and queues what was decided for them, in one unit of work. Compare-and-set
    /// on each cursor: a subscription another instance has already moved gets nothing queued twice (and the unique
    /// index on subscription and item stands behind it).
    /// </summary>
    private async Task<int> AdvanceAsync(long from, long next, List<string> unrelated,
        List<(Subscription Subscription, IReadOnlyList<(OutboxItem Item, AccessDecision Notice)> Told)> decided, CancellationToken ct)
    {
        var queued = 0;
        await work.BeginAsync(ct).ConfigureAwait(false);
        try
        {
            var now = clock.UtcNowToMillisecond();
            if (unrelated.Count > 0)
            {
                await work.UpdateAsync(db.Subscriptions.Where(s => EF.Parameter(unrelated).Contains(s.Id) && s.Cursor == from),
                    u => u.SetProperty(s => s.Cursor, next), ct).ConfigureAwait(false);
            }

            foreach (var (subscription, told) in decided)
            {
                var id = subscription.Id;
                if (await work.UpdateAsync(db.Subscriptions.Where(s => s.Id == id && s.Cursor == from), u => u.SetProperty(s => s.Cursor, next), ct)
                        .ConfigureAwait(false) == 0)
                {
                    continue;
                }

                db.WebhookDeliveries.AddRange(told.Select(t => new WebhookDelivery
                {
                    Id = Guid.CreateVersion7(),
                    SubscriptionId = id,
                    Sequence = t.Item.Sequence,
                    EventId = t.Item.Id,
                    Type = t.Item.Type,
                    ChildId = t.Notice.ChildId ?? t.Item.ChildId,
                    OccurredAt = t.Item.OccurredAt,
                    State = WebhookDelivery.Pending,
                    DueSince = now,
                    NextAttemptAt = now,
                }));
                queued += told.Count;
            }

            await work.CommitAsync(Outcome.Background, ct).ConfigureAwait(false);
            return queued;
        }
        finally
        {
            await work.RollbackAsync(CancellationToken.None).ConfigureAwait(false); // nothing, once committed
        }
    }

    /// <summary>
    /// Every organisation with any relationship, past or present, to these children or the children they were merged
    /// into: the councils of their care episodes and every organisation of their relationships. No other organisation
    /// can be permitted to be told of them (the policy decides which of these may).
    /// </summary>
    private async Task<HashSet<string>> RelatedOrganisationsAsync(List<string> children, CancellationToken ct)
    {
        var all = children.ToHashSet(StringComparer.Ordinal);
        // Follow merges to the end of the chain (a survivor may itself have been merged since).
        for (var (next, depth) = (children, 0); next.Count > 0 && depth < 10; depth++)
        {
            var from = next;
            next = (await db.Children.AsNoTracking().Where(c => EF.Parameter(from).Contains(c.Id) && c.MergedIntoChildId != null)
                .Select(c => c.MergedIntoChildId!).ToListAsync(ct).ConfigureAwait(false)).Where(all.Add).ToList();
        }

        var ids = all.ToList();
        var councils = await db.CareEpisodes.AsNoTracking().Where(e => EF.Parameter(ids).Contains(e.ChildId))
            .Select(e => e.ResponsibleLaNumber).Distinct().ToListAsync(ct).ConfigureAwait(false);
        var others = await db.ChildRelationships.AsNoTracking().Where(r => EF.Parameter(ids).Contains(r.ChildId))
            .Select(r => r.OrganisationId).Distinct().ToListAsync(ct).ConfigureAwait(false);
        return councils.Select(la => "la:" + la).Concat(others).ToHashSet(StringComparer.Ordinal);
    }

    private async Task<Report> SendDueAsync(CancellationToken ct)
    {
        var claimed = await ClaimDueAsync(ct).ConfigureAwait(false);
        if (claimed.Count == 0)
        {
            return new Report(0, 0, 0, 0, 0);
        }

        var subscriptionIds = claimed.Select(d => d.SubscriptionId).Distinct(StringComparer.Ordinal).ToList();
        var active = db.Organisations.Where(o => o.Active).Select(o => o.Id);
        var subscriptions = await db.Subscriptions.AsNoTracking().Where(s => subscriptionIds.Contains(s.Id) && active.Contains(s.OrganisationId))
            .ToDictionaryAsync(s => s.Id, StringComparer.Ordinal, ct).ConfigureAwait(false);
        var sends = new List<Send>();
        var withdrawn = new List<(WebhookDelivery Delivery, Subscription? Subscription)>();
        foreach (var group in claimed.GroupBy(d => d.SubscriptionId, StringComparer.Ordinal))
        {
            if (!subscriptions.TryGetValue(group.Key, out var subscription)
                || await OpenSecretAsync(subscription, ct).ConfigureAwait(false) is not { } secret)
            {
                // Deleted meanwhile, its organisation deactivated, or its secret unreadable: nothing more is sent for it.
                withdrawn.AddRange(group.Select(d => (d, (Subscription?)null)));
                continue;
            }

            var previous = await OpenPreviousSecretAsync(subscription, ct).ConfigureAwait(false);
            var items = group.ToList();
            var told = await audience.TellAsync(CallerOf(subscription), subscription.Purpose, items, d => new EventFacts(d.Type, d.ChildId, d.OccurredAt), ct)
                .ConfigureAwait(false);
            var toldIds = told.Select(t => t.Item.Id).ToHashSet();
            sends.AddRange(told.Select(t => new Send(t.Item, subscription, secret, previous, t.Notice)));
            withdrawn.AddRange(items.Where(d => !toldIds.Contains(d.Id)).Select(d => (d, (Subscription?)subscription)));
        }

        // The trace before the effect: every delivery about to leave (and every one withheld) is in the log first.
        await RecordAsync(sends, withdrawn, ct).ConfigureAwait(false);
        var results = new System.Collections.Concurrent.ConcurrentDictionary<Guid, Attempt>();
        // A receiver that fails once in a pass is not called again in it: its other deliveries wait with the failed one
        // (backoff per receiver, not per message), so a dead or hostile receiver costs one timeout per retry, not one per
        // delivery, and holds up nobody else's for long.
        var failing = new System.Collections.Concurrent.ConcurrentDictionary<string, bool>(StringComparer.Ordinal);
        var client = httpClients.CreateClient(HttpClientName);
        await Parallel.ForEachAsync(sends.OrderBy(x => x.Delivery.Sequence), new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, Options.Parallelism), CancellationToken = ct },
            async (send, token) =>
            {
                if (failing.ContainsKey(send.Subscription.Id))
                {
                    results[send.Delivery.Id] = Attempt.Deferred(send.ChildId);
                    return;
                }

                var attempt = await PostAsync(client, send, token).ConfigureAwait(false);
                results[send.Delivery.Id] = attempt;
                if (!attempt.Delivered)
                {
                    failing.TryAdd(send.Subscription.Id, true);
                }
            }).ConfigureAwait(false);
        return await RecordOutcomesAsync(results, withdrawn.Select(w => w.Delivery.Id).ToList(), ct).ConfigureAwait(false);
    }

    /// <summary>
    /// Takes up to a batch of due deliveries for this instance: leased, so no other instance takes them while they
    /// are being sent; on PostgreSQL the rows another instance is claiming at the same moment are skipped, not waited for.
    /// </summary>
    private async Task<List<WebhookDelivery>> ClaimDueAsync(CancellationToken ct)
    {
        var now = clock.UtcNowToMillisecond();
        if (!await db.WebhookDeliveries.AsNoTracking().AnyAsync(d => d.State == WebhookDelivery.Pending && d.NextAttemptAt <= now
                && (d.LeaseUntil == null || d.LeaseUntil < now), ct).ConfigureAwait(false))
        {
            return [];
        }

        // Long enough to send a whole batch at the configured parallelism, each waiting out the timeout.
        var lease = now + (Options.Timeout * Math.Ceiling(Options.BatchSize / (double)Math.Max(1, Options.Parallelism))) + TimeSpan.FromMinutes(1);
        await work.BeginAsync(ct).ConfigureAwait(false);
        try
        {
            var batch = Options.BatchSize;
            var due = db is PostgresExchangeDbContext
                ? await db.WebhookDeliveries.FromSql($"""
                    SELECT * FROM webhook_deliveries
                    WHERE "State" = 'pending' AND "NextAttemptAt" <= {now} AND ("LeaseUntil" IS NULL OR "LeaseUntil" < {now})
                    ORDER BY "NextAttemptAt" LIMIT {batch} FOR UPDATE SKIP LOCKED
                    """).AsNoTracking().ToListAsync(ct).ConfigureAwait(false)
                // SQLite: one writer at a time (the write gate), so the claim cannot interleave with another.
                : await db.WebhookDeliveries.AsNoTracking().Where(d => d.State == WebhookDelivery.Pending && d.NextAttemptAt <= now
                        && (d.LeaseUntil == null || d.LeaseUntil < now)).OrderBy(d => d.NextAttemptAt).Take(batch).ToListAsync(ct).ConfigureAwait(false);
            var ids = due.Select(d => d.Id).ToList();
            await work.UpdateAsync(db.WebhookDeliveries.Where(d => ids.Contains(d.Id)), u => u.SetProperty(d => d.LeaseUntil, lease), ct).ConfigureAwait(false);
            await work.CommitAsync(Outcome.Background, ct).ConfigureAwait(false);
            return due;
        }
        finally
        {
            await work.RollbackAsync(CancellationToken.None).ConfigureAwait(false);
        }
    }

    private async Task RecordAsync(List<Send> sends, List<(WebhookDelivery Delivery, Subscription? Subscription)> withdrawn, CancellationToken ct)
    {
        if (!auditLog.Enabled || (sends.Count == 0 && withdrawn.Count == 0))
        {
            return;
        }

        var now = clock.GetUtcNow();
        var requestId = CorrelationIdMiddleware.NewServerId();
        var events = new List<AuditEvent>(sends.Count + withdrawn.Count);
        foreach (var send in sends)
        {
            var template = AuditEvent.Template(requestId, ActorOf(send.Subscription), DeliverAction, "notification", "permit") with
            {
                Purpose = send.Subscription.Purpose,
                Fields = DeliveredFields,
                Rule = send.Notice.Decision.Rule,
                LawfulBasis = send.Notice.Decision.LawfulBasis,
                PolicyHash = send.Notice.Decision.PolicyHash,
                Status = StatusCodes.Status202Accepted,
            };
            events.Add(AuditEvent.Create(now, send.ChildId, template));
        }

        foreach (var (delivery, subscription) in withdrawn)
        {
            var actor = subscription is null ? new AuditActor("webhook:" + delivery.SubscriptionId, null, [], null) : ActorOf(subscription);
            var template = AuditEvent.Template(requestId, actor, DeliverAction, "notification", "deny") with
            {
                Purpose = subscription?.Purpose,
                Rule = PolicyDecision.DefaultDeny,
                Status = StatusCodes.Status403Forbidden,
            };
            events.Add(AuditEvent.Create(now, delivery.ChildId, template));
        }

        await auditLog.AppendManyAsync(events, ct).ConfigureAwait(false);
    }

    private AuditActor ActorOf(Subscription subscription) =>
        new("webhook:" + subscription.Id, subscription.OrganisationId, SubscriptionRoles.Of(policy, subscription), null);

    private async Task<Attempt> PostAsync(HttpClient client, Send send, CancellationToken ct)
    {
        var sentAt = clock.GetUtcNow();
        var delivery = send.Delivery;
        var body = JsonSerializer.SerializeToUtf8Bytes(
            new WebhookPayload(delivery.Type, delivery.OccurredAt, new WebhookData(delivery.EventId, delivery.Type, send.ChildId, delivery.OccurredAt)), Json);
        var messageId = delivery.EventId.ToString();
        var timestamp = sentAt.ToUnixTimeSeconds();
        using var request = new HttpRequestMessage(HttpMethod.Post, send.Subscription.Url) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.TryAddWithoutValidation(WebhookSignature.IdHeader, messageId);
        request.Headers.TryAddWithoutValidation(WebhookSignature.TimestampHeader, timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture));
        // Newest first; the replaced secret only while its grace period lasts at the moment this attempt is signed.
        string[] secrets = send.Previous is { } previous && sentAt < previous.Until ? [send.Secret, previous.Secret] : [send.Secret];
        request.Headers.TryAddWithoutValidation(WebhookSignature.SignatureHeader, WebhookSignature.Sign(secrets, messageId, timestamp, body));
        request.Headers.UserAgent.ParseAdd("Exchange-Webhooks/1");
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(Options.Timeout);
        try
        {
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
            var status = (int)response.StatusCode;
            return new Attempt(status is >= 200 and < 300, status, status is >= 200 and < 300 ? null : "http-status", send.ChildId);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return new Attempt(false, null, "timeout", send.ChildId);
        }
        catch (HttpRequestException failure) when (failure.InnerException is AddressRefusedException)
        {
            return new Attempt(false, null, "address-refused", send.ChildId);
        }
        catch (HttpRequestException)
        {
            return new Attempt(false, null, "connection", send.ChildId);
        }
        catch (Exception failure) when (failure is not OperationCanceledException)
        {
            // Whatever else one receiver's answer does (a malformed response...), it fails this delivery, not the pass.
            return new Attempt(false, null, "connection", send.ChildId);
        }
    }

    /// <summary>The subscription's secret, or null when it cannot be opened (shredded, or damaged: logged by kind).</summary>
    private async Task<string?> OpenSecretAsync(Subscription subscription, CancellationToken ct)
    {
        try
        {
            return await sealer.OpenAsync(SubscriptionsApi.SecretPlace(subscription.Id), subscription.SealedSecret, ct).ConfigureAwait(false)
                is OpenedField.Opened opened ? opened.Value : null;
        }
        catch (Exchange.Crypto.SealedValueException failure)
        {
            LogSecretUnreadable(logger, failure.GetType().Name);
            return null;
        }
    }

    /// <summary>
    /// The secret a rotation replaced, while it still signs; null otherwise. One that fails to open is logged and left
    /// out: deliveries go signed with the current secret, and a receiver that has not switched yet retries them later.
    /// </summary>
    private async Task<PreviousSecret?> OpenPreviousSecretAsync(Subscription subscription, CancellationToken ct)
    {
        if (subscription.SealedPreviousSecret is not { } sealedPrevious || subscription.PreviousSecretUntil is not { } until || until <= clock.GetUtcNow())
        {
            return null;
        }

        try
        {
            return await sealer.OpenAsync(SecretRotation.PreviousSecretPlace(subscription.Id), sealedPrevious, ct).ConfigureAwait(false)
                is OpenedField.Opened opened ? new PreviousSecret(opened.Value, until) : null;
        }
        catch (Exchange.Crypto.SealedValueException failure)
        {
            LogPreviousSecretUnreadable(logger, failure.GetType().Name);
            return null;
        }
    }

    private async Task<Report> RecordOutcomesAsync(IReadOnlyDictionary<Guid, Attempt> results, List<Guid> withdrawn, CancellationToken ct)
    {
        var ids = results.Keys.Concat(withdrawn).ToList();
        var (delivered, failed, dead) = (0, 0, 0);
        var deferred = new List<WebhookDelivery>();
        var retryAt = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
        // Rows this pass queued are still tracked with the values they were added with, not the lease the claim wrote
        // since: read them afresh, or a change back to a value they already hold (the lease's null) would not be saved.
        db.ChangeTracker.Clear();
        await work.BeginAsync(ct).ConfigureAwait(false);
        try
        {
            var now = clock.UtcNowToMillisecond();
            var rows = await db.WebhookDeliveries.Where(d => ids.Contains(d.Id)).ToListAsync(ct).ConfigureAwait(false);
            foreach (var row in rows)
            {
                row.LeaseUntil = null;
                if (!results.TryGetValue(row.Id, out var attempt))
                {
                    row.State = WebhookDelivery.Withdrawn;
                    continue;
                }

                if (attempt.WasDeferred)
                {
                    // Not attempted: it waits for its receiver's next try (set below, with the receiver's backoff).
                    deferred.Add(row);
                    continue;
                }

                // The retry budget counts from the first attempt since it was queued (or redelivered), not from queueing:
                // a backlog or an outage of the service does not spend a receiver's day.
                if (row.LastAttemptAt is null || row.LastAttemptAt < row.DueSince)
                {
                    row.DueSince = now;
                }

                row.Attempts++;
                row.LastAttemptAt = now;
                row.LastStatus = attempt.Status;
                row.LastError = attempt.Error;
                row.ChildId = attempt.ChildId;
                if (attempt.Delivered)
                {
                    row.State = WebhookDelivery.Delivered;
                    row.DeliveredAt = now;
                    delivered++;
                }
                else if (now - row.DueSince >= Options.RetryFor)
                {
                    row.State = WebhookDelivery.Dead;
                    row.DeadAt = now;
                    dead++;
                }
                else
                {
                    row.NextAttemptAt = now + RetryDelay(row.Attempts, Options, Random.Shared.NextDouble());
                    retryAt[row.SubscriptionId] = retryAt.TryGetValue(row.SubscriptionId, out var at) && at > row.NextAttemptAt ? at : row.NextAttemptAt;
                    failed++;
                }
            }

            foreach (var row in deferred)
            {
                row.NextAttemptAt = retryAt.TryGetValue(row.SubscriptionId, out var at) ? at : now;
            }

            // The receiver's other waiting deliveries wait for its next try too.
            foreach (var (subscription, at) in retryAt)
            {
                await work.UpdateAsync(db.WebhookDeliveries.Where(d => d.SubscriptionId == subscription && d.State == WebhookDelivery.Pending && d.NextAttemptAt < at
                        && !EF.Parameter(ids).Contains(d.Id) && (d.LeaseUntil == null || d.LeaseUntil < now)),
                    u => u.SetProperty(d => d.NextAttemptAt, at), ct).ConfigureAwait(false);
            }

            await work.CommitAsync(Outcome.Background, ct).ConfigureAwait(false);
        }
        finally
        {
            await work.RollbackAsync(CancellationToken.None).ConfigureAwait(false);
        }

        return new Report(0, delivered, failed, dead, withdrawn.Count);
    }

    /// <summary>
    /// The wait after the <paramref name="failures"/>th failure: the first delay doubled for each failure before it, up
    /// to the maximum, then "equal jitter" (half of it fixed, half random) so receivers coming back are not hit by every
    /// retry at the same instant.
    /// </summary>
    public static TimeSpan RetryDelay(int failures, WebhookOptions options, double random)
    {
        ArgumentNullException.ThrowIfNull(options);
        var doubled = options.FirstRetryDelay.TotalSeconds * Math.Pow(2, Math.Clamp(failures - 1, 0, 40));
        var capped = Math.Min(doubled, options.MaxRetryDelay.TotalSeconds);
        return TimeSpan.FromSeconds((capped / 2) + (capped / 2 * Math.Clamp(random, 0, 1)));
    }

    private sealed record PreviousSecret(string Secret, DateTimeOffset Until);

    private sealed record Send(WebhookDelivery Delivery, Subscription Subscription, string Secret, PreviousSecret? Previous, AccessDecision Notice)
    {
        /// <summary>The id the child is known by now (a merged child's survivor).</summary>
        public string ChildId => Notice.ChildId ?? Delivery.ChildId;
    }

    private sealed record Attempt(bool Delivered, int? Status, string? Error, string ChildId, bool WasDeferred = false)
    {
        public static Attempt Deferred(string childId) => new(false, null, null, childId, WasDeferred: true);
    }

    [LoggerMessage(EventId = 9703, EventName = "WebhookSecretUnreadable", Level = LogLevel.Error,
        Message = "INTEGRITY: a webhook subscription's secret failed to open ({Kind}); its deliveries are withdrawn")]
    private static partial void LogSecretUnreadable(ILogger logger, string kind);

    [LoggerMessage(EventId = 9704, EventName = "WebhookPreviousSecretUnreadable", Level = LogLevel.Error,
        Message = "INTEGRITY: a webhook subscription's previous secret failed to open ({Kind}); its deliveries are signed with the current secret only")]
    private static partial void LogPreviousSecretUnreadable(ILogger logger, string kind);

    [LoggerMessage(EventId = 9701, EventName = "WebhookPass", Level = LogLevel.Information,
        Message = "Webhooks: {Queued} queued, {Delivered} delivered, {Failed} to retry, {Dead} parked as dead letters, {Withdrawn} withdrawn")]
    private static partial void LogPass(ILogger logger, int queued, int delivered, int failed, int dead, int withdrawn);
}

/// <summary>The body of a delivery (Standard Webhooks' <c>type</c>, <c>timestamp</c>, <c>data</c>): only what the feed's item says.</summary>
public sealed record WebhookPayload(string Type, DateTimeOffset Timestamp, WebhookData Data);

public sealed record WebhookData(Guid EventId, string Type, string ChildId, DateTimeOffset OccurredAt);
