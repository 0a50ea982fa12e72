using System.Text.RegularExpressions;

namespace Exchange.Api.Tests.Architecture;

/// <summary>
/// The layers of <c>src/Exchange.Api</c> (docs/ARCHITECTURE.md), read from the source: each file's
/// <c>using Exchange.Api.X</c> lines and its qualified references (<c>Exchange.Api.X.Y</c>, or <c>X.Y</c> for a
/// folder X, which a file inside <c>Exchange.Api</c> can write), outside comments. A folder is a namespace.
/// </summary>
public sealed partial class LayeringTests
{
    /// <summary>Folders that hold no behaviour of their own and import no other folder: any layer may use them.</summary>
    private static readonly string[] Leaves = ["Configuration", "Dates"];

    /// <summary>The features: each owns its routes and its part of the model. Lower layers import none of them.</summary>
    private static readonly string[] Features =
        ["Attendance", "AuditReview", "BreakGlass", "Cohort", "Consents", "Erasure", "Events", "Exclusions", "Handovers", "Identity", "Organisations", "Peps", "Relationships", "Restrictions", "RollCheck", "SubjectAccess", "Subscriptions"];

    /// <summary>
    /// Imports that break a rule today, each with its reason. The list can only shrink: an exception that no longer
    /// occurs fails the test, so that it is removed (and cannot quietly allow the import again later).
    /// </summary>
    private static readonly (string File, string Imports, string Reason)[] Exceptions =
    [
        ("Storage/DatabaseInitializer.cs", "Auditing",
            "migrates the audit store after the main database, whose old migrations dropped the audit tables; goes when the migrations are squashed"),
        ("Storage/DatabaseInitializer.cs", "Work",
            "seeds the operator and demo organisations through a Background unit of work at start-up; goes when seeding moves to Hosting (with OperatorId to a leaf)"),
        ("Auditing/AuditTrail.cs", "Identity",
            "names the child in an event only when Identity's Ids says the route value is a child id; goes when the decision reaches the trail typed"),
    ];

    [Fact]
    public void PolicyImportsNoOtherFolder() =>
        AssertNone(Imports().Where(i => i.Folder == "Policy"), "Policy is the lower layer: it declares the facts it needs (PolicyFacts.cs) and imports nothing");

    [Fact]
    public void StorageImportsOnlyLeaves() =>
        AssertNone(Imports().Where(i => i.Folder == "Storage" && !Leaves.Contains(i.Imported)), "Storage imports no feature, no policy and no hosting");

    [Fact]
    public void AuditingImportsNoFeature() =>
        AssertNone(Imports().Where(i => i.Folder == "Auditing" && (Features.Contains(i.Imported) || i.Imported == "Decisions")),
            "Auditing records what features do; it imports none of them");

    [Fact]
    public void NothingButTheEntryPointImportsHosting() =>
        AssertNone(Imports().Where(i => i.Imported == "Hosting" && i.Folder != "Hosting" && i.Folder != ""), "Hosting is the composition root: only Program.cs calls it");

    [Fact]
    public void LeavesImportNoOtherFolder() =>
        AssertNone(Imports().Where(i => Leaves.Contains(i.Folder)), "a leaf folder imports nothing");

    [Fact]
    public void EveryExceptionStillOccursAndSaysWhy()
    {
        var imports = Imports().ToList();
        foreach (var (file, imported, reason) in Exceptions)
        {
            Assert.False(string.IsNullOrWhiteSpace(reason), $"{file} -> {imported}: an exception needs its reason");
            Assert.True(imports.Any(i => i.File == file && i.Imported == imported && i.Excepted),
                $"{file} no longer imports {imported}: remove its exception from LayeringTests.Exceptions");
        }
    }

    /// <summary>The scanner sees imports at all (else every rule above would pass vacuously).</summary>
    [Fact]
    public void TheScannerSeesTheCompositionRootsImports()
    {
        var imports = Imports().ToList();
        Assert.Contains(imports, i => i.File == "Hosting/PolicyFactsSetup.cs" && i.Imported == "Policy");
        Assert.Contains(imports, i => i.File == "Hosting/PolicyFactsSetup.cs" && i.Imported == "Relationships");
        Assert.Contains(imports, i => i.File == "Program.cs" && i.Imported == "Hosting");
        Assert.Contains(Scan("namespace Exchange.Api.Storage;\nvar x = Auditing.AuditTrail.Y; // Hosting.Z\n", "Storage"), f => f == "Auditing");
        Assert.DoesNotContain(Scan("namespace Exchange.Api.Storage;\n/// see Hosting.Z\nvar p = engine.Policy.Rules;\n", "Storage"), f => f is "Hosting" or "Policy");
    }

    private static void AssertNone(IEnumerable<Import> imports, string rule)
    {
        var broken = imports.Where(i => !i.Excepted).Select(i => $"{i.File} imports {i.Imported}").Distinct().ToList();
        Assert.True(broken.Count == 0, $"{rule}:\n" + string.Join("\n", broken));
    }

    private sealed record Import(string File, string Folder, string Imported, bool Excepted);

    private static IEnumerable<Import> Imports()
    {
        var root = Path.Combine(RepoRoot(), "src", "Exchange.Api");
        var folders = Directory.GetDirectories(root).Select(Path.GetFileName).OfType<string>()
            .Where(d => d is not ("bin" or "obj" or "Properties")).ToHashSet(StringComparer.Ordinal);
        foreach (var path in Directory.EnumerateFiles(root, "*.cs", SearchOption.AllDirectories))
        {
            var file = Path.GetRelativePath(root, path).Replace('\\', '/');
            var folder = file.Contains('/', StringComparison.Ordinal) ? file[..file.IndexOf('/', StringComparison.Ordinal)] : "";
            if (folder is "bin" or "obj")
            {
                continue;
            }

            foreach (var imported in Scan(File.ReadAllText(path), folder).Where(folders.Contains).Distinct())
            {
                yield return new Import(file, folder, imported, Exceptions.Any(e => e.File == file && e.Imports == imported));
            }
        }
    }

    /// <summary>The folders a source text refers to, other than its own.</summary>
    private static IEnumerable<string> Scan(string source, string folder)
    {
        var code = Comments().Replace(source, "");
        var named = FullyQualified().Matches(code).Select(m => m.Groups[1].Value);
        // Inside namespace Exchange.Api.*, "Auditing.AuditTrail" names Exchange.Api.Auditing; "engine.Policy" does not.
        var partly = PartlyQualified().Matches(code).Select(m => m.Groups[1].Value);
        return named.Concat(partly).Where(f => f != folder && f != "Tests");
    }

    [GeneratedRegex(@"//[^\n]*|/\*.*?\*/", RegexOptions.Singleline)]
    private static partial Regex Comments();

    [GeneratedRegex(@"\bExchange\.Api\.([A-Z]\w*)")]
    private static partial Regex FullyQualified();

    [GeneratedRegex(@"(?<![\w.])([A-Z]\w*)\.[A-Z]")]
    private static partial Regex PartlyQualified();

    private static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Exchange.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("Exchange.sln not found above the test binaries.");
    }
}
