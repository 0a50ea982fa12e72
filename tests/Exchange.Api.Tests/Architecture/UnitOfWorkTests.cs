using System.Text.RegularExpressions;
using Exchange.Api.Storage;
using Exchange.Api.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Exchange.Api.Tests.Architecture;

/// <summary>
/// Every write goes through the one unit of work (Work/UnitOfWork.cs): it takes the write gate, holds the transaction,
/// appends the request's audit event and commits. No other file may save, bulk-update, open a transaction or take the
/// gate, and the database refuses a save made outside a unit of work.
/// </summary>
public sealed partial class UnitOfWorkTests(ExchangeApiFactory api) : IClassFixture<ExchangeApiFactory>
{
    // Each entry says why the file may do it.
    private static readonly Dictionary<string, string> AllowList = new(StringComparer.Ordinal)
    {
        ["src/Exchange.Api/Work/UnitOfWork.cs"] = "the unit of work itself",
        ["src/Exchange.Api/Storage/WriteGate.cs"] = "defines the gate the unit of work takes",
        ["src/Exchange.Api/Storage/ExchangeDbContext.cs"] = "the runtime guard overrides SaveChanges",
        ["src/Exchange.Api/Auditing/Storage/EfAuditStore.cs"] = "the audit store: its own database, appended to by the unit of work through AuditTrail",
        ["src/Exchange.Api/Auditing/AuditCheckpoints.cs"] = "signed checkpoints go into the audit store's own database (the main database's mirror uses a unit of work)",
    };

    [GeneratedRegex(@"\.(SaveChanges|ExecuteUpdate|ExecuteDelete|BeginTransaction)\w*\(|\bgate\.EnterAsync\(|\bIWriteGate\b.*\.EnterAsync\(|writeGate\.EnterAsync\(")]
    private static partial Regex Write();

    [Fact]
    public void OnlyTheUnitOfWorkWritesToTheDatabase()
    {
        var root = RepositoryRoot();
        var offenders = Directory.EnumerateFiles(Path.Combine(root, "src"), "*.cs", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(root, f).Replace('\\', '/'))
            .Where(f => !f.Contains("/obj/", StringComparison.Ordinal) && !f.Contains("/bin/", StringComparison.Ordinal) && !f.Contains("/Migrations/", StringComparison.Ordinal))
            .Where(f => !AllowList.ContainsKey(f))
            .SelectMany(f => File.ReadLines(Path.Combine(root, f)).Select((line, i) => (File: f, Line: i + 1, Text: line.Trim())))
            .Where(l => !l.Text.StartsWith("//", StringComparison.Ordinal) && Write().IsMatch(l.Text))
            .Select(l => $"{l.File}:{l.Line}: {l.Text}")
            .ToList();
        Assert.True(offenders.Count == 0, "Write through UnitOfWork (BeginAsync, CommitAsync, FlushAsync, UpdateAsync, DeleteAsync):\n" + string.Join('\n', offenders));
    }

    [Fact]
    public void TheAllowListNamesFilesThatExist()
    {
        var root = RepositoryRoot();
        Assert.All(AllowList.Keys, f => Assert.True(File.Exists(Path.Combine(root, f)), f));
    }

    [Fact]
    public async Task TheDatabaseRefusesASaveOutsideAUnitOfWork()
    {
        _ = api.CreateClient();
        using var scope = api.Services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<ExchangeDbContext>();
        var id = "school:" + Random.Shared.Next(900000, 999999).ToString(System.Globalization.CultureInfo.InvariantCulture);
        db.Organisations.Add(new Organisation { Id = id, Kind = OrganisationKind.School, Name = "Hidden writer", LaNumber = "202", CreatedAt = DateTimeOffset.UtcNow });

        await Assert.ThrowsAsync<InvalidOperationException>(() => db.SaveChangesAsync());
        Assert.Throws<InvalidOperationException>(() => db.SaveChanges());
        db.ChangeTracker.Clear();
        Assert.False(await db.Organisations.AnyAsync(o => o.Id == id));
    }

    private static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Exchange.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("Exchange.sln not found above the test binaries.");
    }
}
