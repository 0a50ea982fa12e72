namespace Exchange.Api.Policy;

/// <summary>The <c>Exchange:Policy</c> section.</summary>
public sealed class PolicyOptions
{
    public const string Section = "Exchange:Policy";

    /// <summary>Where the policy files are; by default <c>policies/</c> beside the service's dll (the build copies them there).</summary>
    public string? Directory { get; set; }

    public string FullDirectory => Path.GetFullPath(Directory ?? Path.Combine(AppContext.BaseDirectory, "policies"));
}

public static class PolicySetup
{
    /// <summary>
    /// Loads and validates the policy while the service is built: a fault stops the start with a message naming
    /// the file, the line and the problem, before anything listens; so does <paramref name="check"/>, which the
    /// composition root passes to stop the start when the code names a role, relationship or organisation kind the
    /// policy lacks (Policy cannot name them itself: it imports no feature).
    /// </summary>
    public static WebApplicationBuilder AddExchangePolicy(this WebApplicationBuilder builder, Action<PolicySet> check)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(check);
        var options = builder.Configuration.GetSection(PolicyOptions.Section).Get<PolicyOptions>() ?? new PolicyOptions();
        var policy = PolicyLoader.LoadDirectory(options.FullDirectory);
        check(policy);
        builder.Services.AddSingleton(policy);
        builder.Services.AddSingleton<PolicyEngine>();
        builder.Services.AddScoped<AccessDecider>();
        return builder;
    }
}
