using Exchange.Api.Configuration;
using Exchange.Api.Auth;

namespace Exchange.Api.Hosting;

/// <summary>
/// <c>token --org la:202 --role virtual-school [--role ...] [--sub name] [--client-id id] [--minutes 60]</c>:
/// prints a token signed by the local development issuer and nothing else. It reads the same
/// configuration as the service (appsettings.json, environment) to find the data directory.
/// </summary>
public static class TokenCommand
{
    public const string Verb = "token";

    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        string? org = null, sub = null, clientId = null;
        var roles = new List<string>();
        var minutes = 60;
        for (var i = 0; i < args.Length; i++)
        {
            var value = i + 1 < args.Length ? args[i + 1] : null;
            switch (args[i])
            {
                case "--org" when value is not null: org = value; i++; break;
                case "--role" when value is not null: roles.Add(value); i++; break;
                case "--sub" when value is not null: sub = value; i++; break;
                case "--client-id" when value is not null: clientId = value; i++; break;
                case "--minutes" when int.TryParse(value, System.Globalization.CultureInfo.InvariantCulture, out var m) && m is > 0 and <= 1440: minutes = m; i++; break;
                default:
                    return Usage(error, $"Unknown or incomplete argument '{args[i]}'.");
            }
        }

        if (org is null || roles.Count == 0)
        {
            return Usage(error, "--org and at least one --role are required.");
        }

        var configuration = new ConfigurationBuilder()
            .SetBasePath(AppContext.BaseDirectory)
            .AddJsonFile("appsettings.json", optional: true)
            .AddEnvironmentVariables()
            .Build();
        // The roles the policy declares: the same list the service accepts.
        var policyOptions = configuration.GetSection(Policy.PolicyOptions.Section).Get<Policy.PolicyOptions>() ?? new Policy.PolicyOptions();
        var known = Policy.PolicyLoader.LoadDirectory(policyOptions.FullDirectory).Roles.Keys.Order(StringComparer.Ordinal).ToList();
        var unknown = roles.FirstOrDefault(r => !known.Contains(r, StringComparer.Ordinal));
        if (unknown is not null)
        {
            return Usage(error, $"Unknown role '{unknown}'. Roles: {string.Join(", ", known)}.");
        }

        var options = configuration.GetSection(ExchangeOptions.Section).Get<ExchangeOptions>() ?? new ExchangeOptions();
        var issuer = DevIssuer.LoadOrCreate(options.FullDataDirectory);
        var subject = sub ?? $"demo-{roles[0]}@{org}";
        output.WriteLine(issuer.Mint(options.Auth.Audience, subject, org, roles, clientId ?? "exchange-demo-cli",
            TimeSpan.FromMinutes(minutes), DateTimeOffset.UtcNow));
        return 0;
    }

    private static int Usage(TextWriter error, string problem)
    {
        error.WriteLine(problem);
        error.WriteLine("Usage: token --org <la:NNN|school:URN|health:ODS|operator:exchange> --role <role> [--role <role>] [--sub <subject>] [--client-id <id>] [--minutes <1-1440>]");
        return 2;
    }
}
