namespace Exchange.Api.Exclusions;

/// <summary>
/// The DfE's reasons for a suspension or permanent exclusion, as the school census collects them (docs/EXCLUSIONS.md
/// cites the list and its changes). A school chooses the main reason; codes are exact (two capital letters).
/// </summary>
public static class ExclusionReasons
{
    /// <summary>Each reason in force, by its census code.</summary>
    public static readonly IReadOnlyDictionary<string, string> InForce = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["PP"] = "Physical assault against a pupil",
        ["PA"] = "Physical assault against an adult",
        ["VP"] = "Verbal abuse or threatening behaviour against a pupil",
        ["VA"] = "Verbal abuse or threatening behaviour against an adult",
        ["BU"] = "Bullying",
        ["RA"] = "Racist abuse",
        ["LG"] = "Abuse against sexual orientation or gender identity",
        ["DS"] = "Abuse relating to disability",
        ["SM"] = "Sexual misconduct",
        ["DA"] = "Drug and alcohol related",
        ["DM"] = "Damage",
        ["TH"] = "Theft",
        ["DB"] = "Persistent or general disruptive behaviour",
        ["OW"] = "Use or threat of use of an offensive weapon or prohibited item",
        ["MT"] = "Inappropriate use of social media or online technology",
        ["PH"] = "Wilful and repeated transgression of protective measures in place to protect public health",
    };

    /// <summary>Codes an older MIS may still send that are no longer collected, with what to send instead.</summary>
    public static readonly IReadOnlyDictionary<string, string> Withdrawn = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["OT"] = "'Other' is no longer collected (from 2020/21): choose the reason that fits, and say more in reasonText.",
    };
}
