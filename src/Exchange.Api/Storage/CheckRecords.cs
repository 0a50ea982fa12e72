namespace Exchange.Api.Storage;

/// <summary>
/// A condition the scheduled checks found about a child in care (<c>missing-education</c>, <c>pep-overdue</c>,
/// <c>persistent-absence</c>, <c>severe-absence</c>): raised
/// once, with its outbox item, when the condition begins, and cleared when it ends (marks arrive, a plan is approved,
/// the child leaves care), so the next time it begins is told again. At most one open alert per child and kind (a
/// unique index over the open ones), however many instances run the checks.
/// </summary>
public sealed class CheckAlert
{
    public required Guid Id { get; init; }
    public required string ChildId { get; set; }

    /// <summary>The condition: the event type it raised, or for absence the threshold crossed (both raise <see cref="OutboxItem.AbsenceThresholdCrossed"/>).</summary>
    public required string Kind { get; init; }
    public DateTimeOffset RaisedAt { get; init; }
    public DateTimeOffset? ClearedAt { get; set; }

    /// <summary>The outbox item that told of it.</summary>
    public Guid EventId { get; init; }
}
