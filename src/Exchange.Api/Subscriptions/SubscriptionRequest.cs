using Exchange.Api.Configuration;
using Exchange.Api.Errors;
using Exchange.Api.Events;
using FluentValidation;
using Microsoft.Extensions.Options;

namespace Exchange.Api.Subscriptions;

/// <summary>A subscription as an organisation asks for it (<c>POST /v1/subscriptions</c>).</summary>
/// <param name="Url">Where deliveries are POSTed: https, to a public address (docs/EVENTS.md).</param>
/// <param name="EventTypes">The event types wanted (<see cref="EventAudience.Types"/>).</param>
public sealed record SubscriptionRequest(string? Url, IReadOnlyList<string>? EventTypes);

public sealed class SubscriptionRequestValidator : AbstractValidator<SubscriptionRequest>
{
    public SubscriptionRequestValidator(IOptions<ExchangeOptions> options, IHostEnvironment environment)
    {
        var webhooks = options.Value.Webhooks;
        var insecure = webhooks.AllowInsecureCallbacks ?? environment.IsDevelopment();
        var privateNetworks = webhooks.AllowPrivateNetworks ?? environment.IsDevelopment();
        RuleFor(x => x.Url).Must(u => CallbackAddress.IsAcceptable(u, insecure, privateNetworks))
            .WithErrorCode(ProblemTypes.SubscriptionUrl.Code).WithMessage(ProblemTypes.SubscriptionUrl.Title);
        RuleFor(x => x.EventTypes).Must(t => t is { Count: > 0 } && t.All(e => e is not null && EventAudience.Types.Contains(e))
                && t.Distinct(StringComparer.Ordinal).Count() == t.Count)
            .WithErrorCode(ProblemTypes.SubscriptionEventTypes.Code)
            .WithMessage("eventTypes lists one or more of: " + string.Join(", ", EventAudience.Types) + ", each once.");
    }
}
