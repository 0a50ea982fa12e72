using Exchange.Api.Storage;

namespace Exchange.Api.Subscriptions;

/// <summary>
/// A subscription as its organisation sees it; the secret is never shown again after creation or rotation.
/// <paramref name="PreviousSecretUntil"/>: after a rotation, until when deliveries are signed with the replaced secret too.
/// </summary>
public sealed record SubscriptionView(
    string Id, string Url, IReadOnlyList<string> EventTypes, string Purpose, IReadOnlyList<string> Roles, DateTimeOffset CreatedAt,
    int Pending, int DeadLetters, DateTimeOffset? LastDeliveredAt, DateTimeOffset? PreviousSecretUntil)
{
    /// <summary>The view of <paramref name="s"/>, showing <paramref name="roles"/>: those it is decided for (<see cref="SubscriptionRoles"/>).</summary>
    public static SubscriptionView Of(Subscription s, IReadOnlyList<string> roles, int pending = 0, int dead = 0, DateTimeOffset? lastDelivered = null) =>
        new(s.Id, s.Url, s.EventTypeList, s.Purpose, roles, s.CreatedAt, pending, dead, lastDelivered, s.PreviousSecretUntil);
}

/// <summary>The answer to rotating the secret: the subscription with its new secret, shown this once.</summary>
public sealed record RotatedSubscriptionView(
    string Id, string Url, IReadOnlyList<string> EventTypes, string Purpose, IReadOnlyList<string> Roles, DateTimeOffset CreatedAt,
    int Pending, int DeadLetters, DateTimeOffset? LastDeliveredAt, DateTimeOffset? PreviousSecretUntil, string Secret)
{
    public static RotatedSubscriptionView Of(SubscriptionView v, string secret)
    {
        ArgumentNullException.ThrowIfNull(v);
        return new(v.Id, v.Url, v.EventTypes, v.Purpose, v.Roles, v.CreatedAt, v.Pending, v.DeadLetters, v.LastDeliveredAt, v.PreviousSecretUntil, secret);
    }
}

/// <summary>The answer to creating a subscription: the only time the signing secret is shown.</summary>
public sealed record CreatedSubscriptionView(
    string Id, string Url, IReadOnlyList<string> EventTypes, string Purpose, IReadOnlyList<string> Roles, DateTimeOffset CreatedAt, string Secret);

/// <summary>
/// A delivery that spent its retry budget: what it was about, and how the receiver last answered. A callback refused
/// because it resolves to a non-public address is shown as <c>connection</c>, like a name that does not resolve: the
/// subscriber does not learn which names resolve inside the operator's network (the row keeps the precise cause).
/// </summary>
public sealed record DeadLetterView(
    Guid DeliveryId, Guid EventId, string Type, string ChildId, DateTimeOffset OccurredAt, string State, int Attempts,
    DateTimeOffset? LastAttemptAt, int? LastStatus, string? LastError, DateTimeOffset? DeadAt)
{
    public static DeadLetterView Of(WebhookDelivery d, string childId) =>
        new(d.Id, d.EventId, d.Type, childId, d.OccurredAt, d.State, d.Attempts, d.LastAttemptAt, d.LastStatus,
            d.LastError == "address-refused" ? "connection" : d.LastError, d.DeadAt);
}
