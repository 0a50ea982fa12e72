namespace Exchange.Api.Work;

public static class WorkSetup
{
    /// <summary>The unit of work every writer uses (requests, and the command-line verbs, which run before the features are added).</summary>
    public static WebApplicationBuilder AddExchangeUnitOfWork(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddScoped<UnitOfWork>();
        return builder;
    }
}
