using Exchange.Audit.Events;

namespace Exchange.Audit.Bench;

/// <summary>
/// Audit events shaped like the service's own for <c>GET /v1/children/{childId}</c> by a virtual school
/// (the same actor, action, fields, rule and lawful basis <c>AuditTrail</c> writes), each with its own
/// request id, time and one of 1,000 pseudonymous child ids.
/// </summary>
internal static class RealisticEvents
{
    private const string Crockford = "0123456789abcdefghjkmnpqrstvwxyz";

    private static readonly AuditActor Actor = new("demo-virtual-school@la:202", "la:202", ["virtual-school"], "exchange-demo-cli");

    private static readonly string[] ChildIds = MakeChildIds(1_000, seed: 4);

    private static readonly AuditEvent Template = AuditEvent.Template("x", Actor, "child.read", "identity", "permit") with
    {
        Fields = ["childId", "careEpisodes"],
        Purpose = "pep-review",
        Rule = "endpoint-policy:register-children",
        LawfulBasis = "unassessed",
        Status = 200,
    };

    /// <summary>The event for request <paramref name="sequence"/> of requester <paramref name="requester"/>.</summary>
    public static AuditEvent Next(int requester, long sequence) =>
        AuditEvent.Create(
            DateTimeOffset.UtcNow,
            ChildIds[(int)((((uint)requester * 7919u) + (ulong)sequence) % (ulong)ChildIds.Length)],
            Template with { RequestId = $"0HN{requester:X10}:{sequence:X8}" });

    private static string[] MakeChildIds(int count, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count)
            .Select(_ => "ch_" + new string(Enumerable.Range(0, 26).Select(_ => Crockford[random.Next(Crockford.Length)]).ToArray()))
            .ToArray();
    }
}
