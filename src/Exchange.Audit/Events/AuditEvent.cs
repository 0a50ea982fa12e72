using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Exchange.Audit.Events;

/// <summary>Who made a request, as the token said.</summary>
/// <param name="Subject">The token's <c>sub</c> (null for an unauthenticated request).</param>
/// <param name="Organisation">The token's <c>org</c>.</param>
/// <param name="Roles">The token's roles.</param>
/// <param name="ClientId">The token's <c>client_id</c> or <c>azp</c>.</param>
public sealed record AuditActor(string? Subject, string? Organisation, IReadOnlyList<string> Roles, string? ClientId);

/// <summary>
/// One access event of the audit log. Its leaf bytes are the canonical UTF-8 JSON of
/// <see cref="ToLeaf"/>: keys sorted by ordinal, no insignificant white space, time in UTC with
/// milliseconds, so anyone can recompute them. It names a child only by its pseudonymous id:
/// <see cref="Create"/> refuses anything else in that place.
/// </summary>
public sealed partial record AuditEvent
{
    /// <summary>
    /// The leaf format version (2 added <c>policy</c>, the hash of the policy set that decided; 3 added
    /// <c>break_glass</c>, the grant an access was made under; 4 added <c>target_org</c>, the organisation an
    /// administrative action concerned, and <c>child_unrecognised</c>: the request named a child by an id that did
    /// not resolve to a registered child, so the event names none; 5 added <c>count</c>, how many items a batch
    /// request carried, such as the pupils of a roll check).
    /// </summary>
    public const int FormatVersion = 5;

    private AuditEvent() { }

    /// <summary>When the decision was made (UTC, millisecond precision).</summary>
    public DateTimeOffset Time { get; private init; }

    /// <summary>The request's correlation id.</summary>
    public required string RequestId { get; init; }

    /// <summary>Who asked.</summary>
    public required AuditActor Actor { get; init; }

    /// <summary>What was done (e.g. <c>identity.resolve</c>).</summary>
    public required string Action { get; init; }

    /// <summary>The data category touched (e.g. <c>identity</c>).</summary>
    public required string Category { get; init; }

    /// <summary>The pseudonymous child id, when the request concerned one child.</summary>
    public string? ChildId { get; private init; }

    /// <summary>
    /// The request named a child (a route value, a body field) that was not resolved to a registered child: the
    /// caller's text is not recorded, <see cref="ChildId"/> is null and this says so.
    /// </summary>
    public bool ChildUnrecognised { get; init; }

    /// <summary>The fields released to the caller.</summary>
    public IReadOnlyList<string> Fields { get; init; } = [];

    /// <summary>The declared purpose of use.</summary>
    public string? Purpose { get; init; }

    /// <summary><c>permit</c>, <c>deny</c> or <c>error</c>.</summary>
    public required string Decision { get; init; }

    /// <summary>The rule that decided.</summary>
    public string? Rule { get; init; }

    /// <summary>The lawful basis relied on.</summary>
    public string? LawfulBasis { get; init; }

    /// <summary>The HTTP status answered.</summary>
    public int Status { get; init; }

    /// <summary>The hash of the policy set in force (<c>sha256:...</c>), so a decision can be replayed against it.</summary>
    public string? PolicyHash { get; init; }

    /// <summary>The break-glass grant the access was made under, if any: such events are flagged for the DPO.</summary>
    public string? BreakGlass { get; init; }

    /// <summary>The organisation an administrative action concerned (one registered or deactivated), if any.</summary>
    public string? TargetOrganisation { get; init; }

    /// <summary>
    /// How many items a batch request carried (the pupils of a roll check, the marks of an attendance batch), on the
    /// batch's own event; null for a request about one thing.
    /// </summary>
    public int? Count { get; init; }

    [GeneratedRegex(@"\Ach_[0-9a-hjkmnp-tv-z]{26}\z", RegexOptions.CultureInvariant)]
    private static partial Regex ChildIdShape();

    private static readonly HashSet<string> Decisions = new(StringComparer.Ordinal) { "permit", "deny", "error" };

