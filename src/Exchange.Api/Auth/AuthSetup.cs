using Exchange.Api.Configuration;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Exchange.Api.Auth;

public static class AuthSetup
{
    private const string SelectorScheme = "bearer";
    private const string ExternalScheme = "external";
    private const string DevScheme = "dev";

    // Asymmetric algorithms only: a token signed with a shared secret or with "none" is refused.
    private static readonly string[] AllowedAlgorithms =
    [
        SecurityAlgorithms.RsaSha256, SecurityAlgorithms.RsaSha384, SecurityAlgorithms.RsaSha512,
        SecurityAlgorithms.RsaSsaPssSha256, SecurityAlgorithms.RsaSsaPssSha384, SecurityAlgorithms.RsaSsaPssSha512,
        SecurityAlgorithms.EcdsaSha256, SecurityAlgorithms.EcdsaSha384, SecurityAlgorithms.EcdsaSha512,
    ];

    public static WebApplicationBuilder AddExchangeAuth(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = builder.Configuration.GetSection(ExchangeOptions.Section).Get<ExchangeOptions>() ?? new ExchangeOptions();
        var external = !string.IsNullOrWhiteSpace(options.Auth.Authority);
        var devEnabled = options.Auth.DevIssuer.Enabled ?? builder.Environment.IsDevelopment();
        if (!external && !devEnabled)
        {
            throw new InvalidOperationException(
                "No token issuer is trusted: set Exchange:Auth:Authority, or run in Development (or set Exchange:Auth:DevIssuer:Enabled=true) to use the local development issuer.");
        }

        var auth = builder.Services.AddAuthentication(SelectorScheme)
            .AddPolicyScheme(SelectorScheme, "Bearer token", o => o.ForwardDefaultSelector = context =>
                devEnabled && (!external || IssuedByDevIssuer(context)) ? DevScheme : ExternalScheme);

        if (external)
        {
            auth.AddJwtBearer(ExternalScheme, o =>
            {
                o.Authority = options.Auth.Authority;
                o.Audience = options.Auth.Audience;
                o.RequireHttpsMetadata = options.Auth.RequireHttpsMetadata;
                o.MapInboundClaims = false;
                o.TokenValidationParameters = BaseParameters(options.Auth.Audience);
            });
        }

        if (devEnabled)
        {
            var devIssuer = DevIssuer.LoadOrCreate(options.FullDataDirectory);
            auth.AddJwtBearer(DevScheme, o =>
            {
                o.MapInboundClaims = false;
                var parameters = BaseParameters(options.Auth.Audience);
                parameters.ValidIssuer = DevIssuer.Issuer;
                parameters.IssuerSigningKey = devIssuer.SigningKey;
                o.TokenValidationParameters = parameters;
            });
        }

        builder.Services.AddScoped<ActiveOrganisationKinds>();
        builder.Services.AddScoped<IAuthorizationHandler, ActiveOrganisationHandler>();
        builder.Services.AddSingleton<IAuthorizationMiddlewareResultHandler, ProblemAuthorizationResultHandler>();
        var policies = builder.Services.AddAuthorizationBuilder()
            .SetFallbackPolicy(Policy([], operatorOnly: false))
            .SetDefaultPolicy(Policy([], operatorOnly: false));
        foreach (var (name, roles, operatorOnly) in AuthPolicies.Definitions)
        {
            policies.AddPolicy(name, Policy(roles, operatorOnly));
        }

        return builder;
    }

    private static TokenValidationParameters BaseParameters(string audience) => new()
    {
        ValidateIssuer = true,
        ValidateAudience = true,
        ValidAudience = audience,
        ValidateLifetime = true,
        RequireExpirationTime = true,
        RequireSignedTokens = true,
        ValidateIssuerSigningKey = true,
        ValidAlgorithms = AllowedAlgorithms,
        ClockSkew = TimeSpan.FromMinutes(1),
        NameClaimType = ClaimNames.Subject,
        RoleClaimType = ClaimNames.Roles,
    };

    private static AuthorizationPolicy Policy(string[] roles, bool operatorOnly)
    {
        var policy = new AuthorizationPolicyBuilder(SelectorScheme)
            .RequireAuthenticatedUser()
            .AddRequirements(new ActiveOrganisationRequirement());
        if (roles.Length > 0)
        {
            policy.RequireRole(roles);
        }

        if (operatorOnly)
        {
            // Only the operator's own staff act for the whole exchange.
            policy.RequireClaim(ClaimNames.Organisation, Storage.DatabaseInitializer.OperatorId);
        }

        return policy.Build();
    }

    private static bool IssuedByDevIssuer(HttpContext context)
    {
        var header = context.Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var handler = new JsonWebTokenHandler();
        var token = header["Bearer ".Length..].Trim();
        return handler.CanReadToken(token) && handler.ReadJsonWebToken(token).Issuer == DevIssuer.Issuer;
    }
}

/// <summary>Named authorization policies: which roles may call which group of endpoints.</summary>
public static class AuthPolicies
{
    public const string Administer = "administer";

    // Only the operator's administration (organisations, identity reviews, keys) is gated here. Every route that
    // touches a child, and the audit review, is decided by the access policy in policies/*.yaml (Policy/Decides).
    internal static readonly (string Name, string[] Roles, bool OperatorOnly)[] Definitions =
    [
        (Administer, [Roles.ExchangeAdmin], true),
    ];
}
