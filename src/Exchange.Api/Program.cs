using Exchange.Api.Auth;
using Exchange.Api.Errors;
using Exchange.Api.Auditing;
using Exchange.Api.Hosting;
using Exchange.Api.Keys;
using Exchange.Api.Logging;
using Exchange.Api.Policy;
using Exchange.Api.Storage;
using Exchange.Api.Work;

// `token ...` mints a demo token from the local development issuer and exits.
if (args.Length > 0 && args[0] == TokenCommand.Verb)
{
    return TokenCommand.Run(args[1..], Console.Out, Console.Error);
}

// `audit verify ...` checks an audit export against a signed checkpoint offline: no database, no server.
if (args.Length > 0 && args[0] == Exchange.Api.AuditReview.AuditVerifyCommand.Verb)
{
    return Exchange.Api.AuditReview.AuditVerifyCommand.Run(args[1..], Console.Out, Console.Error);
}

// The services once built, so a start that fails later logs through the service's own logging.
IServiceProvider? services = null;
try
{
    var verb = args.Length > 0 && args[0] is KeysCommand.Verb or MigrateVerb ? args[0] : null;
    var builder = WebApplication.CreateBuilder(verb is null ? args : []);
    builder.AddExchangeOptions()
        .AddExchangeLogging()
        .AddExchangeErrors()
        .AddExchangeHeaderEncoding()
        .AddExchangeStorage()
        .AddExchangeAuditing()
        .AddExchangeUnitOfWork()
        .AddExchangeKeys();

    if (verb is not null)
    {
        // `keys report|rotate ...`: key rotation against the configured database and key provider, then exit.
        using var tool = builder.Build();
        services = tool.Services;
        if (verb == MigrateVerb)
        {
            // `migrate`: the deployment step, run as the database owner, for services started with ApplyMigrations off.
            DatabaseInitializer.ForceMigrations = true;
            await tool.Services.GetServices<IHostedService>().OfType<DatabaseInitializer>().Single().StartAsync(CancellationToken.None).ConfigureAwait(false);
            await Console.Out.WriteLineAsync("Migrations applied (main database and audit store).").ConfigureAwait(false);
            return 0;
        }

        // The same start-up checks as the service: migrations, and keys that match the database
        // (a verb must never re-index or re-wrap under keys that do not belong here).
        foreach (var check in tool.Services.GetServices<IHostedService>().Where(h => h is DatabaseInitializer or KeyConsistencyCheck))
        {
            await check.StartAsync(CancellationToken.None).ConfigureAwait(false);
        }

        return await KeysCommand.RunAsync(tool.Services, args[1..], Console.Out, Console.Error).ConfigureAwait(false);
    }

    builder.AddExchangePolicy(PolicyVocabularyCheck.Ensure)
        .AddExchangeAuth()
        .AddExchangeRateLimits()
        .AddExchangeFeatures();

    var app = builder.Build();
    services = app.Services;
    app.UseExchangePipeline();
    app.MapExchangeEndpoints();
    await app.RunAsync().ConfigureAwait(false);
}
catch (Exchange.Api.Auditing.AuditStartupFailedException)
{
    // The check logged why; an unhandled exception would add a stack trace and a core dump (exit 134).
    return Exchange.Api.Auditing.AuditStartupFailedException.ExitCode;
}
catch (StoreUnavailableException failure)
{
    // The data directory, the database or the audit store cannot be opened: one line saying which and why.
    return StartupFailures.StoreUnavailable(failure, services);
}

return 0;

/// <summary>The entry point's verbs that are not in a feature folder.</summary>
public partial class Program
{
    internal const string MigrateVerb = "migrate";
}
