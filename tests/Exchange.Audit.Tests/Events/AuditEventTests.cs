using System.Text;
using System.Text.Json;
using Exchange.Audit.Events;

namespace Exchange.Audit.Tests.Events;

public sealed class AuditEventTests
{
    private static readonly AuditActor Actor = new("user-7", "school:100001", ["school-mis", "designated-teacher"], "mis-client");

    private static AuditEvent Sample(string? childId = "ch_9bnjp22dq0v581hd6c71mf19mw") =>
        AuditEvent.Create(new DateTimeOffset(2026, 11, 23, 14, 5, 6, 789, TimeSpan.FromHours(1)).AddTicks(4321), childId,
            AuditEvent.Template("req-0001", Actor, "identity.resolve", "identity", "permit") with
            {
                Fields = ["childId"],
                Purpose = "attendance-monitoring",
                Rule = "placeholder",
                LawfulBasis = "placeholder",
                Status = 200,
            });

    [Fact]
    public void LeafIsCanonicalJsonWithSortedKeysNoWhiteSpaceAndUtcMilliseconds()
    {
        var leaf = Encoding.UTF8.GetString(Sample().ToLeaf());
        Assert.Equal(
            "{\"action\":\"identity.resolve\",\"actor\":{\"client_id\":\"mis-client\",\"org\":\"school:100001\",\"roles\":[\"designated-teacher\",\"school-mis\"],\"sub\":\"user-7\"},\"break_glass\":null," +
            "\"category\":\"identity\",\"child_id\":\"ch_9bnjp22dq0v581hd6c71mf19mw\",\"child_unrecognised\":false,\"count\":null,\"decision\":\"permit\",\"fields\":[\"childId\"],\"lawful_basis\":\"placeholder\",\"policy\":null," +
            "\"purpose\":\"attendance-monitoring\",\"request_id\":\"req-0001\",\"rule\":\"placeholder\",\"status\":200,\"target_org\":null,\"time\":\"2026-11-23T13:05:06.789Z\",\"v\":5}",
            leaf);
    }

    [Fact]
    public void ABatchEventCarriesItsCountAndTheCountChangesTheBytes()
    {
        var batch = Sample() with { Count = 1200 };

        Assert.Contains("\"count\":1200,", Encoding.UTF8.GetString(batch.ToLeaf()), StringComparison.Ordinal);
        Assert.NotEqual(Sample().ToLeaf(), batch.ToLeaf());
    }

    [Fact]
    public void TheOrderRolesAndFieldsArriveInDoesNotChangeTheBytes()
    {
        var reordered = AuditEvent.Create(new DateTimeOffset(2026, 11, 23, 13, 5, 6, 789, TimeSpan.Zero), "ch_9bnjp22dq0v581hd6c71mf19mw",
            AuditEvent.Template("req-0001", Actor with { Roles = ["designated-teacher", "school-mis"] }, "identity.resolve", "identity", "permit") with
            {
                Fields = ["childId"],
                Purpose = "attendance-monitoring",
                Rule = "placeholder",
                LawfulBasis = "placeholder",
                Status = 200,
            });
        Assert.Equal(Encoding.UTF8.GetString(Sample().ToLeaf()), Encoding.UTF8.GetString(reordered.ToLeaf()));
        Assert.NotEqual(Sample().ToLeaf(), (reordered with { Status = 404 }).ToLeaf());
    }

    [Fact]
    public void TheLeafIsTheBytesAGeneralJsonSerializerWritesForTheSortedObjectIncludingTextThatNeedsEscaping()
    {
        // The hand-written leaf must equal the canonical form as any JSON library would write it: sorted keys, nulls kept,
        // only what JSON requires escaped (quotes, backslashes, control characters), non-ASCII as UTF-8.
        var awkward = AuditEvent.Create(new DateTimeOffset(2026, 12, 5, 23, 59, 59, 999, TimeSpan.Zero), null,
            AuditEvent.Template("req-\"quoted\"\\ \u0001\t", new AuditActor("Zoë <é> & 😀", null, ["b", "a", "ä"], null), "x.y", "cat", "deny") with
            {
                Fields = ["z", "a"], BreakGlass = "bg-1", TargetOrganisation = "la:9\n", Count = 0, Status = 403, ChildUnrecognised = true,
            });
        foreach (var auditEvent in new[] { Sample(), Sample(null) with { Count = 5000 }, awkward })
        {
            Assert.Equal(Encoding.UTF8.GetString(GeneralSerializerLeaf(auditEvent)), Encoding.UTF8.GetString(auditEvent.ToLeaf()));
        }
    }

