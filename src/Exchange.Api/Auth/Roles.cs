namespace Exchange.Api.Auth;

/// <summary>
/// The roles C# code names (authorization policies, checks); the policy declares them (policies/vocabulary.yaml)
/// and the start-up check (<c>Hosting.PolicyVocabularyCheck</c>) stops the service if it lacks one.
/// </summary>
public static class Roles
{
    public const string SchoolMis = "school-mis";
    public const string DesignatedTeacher = "designated-teacher";
    public const string VirtualSchool = "virtual-school";
    public const string SocialWorker = "social-worker";
    public const string LacNurse = "lac-nurse";
    public const string Dpo = "dpo";
    public const string ExchangeAdmin = "exchange-admin";
}

public static class ClaimNames
{
    public const string Subject = "sub";
    public const string Organisation = "org";
    public const string Roles = "roles";
    public const string ClientId = "client_id";
    public const string AuthorizedParty = "azp";
}
