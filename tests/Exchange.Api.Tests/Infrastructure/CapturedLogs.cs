using System.Collections.Concurrent;
using Serilog.Core;
using Serilog.Events;
using Serilog.Formatting.Compact;

namespace Exchange.Api.Tests.Infrastructure;

/// <summary>Every log event the service wrote, rendered exactly as the console sink would write it.</summary>
public sealed class CapturedLogs : ILogEventSink
{
    private readonly ConcurrentQueue<string> _lines = new();
    private readonly CompactJsonFormatter _formatter = new();

    public void Emit(LogEvent logEvent)
    {
        using var writer = new StringWriter();
        _formatter.Format(logEvent, writer);
        // Also render the message, as a text console would.
        writer.Write(logEvent.RenderMessage());
        _lines.Enqueue(writer.ToString());
    }

    public IReadOnlyList<string> Lines => _lines.ToList();

    public string All => string.Join("\n", _lines);
}
