using Exchange.Api.Auth;
using Exchange.Api.BreakGlass;
using Exchange.Api.Consents;
using Exchange.Api.Identity;
using Exchange.Api.Policy;
using Exchange.Api.Relationships;
using Exchange.Api.Restrictions;
using Exchange.Api.Storage;
using Microsoft.EntityFrameworkCore;

namespace Exchange.Api.Hosting;

/// <summary>
/// Joins the decision point to the features that hold its facts: Policy declares what it needs
/// (<c>Policy/PolicyFacts.cs</c>) and imports no feature; here, in the composition root, each need meets the
/// feature that answers it.
/// </summary>
public static class PolicyFactsSetup
{
    public static IServiceCollection AddPolicyFacts(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddScoped<IChildRegister, ChildRegister>();
        services.AddScoped<IRelationshipFacts, RelationshipFacts>();
        services.AddScoped<IConsentFacts, ConsentFacts>();
        services.AddScoped<IProcessingLimitFacts, ProcessingState>();
        services.AddScoped<IBreakGlassGrants, BreakGlassGrants>();
        // The same scoped instance as the sign-in check's, so the organisation is looked up once per request.
        services.AddScoped<IOrganisationKinds>(sp => sp.GetRequiredService<ActiveOrganisationKinds>());
        services.AddScoped<IFactsConnection, EfFactsConnection>();
        return services;
    }
}

/// <summary>
/// One open connection for a whole decision: EF would otherwise open and close it around each query, and every
/// SQLite open runs the secure_delete pragma (docs/BENCHMARKS.md, part 4).
/// </summary>
internal sealed class EfFactsConnection(ExchangeDbContext db) : IFactsConnection
{
    public async Task<IAsyncDisposable> OpenAsync(CancellationToken ct)
    {
        await db.Database.OpenConnectionAsync(ct).ConfigureAwait(false);
        return new Closer(db);
    }

    private sealed class Closer(ExchangeDbContext db) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync() => await db.Database.CloseConnectionAsync().ConfigureAwait(false);
    }
}
