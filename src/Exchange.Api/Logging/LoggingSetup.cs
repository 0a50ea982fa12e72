using Serilog;
using Serilog.Core;
using Serilog.Events;
using Serilog.Formatting.Compact;

namespace Exchange.Api.Logging;

public static class LoggingSetup
{
    /// <summary>
    /// Serilog to the console (and Seq when <c>Serilog:SeqUrl</c> is set), every event passing
    /// through the scrubber first. Sinks registered in DI (tests capture output this way) sit
    /// behind the same scrubber.
    /// </summary>
    public static WebApplicationBuilder AddExchangeLogging(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddSerilog((services, outer) =>
        {
            var configuration = services.GetRequiredService<IConfiguration>();
            var inner = new LoggerConfiguration()
                .MinimumLevel.Verbose()
                .WriteTo.Console(new CompactJsonFormatter());
            var seqUrl = configuration["Serilog:SeqUrl"];
            if (!string.IsNullOrWhiteSpace(seqUrl))
            {
                inner.WriteTo.Seq(seqUrl, apiKey: configuration["Serilog:SeqApiKey"]);
            }

            foreach (var sink in services.GetServices<ILogEventSink>())
            {
                inner.WriteTo.Sink(sink);
            }

            outer
                .ReadFrom.Configuration(configuration)
                .MinimumLevel.Override("Microsoft.AspNetCore", LogEventLevel.Warning)
                .MinimumLevel.Override("Microsoft.EntityFrameworkCore", LogEventLevel.Warning)
                // Failed commands surface as exceptions that our handler logs once; EF's own error events
                // (a missing history table on a fresh database, an expected unique-violation retry) would
                // otherwise page someone for nothing.
                .MinimumLevel.Override("Microsoft.EntityFrameworkCore.Database.Command", LogEventLevel.Fatal)
                .MinimumLevel.Override("Microsoft.EntityFrameworkCore.Update", LogEventLevel.Fatal)
                .MinimumLevel.Override("Microsoft.EntityFrameworkCore.Query", LogEventLevel.Fatal)
                // A connection that cannot be opened surfaces as an exception too: at start as one DATABASE/AUDIT STORE
                // UNAVAILABLE line (Hosting/StartupFailures.cs), later through the exception handler.
                .MinimumLevel.Override("Microsoft.EntityFrameworkCore.Database.Connection", LogEventLevel.Fatal)
                .Enrich.FromLogContext()
                // A failed start-up audit check has logged its one line, and a store that cannot be opened gets one from the
                // entry point; the host's "failed to start" error with the same exception and its stack trace would only bury it.
                .Filter.ByExcluding(e => e.Exception is Auditing.AuditStartupFailedException or Storage.StoreUnavailableException)
                .WriteTo.Sink(new ScrubbingSink(inner.CreateLogger()));
        }, preserveStaticLogger: true); // one logger per host, never the process-wide static one
        return builder;
    }
}
