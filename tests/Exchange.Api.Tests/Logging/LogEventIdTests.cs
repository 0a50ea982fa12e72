using System.Reflection;
using Microsoft.Extensions.Logging;

namespace Exchange.Api.Tests.Logging;

/// <summary>
/// Every log message the service defines has its own small, explicit event id. Without one the
/// source generator derives a ten-digit hash of the method name, which the log scrubber then
/// blanks as an NHS-number shape, so operators could not filter or alert on the message.
/// </summary>
public sealed class LogEventIdTests
{
    private static readonly (string Method, LoggerMessageAttribute Attribute)[] Messages =
        typeof(Exchange.Api.Logging.LogScrubber).Assembly.GetTypes()
            .SelectMany(t => t.GetMethods(BindingFlags.Static | BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            .Select(m => (Method: $"{m.DeclaringType!.Name}.{m.Name}", Attribute: m.GetCustomAttribute<LoggerMessageAttribute>()))
            .Where(x => x.Attribute is not null)
            .Select(x => (x.Method, x.Attribute!))
            .ToArray();

    [Fact]
    public void EveryLogMessageHasAnExplicitEventIdInTheServicesRange()
    {
        Assert.NotEmpty(Messages);
        var outside = Messages.Where(m => m.Attribute.EventId is < 9000 or > 9999).Select(m => m.Method).ToArray();
        Assert.True(outside.Length == 0, "Log messages without an explicit event id in 9000-9999: " + string.Join(", ", outside));
    }

    [Fact]
    public void NoTwoLogMessagesShareAnEventId()
    {
        var shared = Messages.GroupBy(m => m.Attribute.EventId).Where(g => g.Count() > 1)
            .Select(g => $"{g.Key}: {string.Join(", ", g.Select(m => m.Method))}").ToArray();
        Assert.True(shared.Length == 0, "Event ids used twice: " + string.Join("; ", shared));
    }

    [Fact]
    public void EveryLogMessageHasItsOwnEventName()
    {
        var unnamed = Messages.Where(m => string.IsNullOrEmpty(m.Attribute.EventName)).Select(m => m.Method).ToArray();
        Assert.True(unnamed.Length == 0, "Log messages without an event name (the generator would use the method name, which repeats): " + string.Join(", ", unnamed));
        var shared = Messages.GroupBy(m => m.Attribute.EventName).Where(g => g.Count() > 1).Select(g => g.Key).ToArray();
        Assert.True(shared.Length == 0, "Event names used twice: " + string.Join(", ", shared));
    }
}
