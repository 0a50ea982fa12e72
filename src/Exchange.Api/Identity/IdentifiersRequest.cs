namespace Exchange.Api.Identity;

/// <summary>The identifiers a caller presents for one child; any that are present must be valid.</summary>
public sealed record IdentifiersDto(string? NhsNumber, string? Upn, LaChildIdDto? LaChildId);

public sealed record LaChildIdDto(string? La, string? Id);

public sealed record CareEpisodeDto(string? StartDate);

public sealed record RegisterChildRequest(IdentifiersDto? Identifiers, CareEpisodeDto? CareEpisode);

public sealed record ResolveIdentityRequest(IdentifiersDto? Identifiers);

public sealed record ChildIdResponse(string ChildId);

/// <summary>An identifier after validation and normalisation, ready to index and seal.</summary>
public sealed record PresentedIdentifier(string Type, string Value, bool IsTemporary)
{
    public const string Nhs = "nhs";
    public const string Upn = "upn";

    /// <summary>The name callers use for this identifier type, for messages and review views.</summary>
    public string PublicName => Type switch
    {
        Nhs => "nhsNumber",
        Upn => "upn",
        _ => "laChildId",
    };

    public static IReadOnlyList<PresentedIdentifier> From(IdentifiersDto identifiers)
    {
        ArgumentNullException.ThrowIfNull(identifiers);
        var list = new List<PresentedIdentifier>(3);
        if (!string.IsNullOrWhiteSpace(identifiers.NhsNumber))
        {
            list.Add(new(Nhs, IdentifierRules.NormaliseNhsNumber(identifiers.NhsNumber), false));
        }

        if (!string.IsNullOrWhiteSpace(identifiers.Upn))
        {
            var upn = IdentifierRules.NormaliseUpn(identifiers.Upn);
            IdentifierRules.CheckUpn(upn, out var temporary);
            list.Add(new(Upn, upn, temporary));
        }

        if (identifiers.LaChildId is { La: { } la, Id: { } id })
        {
            // The council's LA number is part of the type: ID 123 of Camden is not ID 123 of Lewisham.
            list.Add(new("la:" + la.Trim(), IdentifierRules.NormaliseLaChildId(id), false));
        }

        return list;
    }
}
