using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Exchange.Api.Tests.AuditReview;
using Exchange.Api.Tests.Infrastructure;

namespace Exchange.Api.Tests.Identity;

/// <summary>
/// Identity resolution is not an oracle: a school resolves only pupils it has a current enrolment for, a health
/// body only children it holds health responsibility for, a council any child; a restricted child resolves only
/// for its responsible council. To everyone else an unknown, a restricted and a not-yours child answer alike.
/// </summary>
public sealed class ResolutionScopeTests(ExchangeApiFactory api) : IClassFixture<ExchangeApiFactory>
{
    private HttpClient Nurse => api.ClientFor("health:ZZ901", "lac-nurse");

    private async Task<(string ChildId, string Nhs, string Upn)> RegisterAsync()
    {
        var (nhs, upn) = (TestIdentifiers.NewNhs(), TestIdentifiers.NewUpn());
        var id = await Problem.ChildIdAsync(await api.Council202.RegisterAsync(new { nhsNumber = nhs, upn }), HttpStatusCode.Created);
        return (id, nhs, upn);
    }

    private async Task RestrictAsync(string childId) =>
        Assert.Equal(HttpStatusCode.Created, (await api.Council202.PostAsJsonAsync($"/v1/children/{childId}/restriction",
            new { active = true, purposes = Array.Empty<string>(), reason = "The accuracy of the record is contested" })).StatusCode);

    /// <summary>Everything of a refusal a caller can compare, without the per-request correlation id.</summary>
    private static async Task<string> ShapeAsync(HttpResponseMessage response)
    {
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        var parts = body.EnumerateObject().Where(p => p.Name is not ("correlationId" or "traceId"))
            .Select(p => p.Name + "=" + p.Value.GetRawText()).Order(StringComparer.Ordinal);
        return $"{(int)response.StatusCode} {response.Content.Headers.ContentType?.MediaType} {string.Join(";", parts)}";
    }