    /// <summary>
    /// Builds an event; refuses a child "id" that is not a pseudonymous child id, a child id together with
    /// <see cref="ChildUnrecognised"/>, or an unknown decision.
    /// </summary>
    /// <param name="time">When (truncated to milliseconds, converted to UTC).</param>
    /// <param name="childId">The pseudonymous child id or null.</param>
    /// <param name="template">The other fields.</param>
    /// <returns>The event.</returns>
    public static AuditEvent Create(DateTimeOffset time, string? childId, AuditEvent template)
    {
        ArgumentNullException.ThrowIfNull(template);
        if (childId is not null && !ChildIdShape().IsMatch(childId))
        {
            throw new ArgumentException("An audit event names a child only by its pseudonymous id.", nameof(childId));
        }

        if (childId is not null && template.ChildUnrecognised)
        {
            throw new ArgumentException("An event names the child it resolved or says the id was not recognised, not both.", nameof(childId));
        }

        if (!Decisions.Contains(template.Decision))
        {
            throw new ArgumentException("The decision is permit, deny or error.", nameof(template));
        }

        var utc = time.ToUniversalTime();
        return template with
        {
            Time = new DateTimeOffset(utc.Ticks - (utc.Ticks % TimeSpan.TicksPerMillisecond), TimeSpan.Zero),
            ChildId = childId,
        };
    }

    /// <summary>A template to fill with <c>with</c> and pass to <see cref="Create"/>.</summary>
    /// <param name="requestId">The request id.</param>
    /// <param name="actor">Who.</param>
    /// <param name="action">What.</param>
    /// <param name="category">Which data category.</param>
    /// <param name="decision">permit, deny or error.</param>
    /// <returns>The template.</returns>
    public static AuditEvent Template(string requestId, AuditActor actor, string action, string category, string decision) =>
        new() { RequestId = requestId, Actor = actor, Action = action, Category = category, Decision = decision };

    /// <summary>The exact leaf bytes: canonical UTF-8 JSON.</summary>
    /// <returns>The bytes.</returns>
    public byte[] ToLeaf()
    {
        // Written by hand in ordinal key order (the canonical form above): serializing sorted dictionaries of objects gave
        // the same bytes but cost about 16 µs an event, most of a batch's audit time (docs/BENCHMARKS.md, section 5).
        // One buffer and writer per thread, reset for each leaf: a cohort pull writes 2,000 leaves of about 1 KiB, and a new
        // buffer grown for each (512 bytes, then 1 KiB, then the copy out) was several megabytes for the collector to clear.
        var buffer = t_buffer ??= new System.Buffers.ArrayBufferWriter<byte>(4096);
        buffer.ResetWrittenCount();
        var json = t_writer ??= new Utf8JsonWriter(buffer, CanonicalWriter);
        json.Reset(buffer);
        {
            json.WriteStartObject();
            json.WriteString("action", Action);
            json.WriteStartObject("actor");
            WriteText(json, "client_id", Actor.ClientId);
            WriteText(json, "org", Actor.Organisation);
            WriteList(json, "roles", Actor.Roles);
            WriteText(json, "sub", Actor.Subject);
            json.WriteEndObject();
            WriteText(json, "break_glass", BreakGlass);
            json.WriteString("category", Category);
            WriteText(json, "child_id", ChildId);
            json.WriteBoolean("child_unrecognised", ChildUnrecognised);
            if (Count is { } count)
            {
                json.WriteNumber("count", count);
            }
            else
            {
                json.WriteNull("count");
            }

            json.WriteString("decision", Decision);
            WriteList(json, "fields", Fields);
            WriteText(json, "lawful_basis", LawfulBasis);
            WriteText(json, "policy", PolicyHash);
            WriteText(json, "purpose", Purpose);
            json.WriteString("request_id", RequestId);
            WriteText(json, "rule", Rule);
            json.WriteNumber("status", Status);
            WriteText(json, "target_org", TargetOrganisation);
            json.WriteString("time", Time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
            json.WriteNumber("v", FormatVersion);
            json.WriteEndObject();
            json.Flush();
        }

        return buffer.WrittenSpan.ToArray();
    }

    [ThreadStatic]
    private static System.Buffers.ArrayBufferWriter<byte>? t_buffer;

    [ThreadStatic]
    private static Utf8JsonWriter? t_writer;

    private static void WriteText(Utf8JsonWriter json, string name, string? value)
    {
        if (value is null)
        {
            json.WriteNull(name);
        }
        else
        {
            json.WriteString(name, value);
        }
    }

    private static void WriteList(Utf8JsonWriter json, string name, IEnumerable<string> values)
    {
        json.WriteStartArray(name);
        foreach (var value in values.Order(StringComparer.Ordinal))
        {
            json.WriteStringValue(value);
        }

        json.WriteEndArray();
    }

    private static readonly JsonWriterOptions CanonicalWriter = new()
    {
        // Escape only what JSON requires, so the bytes are the same in any implementation that does the same.
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Indented = false,
    };

    /// <summary>The leaf as text (for display; the bytes are what is hashed).</summary>
    /// <returns>The JSON.</returns>
    public override string ToString() => Encoding.UTF8.GetString(ToLeaf());
}
