namespace Exchange.Api.Peps;

/// <summary>A PEP's entity tag is its version number, as a strong validator (<c>"3"</c>).</summary>
public static class PepETag
{
    public static string Of(int version) => $"\"{version}\"";

    /// <summary>
    /// RFC 9110 13.1.1: If-Match is <c>*</c> (any current version) or a list of entity tags compared strongly, so a weak
    /// tag (<c>W/"3"</c>) never matches.
    /// </summary>
    public static bool Matches(string ifMatch, int version)
    {
        ArgumentNullException.ThrowIfNull(ifMatch);
        var tag = Of(version);
        return ifMatch.Split(',').Select(t => t.Trim()).Any(t => t == "*" || string.Equals(t, tag, StringComparison.Ordinal));
    }
}