    [Fact]
    public async Task ASchoolResolvesOnlyPupilsItHasACurrentEnrolmentFor()
    {
        var (childId, nhs, upn) = await RegisterAsync();
        await Problem.AssertAsync(await api.School202.ResolveAsync(new { upn }), HttpStatusCode.NotFound, "child-not-found");

        var enrolment = await api.Council202.PostAsJsonAsync("/v1/enrolments", new { childId, urn = "100001", startDate = "2025-09-01" });
        Assert.Equal(HttpStatusCode.Created, enrolment.StatusCode);
        Assert.Equal(childId, await Problem.ChildIdAsync(await api.School202.ResolveAsync(new { upn }), HttpStatusCode.OK));
        Assert.Equal(childId, await Problem.ChildIdAsync(await api.School202.ResolveAsync(new { nhsNumber = nhs }), HttpStatusCode.OK));

        // Once the pupil has left, the school is back to knowing nothing.
        var enrolmentId = (await enrolment.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString();
        Assert.Equal(HttpStatusCode.OK, (await api.Council202.PostAsJsonAsync($"/v1/enrolments/{enrolmentId}/end", new { endDate = "2025-12-19" })).StatusCode);
        await Problem.AssertAsync(await api.School202.ResolveAsync(new { upn }), HttpStatusCode.NotFound, "child-not-found");
    }

    [Fact]
    public async Task AHealthBodyResolvesOnlyChildrenItHoldsHealthResponsibilityFor()
    {
        var (childId, nhs, _) = await RegisterAsync();
        await Problem.AssertAsync(await Nurse.ResolveAsync(new { nhsNumber = nhs }), HttpStatusCode.NotFound, "child-not-found");

        Assert.Equal(HttpStatusCode.Created, (await api.Council202.PostAsJsonAsync($"/v1/children/{childId}/health-responsibility",
            new { ods = "ZZ901", startDate = "2025-09-01" })).StatusCode);
        Assert.Equal(childId, await Problem.ChildIdAsync(await Nurse.ResolveAsync(new { nhsNumber = nhs }), HttpStatusCode.OK));
    }

    [Fact]
    public async Task ACouncilResolvesAnyChildButARestrictedOneOnlyWhenItIsResponsible()
    {
        var (childId, nhs, _) = await RegisterAsync();
        Assert.Equal(childId, await Problem.ChildIdAsync(await api.Council209.ResolveAsync(new { nhsNumber = nhs }), HttpStatusCode.OK));

        await RestrictAsync(childId);
        var unknown = await api.Council209.ResolveAsync(new { nhsNumber = TestIdentifiers.NewNhs() });
        var restricted = await api.Council209.ResolveAsync(new { nhsNumber = nhs });
        Assert.Equal(await ShapeAsync(unknown), await ShapeAsync(restricted));
        Assert.Equal(childId, await Problem.ChildIdAsync(await api.Council202.ResolveAsync(new { nhsNumber = nhs }), HttpStatusCode.OK));
    }

    [Fact]
    public async Task UnknownRestrictedAndNotYoursChildrenAnswerAlikeToASchoolOrHealthBodyThatIsNotResponsible()
    {
        var (_, notYoursNhs, notYoursUpn) = await RegisterAsync();
        var (restrictedId, restrictedNhs, restrictedUpn) = await RegisterAsync();
        await RestrictAsync(restrictedId);

        foreach (var caller in new[] { api.School202, Nurse })
        {
            var unknown = await ShapeAsync(await caller.ResolveAsync(new { nhsNumber = TestIdentifiers.NewNhs() }));
            Assert.StartsWith("404 application/problem+json", unknown, StringComparison.Ordinal);
            Assert.Equal(unknown, await ShapeAsync(await caller.ResolveAsync(new { nhsNumber = notYoursNhs })));
            Assert.Equal(unknown, await ShapeAsync(await caller.ResolveAsync(new { nhsNumber = restrictedNhs })));
            Assert.Equal(unknown, await ShapeAsync(await caller.ResolveAsync(new { upn = TestIdentifiers.NewUpn() })));
            Assert.Equal(unknown, await ShapeAsync(await caller.ResolveAsync(new { upn = notYoursUpn })));
            Assert.Equal(unknown, await ShapeAsync(await caller.ResolveAsync(new { upn = restrictedUpn })));
        }
    }

    [Fact]
    public async Task AProbeForANotYoursChildLeavesTheSameAuditEventAsOneForAnUnknownChild()
    {
        var (childId, nhs, _) = await RegisterAsync();
        var school = api.ClientFor("school:100002", "school-mis");
        await school.ResolveAsync(new { nhsNumber = TestIdentifiers.NewNhs() });
        await school.ResolveAsync(new { nhsNumber = nhs });

        // The school's own DPO reads its staff's events: they must not tell the two apart, nor name the child.
        var events = await api.EventsAsync("org=school:100002", "school:100002");
        var probes = events.Where(e => e.GetProperty("action").GetString() == "identity.resolve").ToList();
        Assert.Equal(2, probes.Count);
        static string Comparable(JsonElement e) => string.Join(";", e.EnumerateObject()
            .Where(p => p.Name is not ("time" or "request_id"))
            .Select(p => p.Name + "=" + p.Value.GetRawText()).Order(StringComparer.Ordinal));
        Assert.Equal(Comparable(probes[0]), Comparable(probes[1]));
        Assert.All(probes, e => Assert.NotEqual(childId, e.TryGetProperty("child_id", out var c) ? c.GetString() : null));
    }

    [Fact]
    public async Task IdentifiersOfAChildTheSchoolMayNotResolveCountAsUnknownBesideItsOwnPupils()
    {
        // The pupil has an NHS number but no UPN yet; another child in care has a UPN.
        var pupilNhs = TestIdentifiers.NewNhs();
        var pupil = await Problem.ChildIdAsync(await api.Council202.RegisterAsync(new { nhsNumber = pupilNhs }), HttpStatusCode.Created);
        var (_, _, otherUpn) = await RegisterAsync();
        Assert.Equal(HttpStatusCode.Created, (await api.Council202.PostAsJsonAsync("/v1/enrolments", new { childId = pupil, urn = "100001", startDate = "2025-09-01" })).StatusCode);

        // Presenting the other child's UPN beside the pupil's NHS number answers as an unknown UPN would: the pupil.
        Assert.Equal(pupil, await Problem.ChildIdAsync(await api.School202.ResolveAsync(new { nhsNumber = pupilNhs, upn = otherUpn }), HttpStatusCode.OK));
        Assert.Equal(pupil, await Problem.ChildIdAsync(await api.School202.ResolveAsync(new { nhsNumber = pupilNhs, upn = TestIdentifiers.NewUpn() }), HttpStatusCode.OK));
    }
}
