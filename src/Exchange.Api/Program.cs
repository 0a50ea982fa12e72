using Exchange.Api.Auth;
using Exchange.Api.Errors;
using Exchange.Api.Hosting;
using Exchange.Api.Logging;
using Exchange.Api.Storage;

// `token ...` mints a demo token from the local development issuer and exits.
if (args.Length > 0 && args[0] == TokenCommand.Verb)
{
    return TokenCommand.Run(args[1..], Console.Out, Console.Error);
}

var builder = WebApplication.CreateBuilder(args);
builder.AddExchangeOptions()
    .AddExchangeLogging()
    .AddExchangeErrors()
    .AddExchangeStorage()
    .AddExchangeAuth()
    .AddExchangeRateLimits()
    .AddExchangeFeatures();

var app = builder.Build();
app.UseExchangePipeline();
app.MapExchangeEndpoints();
await app.RunAsync().ConfigureAwait(false);
return 0;
