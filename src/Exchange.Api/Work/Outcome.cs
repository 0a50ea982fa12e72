namespace Exchange.Api.Work;

/// <summary>
/// What a unit of work answers when it commits: the status of the request's audit event and the children it names.
/// A request's event is appended before its commit, for this outcome, so a write is never committed without its
/// trace. <see cref="Background"/> is for writers outside a request (hosted jobs, start-up seeding, key rotation),
/// which append no request event.
/// </summary>
public sealed record Outcome
{
    private Outcome(int status, IReadOnlyList<string> children, bool isBackground, int? count = null)
    {
        Status = status;
        Children = children;
        IsBackground = isBackground;
        Count = count;
    }

    /// <summary>
    /// For a batch (<see cref="Batch"/>): how many items it carried. Its own event names no child and carries the
    /// count; each child of <see cref="Children"/> gets an event of its own.
    /// </summary>
    public int? Count { get; }

    /// <summary>The HTTP status the request answers once the commit succeeds.</summary>
    public int Status { get; }

    /// <summary>The children the answer is about or discloses something about: the event is recorded once for each.</summary>
    public IReadOnlyList<string> Children { get; }

    /// <summary>A writer outside any request: no request event is appended.</summary>
    public bool IsBackground { get; }

    /// <summary>200: the request changed something, about <paramref name="childId"/> if it concerns a child.</summary>
    public static Outcome Ok(string? childId = null) => new(StatusCodes.Status200OK, childId is null ? [] : [childId], false);

    /// <summary>201: the request created something, about <paramref name="childId"/> if it concerns a child.</summary>
    public static Outcome Created(string? childId = null) => new(StatusCodes.Status201Created, childId is null ? [] : [childId], false);

    /// <summary>202: the request queued work (a redelivery), about <paramref name="childId"/> if it concerns a child.</summary>
    public static Outcome Accepted(string? childId = null) => new(StatusCodes.Status202Accepted, childId is null ? [] : [childId], false);

    /// <summary>204: the request removed something and answers with nothing.</summary>
    public static Outcome NoContent() => new(StatusCodes.Status204NoContent, [], false);

    /// <summary>409 that stores something (a review case): it names every child the conflict disclosed something about.</summary>
    public static Outcome Conflict(params IEnumerable<string> children) =>
        new(StatusCodes.Status409Conflict, children.Order(StringComparer.Ordinal).ToList(), false);

    /// <summary>
    /// 200 for a batch of <paramref name="count"/> items (a roll check's pupils, an attendance batch's marks): one event
    /// for the batch with its count, and one more for each child it wrote or disclosed something about.
    /// </summary>
    public static Outcome Batch(int count, IEnumerable<string> children) =>
        new(StatusCodes.Status200OK, children.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList(), false, count);

    /// <summary>A writer outside a request (hosted job, seeding, key rotation): nothing is appended to a request event.</summary>
    public static Outcome Background { get; } = new(0, [], true);
}
