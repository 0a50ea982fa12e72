using System.Text.Json;

namespace Exchange.Crypto.Tests.Vectors;

/// <summary>One Project Wycheproof test case: its group's parameters and the case's hex fields decoded.</summary>
internal sealed record WycheproofCase(
    int Group,
    int TcId,
    string Comment,
    string Result,
    JsonElement GroupElement,
    JsonElement CaseElement)
{
    public bool IsValid => Result == "valid";

    public bool IsInvalid => Result == "invalid";

    public int GroupInt(string name) => GroupElement.GetProperty(name).GetInt32();

    public byte[] Bytes(string name) => Convert.FromHexString(CaseElement.GetProperty(name).GetString()!);

    public override string ToString() => $"group {Group}, tcId {TcId} ({Result}; {Comment})";
}

/// <summary>
/// Reads a Wycheproof JSON file (<c>testGroups[].tests[]</c>, hex strings, <c>result</c> of
/// valid/invalid/acceptable) and hands theories one row per case, named by group index and tcId.
/// </summary>
internal static class Wycheproof
{
    /// <summary>The row used when the vectors are absent, so a theory never has zero rows; it skips (or fails in CI).</summary>
    public const int Missing = -1;

    private static readonly Dictionary<string, JsonDocument?> Documents = new(StringComparer.Ordinal);
    private static readonly Lock Gate = new();

    /// <summary>(group index, tcId) for every case accepted by <paramref name="include"/>.</summary>
    public static TheoryData<int, int> Rows(string relativePath, Func<WycheproofCase, bool> include)
    {
        var rows = new TheoryData<int, int>();
        foreach (var c in Cases(relativePath, include))
        {
            rows.Add(c.Group, c.TcId);
        }

        if (rows.Count == 0)
        {
            rows.Add(Missing, Missing);
        }

        return rows;
    }

    /// <summary>Every case accepted by <paramref name="include"/>; empty when the file is absent.</summary>
    public static IReadOnlyList<WycheproofCase> Cases(string relativePath, Func<WycheproofCase, bool> include)
    {
        var document = Load(relativePath);
        if (document is null)
        {
            return [];
        }

        var cases = new List<WycheproofCase>();
        var groupIndex = 0;
        foreach (var group in document.RootElement.GetProperty("testGroups").EnumerateArray())
        {
            foreach (var test in group.GetProperty("tests").EnumerateArray())
            {
                var c = new WycheproofCase(
                    groupIndex,
                    test.GetProperty("tcId").GetInt32(),
                    test.GetProperty("comment").GetString() ?? "",
                    test.GetProperty("result").GetString()!,
                    group,
                    test);
                if (include(c))
                {
                    cases.Add(c);
                }
            }

            groupIndex++;
        }

        return cases;
    }

    /// <summary>The case named by a row; skips (or fails in CI) for the placeholder row or a missing file.</summary>
    public static WycheproofCase Case(string relativePath, int group, int tcId)
    {
        TestVectors.Require(relativePath);
        Assert.True(group != Missing, $"{relativePath} holds no cases matching the filter.");
        var match = Cases(relativePath, _ => true).SingleOrDefault(c => c.Group == group && c.TcId == tcId);
        Assert.True(match is not null, $"{relativePath} has no tcId {tcId} in group {group}.");
        return match;
    }

    private static JsonDocument? Load(string relativePath)
    {
        lock (Gate)
        {
            if (!Documents.TryGetValue(relativePath, out var document))
            {
                var path = TestVectors.Find(relativePath);
                document = path is null ? null : JsonDocument.Parse(File.ReadAllBytes(path));
                Documents[relativePath] = document;
            }

            return document;
        }
    }
}
