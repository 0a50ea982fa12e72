namespace Exchange.Api.Storage;

/// <summary>
/// An organisation's standing request to have outbox items pushed to its callback URL (docs/EVENTS.md). It is decided
/// like the pull feed, as the organisation with the roles and purpose of the token that created it: what it receives
/// is what that caller could read from <c>GET /v1/events</c>. The signing secret is shown once, at creation or rotation,
/// and kept sealed under the subscription's own data key (with the one it replaced, for a grace period), which deleting
/// the subscription shreds (its row and deliveries go).
/// </summary>
public sealed class Subscription
{
    public const int MaxUrlLength = 2_000;

    /// <summary><c>wh_</c> and 26 random characters (the owner of its data key).</summary>
    public required string Id { get; init; }
    public required string OrganisationId { get; init; }

    /// <summary>
    /// The creating token's roles that the policy lets be told of events under <see cref="Purpose"/>, space-separated:
    /// deliveries are decided for them, and managing the subscription needs them all. Rows made before held every role
    /// of the token; they are narrowed wherever they are read (Subscriptions.SubscriptionRoles), not migrated.
    /// </summary>
    public required string Roles { get; init; }

    /// <summary>The purpose declared when subscribing: every delivery is decided, and audited, under it.</summary>
    public required string Purpose { get; init; }
    public required string Url { get; init; }

    /// <summary>The event types wanted, space-separated.</summary>
    public required string EventTypes { get; init; }

    /// <summary>The <c>whsec_</c> signing secret, sealed (see SubscriptionsApi.SecretPlace).</summary>
    public required byte[] SealedSecret { get; init; }

    /// <summary>
    /// The secret the last rotation replaced, sealed under the same data key (SecretRotation.PreviousSecretPlace):
    /// deliveries are signed with it too until <see cref="PreviousSecretUntil"/>, so a receiver can switch without losing
    /// any. Null when the subscription was never rotated, or once the delivery job has dropped it after that time.
    /// </summary>
    public byte[]? SealedPreviousSecret { get; init; }
    public DateTimeOffset? PreviousSecretUntil { get; init; }

    /// <summary>The subject of the token that created it.</summary>
    public required string CreatedBy { get; init; }
    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>The outbox sequence up to which items have been considered for this subscription.</summary>
    public long Cursor { get; set; }

    public IReadOnlyList<string> RoleList => Roles.Split(' ', StringSplitOptions.RemoveEmptyEntries);
    public IReadOnlyList<string> EventTypeList => EventTypes.Split(' ', StringSplitOptions.RemoveEmptyEntries);
}

/// <summary>
/// One outbox item to be pushed to one subscription: pending until the receiver answers 2xx, retried with backoff,
/// and parked as a dead letter when the retry budget is spent (the organisation may redeliver it). A row holds no
/// more than the item does (type, pseudonymous child id, time); the receiver's answers are kept only as a status code
/// and a short cause, never a response body.
/// </summary>
public sealed class WebhookDelivery
{
    public const string Pending = "pending";
    public const string Delivered = "delivered";
    public const string Dead = "dead";

    /// <summary>The policy no longer lets the organisation be told (the relationship ended, the child was erased...).</summary>
    public const string Withdrawn = "withdrawn";

    public required Guid Id { get; init; }
    public required string SubscriptionId { get; init; }

    /// <summary>The outbox item's sequence and event id (the <c>webhook-id</c> a receiver de-duplicates on).</summary>
    public long Sequence { get; init; }
    public required Guid EventId { get; init; }
    public required string Type { get; init; }
    public required string ChildId { get; set; }
    public DateTimeOffset OccurredAt { get; init; }

    public required string State { get; set; }
    public int Attempts { get; set; }

    /// <summary>When this delivery (or its latest redelivery) was first due: the retry budget counts from here.</summary>
    public DateTimeOffset DueSince { get; set; }
    public DateTimeOffset NextAttemptAt { get; set; }

    /// <summary>An instance sending it holds it until then; another instance does not take it meanwhile.</summary>
    public DateTimeOffset? LeaseUntil { get; set; }
    public DateTimeOffset? LastAttemptAt { get; set; }

    /// <summary>The receiver's last HTTP status, or null when it gave none (timeout, refused connection).</summary>
    public int? LastStatus { get; set; }

    /// <summary>Why the last attempt failed, as a fixed code (<c>http-status</c>, <c>timeout</c>, <c>connection</c>, <c>address-refused</c>).</summary>
    public string? LastError { get; set; }
    public DateTimeOffset? DeliveredAt { get; set; }
    public DateTimeOffset? DeadAt { get; set; }
}
