using Exchange.Api.Attendance;
using Exchange.Api.Exclusions;
using Exchange.Api.Peps;
using Exchange.Api.Events;
using Exchange.Api.Subscriptions;
using Exchange.Api.Cohort;
using Exchange.Api.RollCheck;
using Exchange.Api.Configuration;
using Exchange.Api.Handovers;
using Exchange.Api.Auditing;
using Exchange.Api.BreakGlass;
using Exchange.Api.Consents;
using Exchange.Api.AuditReview;
using Exchange.Api.Erasure;
using Exchange.Api.Errors;
using Exchange.Api.Identity;
using Exchange.Api.Keys;
using Exchange.Api.Logging;
using Exchange.Api.Organisations;
using Exchange.Api.Relationships;
using Exchange.Api.Restrictions;
using Exchange.Api.SubjectAccess;
using FluentValidation;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Serilog;

namespace Exchange.Api.Hosting;

public static class HostingSetup
{
    public static WebApplicationBuilder AddExchangeOptions(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.Configure<ExchangeOptions>(builder.Configuration.GetSection(ExchangeOptions.Section));
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.Converters.Add(new System.Text.Json.Serialization.JsonStringEnumConverter()));
        return builder;
    }

    public static WebApplicationBuilder AddExchangeFeatures(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddValidatorsFromAssemblyContaining<Program>(ServiceLifetime.Scoped, includeInternalTypes: true);
        builder.Services.AddScoped<IdentityService>();
        builder.Services.AddScoped<IdentityReviewService>();
        builder.Services.AddScoped<ErasureService>();
        builder.Services.AddScoped<Erasure.Storage.ErasureStorage>();
        builder.Services.AddScoped<Relationships.RelationshipService>();
        builder.Services.AddScoped<RollCheck.RollCheckService>();
        builder.Services.AddScoped<Attendance.AttendanceBatchService>();
        builder.Services.AddScoped<Exclusions.ExclusionService>();
        builder.Services.AddScoped<Peps.PepService>();
        builder.Services.AddScoped<Events.EventFeed>();
        builder.Services.AddScoped<Events.EventAudience>();
        builder.Services.AddExchangeWebhooks();
        builder.Services.AddScoped<Cohort.CohortService>();
        builder.Services.AddScoped<Checks.ChildChecks>();
        builder.Services.AddHostedService<Checks.ChildChecksJob>();
        builder.Services.AddScoped<Idempotency.IdempotencyStore>();
        builder.Services.AddPolicyFacts();
        builder.Services.AddScoped<Decisions.Decided>();
        builder.Services.AddScoped<Decisions.ChildDecisions>();
        return builder;
    }

    public static WebApplication UseExchangePipeline(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var limits = app.Configuration.GetSection(ExchangeOptions.Section).Get<ExchangeOptions>()?.Limits ?? new LimitsOptions();
        app.UseMiddleware<CorrelationIdMiddleware>();
        app.UseSerilogRequestLogging(o =>
        {
            // The path only: query strings could carry anything a caller typed.
            o.MessageTemplate = "HTTP {RequestMethod} {RequestPath} answered {StatusCode} in {Elapsed:0.0} ms";
            // This host's scrubbed pipeline, not the process-wide static logger.
            o.Logger = app.Services.GetRequiredService<Serilog.ILogger>();
        });
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseMiddleware<SecurityHeadersMiddleware>();
        app.UseMiddleware<HeaderEncodingMiddleware>(); // a header that is not UTF-8 gets a problem, not Kestrel's empty 400
        if (!app.Environment.IsDevelopment())
        {
            app.UseHsts();
            app.UseHttpsRedirection();
        }

        app.UseAuthentication();
        // After authentication, so the limit follows the client, not the address; before auditing, so a flood
        // is refused before it reaches the log (RateLimitSetup records one refusal per caller and window).
        app.UseRateLimiter();
        app.UseExchangeAuditing(); // before authorization, so refusals are recorded too
        // Inside auditing, so a 413 on an audited route is recorded; no body has been read before this point.
        app.UseMiddleware<RequestSizeLimitMiddleware>(limits.MaxRequestBodyBytes, limits.MaxBatchRequestBodyBytes);
        app.UseJsonBodyRewind(); // after the size limit: so a validator can tell an explicit null from a field left out
        app.UseAuthorization();
        return app;
    }

    public static WebApplication MapExchangeEndpoints(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        // Load balancers probe these without a token; they reveal nothing but "Healthy" or "Unhealthy".
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false })
            .WithMetadata(new HttpMethodMetadata([HttpMethods.Get])).AllowAnonymous();
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = c => c.Tags.Contains("ready") })
            .WithMetadata(new HttpMethodMetadata([HttpMethods.Get])).AllowAnonymous();
        app.MapOrganisationsApi();
        app.MapIdentityApi();
        app.MapErasureApi();
        app.MapIdentityReviewsApi();
        app.MapKeysApi();
        app.MapAuditReviewApi();
        app.MapRelationshipsApi();
        app.MapRelationshipReadsApi();
        app.MapConsentsApi();
        app.MapHandoversApi();
        app.MapBreakGlassApi();
        app.MapSubjectAccessApi();
        app.MapProcessingLimitsApi();
        app.MapRollCheckApi();
        app.MapAttendanceApi();
        app.MapExclusionsApi();
        app.MapPepsApi();
        app.MapEventsApi();
        app.MapSubscriptionsApi();
        app.MapCohortApi();
        return app;
    }
}

/// <summary>Headers every answer carries: an API never wants to be framed, sniffed or cached.</summary>
internal sealed class SecurityHeadersMiddleware(RequestDelegate next)
{
    public Task InvokeAsync(HttpContext context)
    {
        context.Response.OnStarting(() =>
        {
            var headers = context.Response.Headers;
            headers.XContentTypeOptions = "nosniff";
            headers.XFrameOptions = "DENY";
            headers.ContentSecurityPolicy = "default-src 'none'; frame-ancestors 'none'";
            headers["Referrer-Policy"] = "no-referrer";
            headers.CacheControl = "no-store";
            return Task.CompletedTask;
        });
        return next(context);
    }
}
