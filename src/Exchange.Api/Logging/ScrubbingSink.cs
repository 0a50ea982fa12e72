using Serilog.Core;
using Serilog.Events;
using Serilog.Parsing;

namespace Exchange.Api.Logging;

/// <summary>
/// Rewrites every log event (message template, property values, exception) through
/// <see cref="LogScrubber"/> before any sink sees it.
/// </summary>
internal sealed class ScrubbingSink(ILogEventSink inner) : ILogEventSink
{
    private static readonly MessageTemplateParser Parser = new();

    public void Emit(LogEvent logEvent)
    {
        var template = logEvent.MessageTemplate.Text;
        var scrubbedTemplate = LogScrubber.Scrub(template);
        var properties = logEvent.Properties
            .Select(p => new LogEventProperty(p.Key, PathProperties.Contains(p.Key) ? ScrubPathValue(p.Value) : ScrubValue(p.Value)))
            .ToList();

        inner.Emit(new LogEvent(
            logEvent.Timestamp,
            logEvent.Level,
            logEvent.Exception is null ? null : new ScrubbedException(logEvent.Exception),
            ReferenceEquals(template, scrubbedTemplate) || template == scrubbedTemplate ? logEvent.MessageTemplate : Parser.Parse(scrubbedTemplate),
            properties,
            SafeTraceId(logEvent.TraceId),
            logEvent.SpanId ?? default));
    }

    // A W3C trace id can come from the caller's traceparent header: one that holds an identifier shape is dropped.
    private static System.Diagnostics.ActivityTraceId SafeTraceId(System.Diagnostics.ActivityTraceId? traceId) =>
        traceId is { } id && string.Equals(LogScrubber.Scrub(id.ToHexString()), id.ToHexString(), StringComparison.Ordinal) ? id : default;

    // Properties that hold a URL path (request logging and ASP.NET Core's logging scope).
    private static readonly HashSet<string> PathProperties = new(StringComparer.Ordinal) { "RequestPath", "Path", "Endpoint" };

    // ScrubPath also runs the text scrubber over what it keeps.
    private static LogEventPropertyValue ScrubPathValue(LogEventPropertyValue value) =>
        value is ScalarValue { Value: string path } && !path.Contains(' ', StringComparison.Ordinal)
            ? new ScalarValue(LogScrubber.ScrubPath(path))
            : ScrubValue(value);

    private static LogEventPropertyValue ScrubValue(LogEventPropertyValue value) => value switch
    {
        ScalarValue { Value: string s } => new ScalarValue(LogScrubber.Scrub(s)),
        // A ten-digit number logged as a number is still an NHS number.
        ScalarValue { Value: int or uint or long or ulong or decimal or double } number =>
            new ScalarValue(LogScrubber.Scrub(Convert.ToString(number.Value, System.Globalization.CultureInfo.InvariantCulture) ?? "")),
        SequenceValue seq => new SequenceValue(seq.Elements.Select(ScrubValue)),
        StructureValue st => new StructureValue(st.Properties.Select(p => new LogEventProperty(p.Name, ScrubValue(p.Value))), st.TypeTag),
        DictionaryValue dict => new DictionaryValue(dict.Elements.Select(kv =>
            new KeyValuePair<ScalarValue, LogEventPropertyValue>((ScalarValue)ScrubValue(kv.Key), ScrubValue(kv.Value)))),
        _ => value,
    };
}

/// <summary>An exception whose message and stack text have been scrubbed; the original is dropped.</summary>
internal sealed class ScrubbedException : Exception
{
    private readonly string _text;

    public ScrubbedException(Exception original)
        : base(LogScrubber.Scrub(original.Message))
    {
        _text = LogScrubber.Scrub(original.ToString());
    }

    public ScrubbedException() : this(new InvalidOperationException()) { }

    public ScrubbedException(string message) : this(new InvalidOperationException(message)) { }

    public ScrubbedException(string message, Exception innerException) : this(new InvalidOperationException(message, innerException)) { }

    public override string ToString() => _text;

    public override string? StackTrace => null;
}
