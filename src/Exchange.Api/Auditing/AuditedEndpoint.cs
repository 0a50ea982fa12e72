namespace Exchange.Api.Auditing;

/// <summary>
/// Marks an endpoint whose every request leaves one audit event (granted or refused): what it does, which
/// data category it touches, and the fields it releases when it answers with success.
/// </summary>
/// <param name="Action">For example <c>identity.resolve</c>.</param>
/// <param name="Category">For example <c>identity</c>.</param>
/// <param name="Fields">The response fields released on success.</param>
/// <param name="Streamed">The handler records its event itself before it streams the body (an export).</param>
public sealed record AuditedEndpoint(string Action, string Category, IReadOnlyList<string> Fields, bool Streamed = false);

public static class AuditedEndpointExtensions
{
    /// <summary>Every request to this endpoint appends one audit event before its answer or its commit.</summary>
    public static TBuilder Audited<TBuilder>(this TBuilder builder, string action, string category, params string[] fields)
        where TBuilder : IEndpointConventionBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.WithMetadata(new AuditedEndpoint(action, category, fields));
    }

    /// <summary>As <see cref="Audited{TBuilder}"/>, for a handler that records before it streams its body.</summary>
    public static TBuilder AuditedStream<TBuilder>(this TBuilder builder, string action, string category, params string[] fields)
        where TBuilder : IEndpointConventionBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.WithMetadata(new AuditedEndpoint(action, category, fields, Streamed: true));
    }
}