    /// <summary>
    /// Leaves are written through one reused buffer per thread: a leaf written after a longer one, or on many threads at
    /// once, carries nothing of another.
    /// </summary>
    [Fact]
    public void EachLeafIsItsOwnWhateverWasWrittenBeforeItOnItsThread()
    {
        var longer = Sample() with { Fields = Enumerable.Range(0, 300).Select(i => "field" + i).ToList() };
        Assert.True(longer.ToLeaf().Length > Sample().ToLeaf().Length * 3);
        Assert.Equal(GeneralSerializerLeaf(Sample()), Sample().ToLeaf());

        var events = Enumerable.Range(0, 64).Select(i => Sample() with { Status = 200 + i, Fields = Enumerable.Range(0, i).Select(f => "f" + f).ToList() }).ToList();
        var leaves = new byte[events.Count][];
        Parallel.For(0, events.Count, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i => leaves[i] = events[i].ToLeaf());
        for (var i = 0; i < events.Count; i++)
        {
            Assert.Equal(GeneralSerializerLeaf(events[i]), leaves[i]);
        }
    }

    private static byte[] GeneralSerializerLeaf(AuditEvent e)
    {
        var actor = new SortedDictionary<string, object?>(StringComparer.Ordinal)
        {
            ["client_id"] = e.Actor.ClientId, ["org"] = e.Actor.Organisation, ["roles"] = e.Actor.Roles.Order(StringComparer.Ordinal).ToArray(), ["sub"] = e.Actor.Subject,
        };
        var body = new SortedDictionary<string, object?>(StringComparer.Ordinal)
        {
            ["v"] = AuditEvent.FormatVersion, ["time"] = e.Time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture),
            ["target_org"] = e.TargetOrganisation, ["status"] = e.Status, ["rule"] = e.Rule, ["request_id"] = e.RequestId, ["purpose"] = e.Purpose,
            ["policy"] = e.PolicyHash, ["lawful_basis"] = e.LawfulBasis, ["fields"] = e.Fields.Order(StringComparer.Ordinal).ToArray(), ["decision"] = e.Decision,
            ["count"] = e.Count, ["child_unrecognised"] = e.ChildUnrecognised, ["child_id"] = e.ChildId, ["category"] = e.Category, ["break_glass"] = e.BreakGlass,
            ["actor"] = actor, ["action"] = e.Action,
        };
        return JsonSerializer.SerializeToUtf8Bytes(body, new JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
    }

    [Fact]
    public void KeysAreInOrdinalOrderAtEveryLevel()
    {
        using var json = JsonDocument.Parse(Sample().ToLeaf());
        var keys = json.RootElement.EnumerateObject().Select(p => p.Name).ToList();
        Assert.Equal(keys.Order(StringComparer.Ordinal), keys);
        var actorKeys = json.RootElement.GetProperty("actor").EnumerateObject().Select(p => p.Name).ToList();
        Assert.Equal(actorKeys.Order(StringComparer.Ordinal), actorKeys);
    }

    [Theory]
    [InlineData("9434765919")] // an NHS number
    [InlineData("B801200005001")] // a UPN
    [InlineData("CANARY-LA-77")] // a council child ID
    [InlineData("ch_short")]
    public void AnythingButAPseudonymousChildIdIsRefused(string notAChildId) =>
        Assert.Throws<ArgumentException>(() => Sample(notAChildId));

    [Theory]
    [InlineData("ch_9bnjp22dq0v581hd6c71mf19mw ")]  // text after the id
    [InlineData("ch_9bnjp22dq0v581hd6c71mf19mw\n")]
    [InlineData("xch_9bnjp22dq0v581hd6c71mf19mw")] // text before it
    [InlineData("ch_9bnjp22dq0v581hd6c71mf19mwa")] // 27 characters
    [InlineData("ch_9bnjp22dq0v581hd6c71mf19m")]   // 25
    [InlineData("CH_9bnjp22dq0v581hd6c71mf19mw")]
    [InlineData("ch_9BNJP22DQ0V581HD6C71MF19MW")]  // the id is lower case
    [InlineData("ch_ibnjp22dq0v581hd6c71mf19mw")]  // i, l, o and u are not in Crockford's base 32
    [InlineData("ch_lbnjp22dq0v581hd6c71mf19mw")]
    [InlineData("ch_obnjp22dq0v581hd6c71mf19mw")]
    [InlineData("ch_ubnjp22dq0v581hd6c71mf19mw")]
    public void AChildIdOfTheWrongShapeIsRefused(string notAChildId) =>
        Assert.Throws<ArgumentException>(() => Sample(notAChildId));

    [Theory]
    [InlineData("ch_0123456789abcdefghjkmnpqrs")]
    [InlineData("ch_tvwxyz0123456789abcdefghjk")]
    public void EveryLetterOfCrockfordsBase32IsAccepted(string childId) =>
        Assert.Equal(childId, Sample(childId).ChildId);

