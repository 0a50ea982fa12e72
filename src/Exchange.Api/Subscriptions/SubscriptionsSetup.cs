using Exchange.Api.Configuration;
using Microsoft.Extensions.Options;

namespace Exchange.Api.Subscriptions;

public static class SubscriptionsSetup
{
    /// <summary>The delivery service, its HTTP client (no redirects, no proxy, no cookies, public addresses only) and its job.</summary>
    public static IServiceCollection AddExchangeWebhooks(this IServiceCollection services)
    {
        services.AddScoped<WebhookDispatcher>();
        services.AddHostedService<WebhookDeliveryJob>();
        services.AddHttpClient(WebhookDispatcher.HttpClientName)
            .ConfigurePrimaryHttpMessageHandler(provider =>
            {
                var webhooks = provider.GetRequiredService<IOptions<ExchangeOptions>>().Value.Webhooks;
                var allowPrivate = webhooks.AllowPrivateNetworks ?? provider.GetRequiredService<IHostEnvironment>().IsDevelopment();
                return new SocketsHttpHandler
                {
                    // A redirect would take the delivery (and its signature) somewhere the subscriber did not name.
                    AllowAutoRedirect = false,
                    UseCookies = false,
                    // Through a proxy the address check would see the proxy's address, not the receiver's.
                    UseProxy = false,
                    ConnectTimeout = webhooks.Timeout,
                    PooledConnectionLifetime = TimeSpan.FromMinutes(5),
                    ConnectCallback = (context, ct) => CallbackAddress.ConnectAsync(context, allowPrivate, ct),
                };
            })
            // The client's own logging would write callback URLs into the service log.
            .RemoveAllLoggers();
        return services;
    }
}
