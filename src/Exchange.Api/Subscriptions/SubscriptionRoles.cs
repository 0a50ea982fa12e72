using Exchange.Api.Policy;
using Exchange.Api.Storage;

namespace Exchange.Api.Subscriptions;

/// <summary>
/// The roles a subscription is decided for (docs/EVENTS.md): of the roles it was made with, those the loaded policy
/// gives a rule to read the <c>notification</c> category under its purpose. Only they are stored when it is made: a
/// role that can never be told of an event under that purpose adds nothing to a delivery, and would only stop the
/// organisation's callers without it from deleting the subscription (a token carrying such a role, a DPO's, could fill
/// every slot with subscriptions that only tokens with that role could delete). Subscriptions stored before with every role of the
/// creating token are narrowed the same way wherever their roles are read (their deliveries, who manages them, their
/// view), by the policy in force then, so no migration is needed and managing one always needs exactly the roles its
/// deliveries are decided for. A rule's own organisation kinds are not looked at: counting a role too many only makes
/// managing stricter, never a delivery wider (the policy decides each one).
/// </summary>
public static class SubscriptionRoles
{
    /// <summary>The category a subscription is told under, as the endpoints audit it.</summary>
    public const string Category = "notification";

    /// <summary>Of <paramref name="roles"/>, those the policy lets read <see cref="Category"/> for <paramref name="purpose"/>, in order.</summary>
    public static IReadOnlyList<string> Told(PolicySet policy, IEnumerable<string> roles, string purpose)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(roles);
        var told = policy.Rules.Where(r => r.Categories.Contains(Category) && r.Actions.Contains("read") && r.Purposes.Contains(purpose))
            .SelectMany(r => r.Roles).ToHashSet(StringComparer.Ordinal);
        return roles.Where(told.Contains).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
    }

    /// <summary>The roles <paramref name="subscription"/> is decided for now.</summary>
    public static IReadOnlyList<string> Of(PolicySet policy, Subscription subscription)
    {
        ArgumentNullException.ThrowIfNull(subscription);
        return Told(policy, subscription.RoleList, subscription.Purpose);
    }
}
