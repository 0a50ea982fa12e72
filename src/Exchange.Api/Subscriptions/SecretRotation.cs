using Exchange.Api.Configuration;
using Exchange.Api.Dates;
using Exchange.Api.Decisions;
using Exchange.Api.Errors;
using Exchange.Api.Policy;
using Exchange.Api.Storage;
using Exchange.Api.Work;
using Exchange.Crypto.Sealing;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Exchange.Api.Subscriptions;

/// <summary>
/// <c>POST /v1/subscriptions/{id}/secret</c> (docs/EVENTS.md): a new secret, shown once, as Standard Webhooks rotates
/// one without downtime. The secret it replaces keeps signing every delivery beside the new one for
/// <see cref="WebhookOptions.RotationGracePeriod"/>, so the receiver switches when it is ready and loses nothing. Two at
/// most: a rotation within the grace period drops the oldest (the current one becomes the previous one).
/// </summary>
internal static class SecretRotation
{
    /// <summary>Two rotations of one subscription at the same moment: the one that loses reads the row again this often.</summary>
    private const int Attempts = 3;

    /// <summary>
    /// Where the replaced secret is sealed: a place of its own (a value moved between the two columns does not open),
    /// under the subscription's data key, so deleting the subscription shreds both.
    /// </summary>
    public static FieldPlace PreviousSecretPlace(string subscriptionId) =>
        new(SubscriptionsApi.SecretEntity, "previous-secret", subscriptionId, subscriptionId);

    public static async Task<Results<Ok<RotatedSubscriptionView>, ProblemHttpResult>> RotateAsync(
        string subscriptionId, HttpContext http, ChildDecisions decisions, ExchangeDbContext db, FieldSealer sealer, UnitOfWork work,
        PolicySet policy, IOptions<ExchangeOptions> options, TimeProvider clock, CancellationToken ct)
    {
        decisions.DecidedAtDelivery();
        for (var attempt = 1; ; attempt++)
        {
            var (subscription, refusal) = await SubscriptionsApi.ManageableAsync(db, policy, http, subscriptionId, ct).ConfigureAwait(false);
            if (subscription is null)
            {
                return refusal!;
            }

            // Opened and sealed before the write gate, as at creation (a key fetch may call the vault). An erased key
            // means a delete is committing: the subscription is gone.
            if (await sealer.OpenAsync(SubscriptionsApi.SecretPlace(subscription.Id), subscription.SealedSecret, ct).ConfigureAwait(false)
                is not OpenedField.Opened current)
            {
                return Problems.Result(ProblemTypes.SubscriptionNotFound);
            }

            var secret = WebhookSignature.NewSecret();
            byte[] sealedSecret, sealedPrevious;
            try
            {
                sealedSecret = await sealer.SealAsync(SubscriptionsApi.SecretPlace(subscription.Id), secret, ct).ConfigureAwait(false);
                sealedPrevious = await sealer.SealAsync(PreviousSecretPlace(subscription.Id), current.Value, ct).ConfigureAwait(false);
            }
            catch (Exchange.Crypto.Keys.OwnerErasedException)
            {
                // A delete committed since the secret was opened (it shreds the key): the subscription is gone, not a child.
                return Problems.Result(ProblemTypes.SubscriptionNotFound);
            }

            await work.BeginAsync(ct).ConfigureAwait(false);
            var until = clock.UtcNowToMillisecond() + options.Value.Webhooks.RotationGracePeriod;
            var (id, read) = (subscription.Id, subscription.SealedSecret);
            // Compare-and-set on the secret read: a rotation committed meanwhile is not overwritten with a stale previous.
            var rotated = await work.UpdateAsync(db.Subscriptions.Where(s => s.Id == id && s.SealedSecret == read), u => u
                .SetProperty(s => s.SealedSecret, sealedSecret)
                .SetProperty(s => s.SealedPreviousSecret, sealedPrevious)
                .SetProperty(s => s.PreviousSecretUntil, until), ct).ConfigureAwait(false);
            if (rotated == 1)
            {
                await work.CommitAsync(Outcome.Ok(), ct).ConfigureAwait(false);
                var view = (await SubscriptionsApi.WithCountsAsync(db, policy, [subscription], ct).ConfigureAwait(false))[id] with { PreviousSecretUntil = until };
                return TypedResults.Ok(RotatedSubscriptionView.Of(view, secret));
            }

            await work.RollbackAsync(ct).ConfigureAwait(false);
            if (attempt == Attempts)
            {
                return Problems.Result(ProblemTypes.ServiceUnavailable);
            }
        }
    }
}
