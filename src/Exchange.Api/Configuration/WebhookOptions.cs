namespace Exchange.Api.Configuration;

/// <summary>Webhook delivery (<c>Exchange:Webhooks</c>); docs/EVENTS.md explains each choice.</summary>
public sealed class WebhookOptions
{
    /// <summary>
    /// Whether callback URLs may be plain http. Null: only in the Development environment. Outside it a receiver must
    /// be https, so the child ids and signatures are not readable on the way.
    /// </summary>
    public bool? AllowInsecureCallbacks { get; set; }

    /// <summary>
    /// Whether callbacks may reach loopback, private, link-local or other non-public addresses. Null: only in
    /// Development. Outside it a subscriber cannot point the service at the operator's own network (SSRF); the address
    /// is checked when connecting, after DNS, so a name that later resolves inside is refused too.
    /// </summary>
    public bool? AllowPrivateNetworks { get; set; }

    /// <summary>How often the delivery job looks for new items and due retries; zero turns the job off (tests drive it).</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How long a receiver has to answer one delivery.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>A delivery is retried at least this long after it was first due, then parked as a dead letter.</summary>
    public TimeSpan RetryFor { get; set; } = TimeSpan.FromHours(24);

    /// <summary>The wait after the first failure; each further failure doubles it, up to <see cref="MaxRetryDelay"/>.</summary>
    public TimeSpan FirstRetryDelay { get; set; } = TimeSpan.FromSeconds(5);

    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// After a secret rotation, how long deliveries still carry a signature with the secret it replaced beside the new
    /// one (Standard Webhooks' zero-downtime rotation): the time a receiver has to switch. Zero: the old one stops at once.
    /// </summary>
    public TimeSpan RotationGracePeriod { get; set; } = TimeSpan.FromHours(24);

    /// <summary>Subscriptions one organisation may hold: each one multiplies the work and the calls made for it.</summary>
    public int MaxPerOrganisation { get; set; } = 10;

    /// <summary>Deliveries one instance takes and sends at a time, and how many of them at once.</summary>
    public int BatchSize { get; set; } = 50;

    public int Parallelism { get; set; } = 8;

    /// <summary>
    /// How long a delivery's row is kept once it is settled (delivered, withdrawn, or a dead letter not redelivered):
    /// it names a child and who was told, which the audit log already records for good.
    /// </summary>
    public TimeSpan KeepSettledFor { get; set; } = TimeSpan.FromDays(30);
}
