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
    /// the file, the line and the problem, before anything listens; so does a role, relationship or organisation
    /// kind the code names and the policy lacks (<see cref="PolicyVocabularyCheck"/>).
    /// </summary>
    public static WebApplicationBuilder AddExchangePolicy(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = builder.Configuration.GetSection(PolicyOptions.Section).Get<PolicyOptions>() ?? new PolicyOptions();
        var policy = PolicyLoader.LoadDirectory(options.FullDirectory);
        PolicyVocabularyCheck.Ensure(policy);
        builder.Services.AddSingleton(policy);
        builder.Services.AddSingleton<PolicyEngine>();
        return builder;
    }
}