    [Theory]
    [InlineData("permit")]
    [InlineData("deny")]
    [InlineData("error")]
    public void EachOfTheThreeDecisionsIsAccepted(string decision) =>
        Assert.Equal(decision, AuditEvent.Create(DateTimeOffset.UnixEpoch, null, AuditEvent.Template("r", Actor, "a", "c", decision)).Decision);

    [Theory]
    [InlineData("Permit")]
    [InlineData("")]
    public void ADecisionIsOneOfTheThreeExactly(string decision) =>
        Assert.Throws<ArgumentException>(() => AuditEvent.Create(DateTimeOffset.UnixEpoch, null, AuditEvent.Template("r", Actor, "a", "c", decision)));

    [Fact]
    public void TheTimeIsCutToTheMillisecondNotRounded()
    {
        var created = AuditEvent.Create(new DateTimeOffset(2026, 11, 23, 14, 5, 6, 789, TimeSpan.FromHours(1)).AddTicks(9_999), null,
            AuditEvent.Template("r", Actor, "a", "c", "permit"));

        Assert.Equal(new DateTimeOffset(2026, 11, 23, 13, 5, 6, 789, TimeSpan.Zero), created.Time);
        Assert.Equal(TimeSpan.Zero, created.Time.Offset);
    }

    [Fact]
    public void FieldsAreWrittenInOrdinalOrder()
    {
        var leaf = Encoding.UTF8.GetString((Sample() with { Fields = ["placement", "childId", "Zone"] }).ToLeaf());

        Assert.Contains("\"fields\":[\"Zone\",\"childId\",\"placement\"]", leaf, StringComparison.Ordinal);
    }

    [Fact]
    public void ATemplateIsRequired() =>
        Assert.Throws<ArgumentNullException>(() => AuditEvent.Create(DateTimeOffset.UnixEpoch, null, null!));

    [Fact]
    public void BreakGlassPolicyAndTargetOrganisationAreWrittenWhenSet()
    {
        var granted = Sample() with { BreakGlass = "bg_1", PolicyHash = "sha256:ab", TargetOrganisation = "council:E10000001" };

        using var json = JsonDocument.Parse(granted.ToLeaf());

        Assert.Equal("bg_1", json.RootElement.GetProperty("break_glass").GetString());
        Assert.Equal("sha256:ab", json.RootElement.GetProperty("policy").GetString());
        Assert.Equal("council:E10000001", json.RootElement.GetProperty("target_org").GetString());
        Assert.Equal(granted.ToLeaf(), Encoding.UTF8.GetBytes(granted.ToString()));
    }

    [Fact]
    public void AnUnrecognisedChildIdIsRecordedAsSuchWithoutTheCallersText()
    {
        var unrecognised = AuditEvent.Create(DateTimeOffset.UnixEpoch, null,
            AuditEvent.Template("req-3", Actor, "child.read", "identity", "deny") with { Status = 404, ChildUnrecognised = true });
        using var json = JsonDocument.Parse(unrecognised.ToLeaf());
        Assert.Equal(JsonValueKind.Null, json.RootElement.GetProperty("child_id").ValueKind);
        Assert.True(json.RootElement.GetProperty("child_unrecognised").GetBoolean());
        Assert.Throws<ArgumentException>(() => AuditEvent.Create(DateTimeOffset.UnixEpoch, "ch_9bnjp22dq0v581hd6c71mf19mw",
            AuditEvent.Template("req-3", Actor, "child.read", "identity", "deny") with { ChildUnrecognised = true }));
    }

    [Fact]
    public void AnUnknownDecisionIsRefused() =>
        Assert.Throws<ArgumentException>(() => AuditEvent.Create(DateTimeOffset.UnixEpoch, null, AuditEvent.Template("r", Actor, "a", "c", "maybe")));

    [Fact]
    public void AnUnauthenticatedDenialHasNullActorFieldsAndNoChild()
    {
        var denied = AuditEvent.Create(DateTimeOffset.UnixEpoch, null,
            AuditEvent.Template("req-2", new AuditActor(null, null, [], null), "identity.resolve", "identity", "deny") with { Status = 401 });
        using var json = JsonDocument.Parse(denied.ToLeaf());
        Assert.Equal(JsonValueKind.Null, json.RootElement.GetProperty("child_id").ValueKind);
        Assert.Equal(JsonValueKind.Null, json.RootElement.GetProperty("actor").GetProperty("sub").ValueKind);
        Assert.Equal("1970-01-01T00:00:00.000Z", json.RootElement.GetProperty("time").GetString());
    }
}
