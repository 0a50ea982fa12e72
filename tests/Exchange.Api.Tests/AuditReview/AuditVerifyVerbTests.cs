using System.Text;
using Exchange.Api.Tests.Infrastructure;
using Exchange.Audit.Checkpoints;
using Exchange.Audit.Offline;
using Exchange.Audit.Storage;

namespace Exchange.Api.Tests.AuditReview;

/// <summary>
/// `Exchange.Api.dll audit verify`: the DPO's offline check, run as a process with no data
/// directory, database or issuer configured (so it cannot be leaning on a server).
/// </summary>
public sealed class AuditVerifyVerbTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("exchange-audit-verify").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    // No issuer is trusted in Production: if the verb built the service host, it would fail.
    private static async Task<(int ExitCode, string Output)> RunAsync(params string[] args)
    {
        var outcome = await ApiProcess.RunAsync(new Dictionary<string, string> { ["ASPNETCORE_ENVIRONMENT"] = "Production" }, args);
        return (outcome.ExitCode, outcome.All);
    }

    [Fact]
    public async Task VerbVerifiesAnExportAndNamesAnEditedEntry()
    {
        var store = new InMemoryMerkleNodeStore();
        using var log = new MerkleLog(store);
        await log.AppendAsync(Enumerable.Range(0, 30).Select(i => Encoding.UTF8.GetBytes($"{{\"i\":{i}}}")).ToList());
        using var signer = NoteSigner.Generate("exchange.example/audit");
        var entries = (await store.ReadEntriesAsync(0, 30)).Select(e => new AuditExportEntry(e.Index, e.Leaf, e.LeafHash)).ToList();
        var export = Path.Combine(_dir, "entries.jsonl");
        var checkpoint = Path.Combine(_dir, "checkpoint.txt");
        await File.WriteAllTextAsync(checkpoint, new CheckpointSigner(signer).Sign(30, await log.RootAsync(30)));
        await using (var writer = File.CreateText(export))
        {
            AuditExportFile.Write(entries, writer);
        }

        var (ok, okOutput) = await RunAsync("audit", "verify", "--export", export, "--checkpoint", checkpoint, "--key", signer.VerifierKey);
        Assert.True(ok == 0, okOutput);
        Assert.Contains("Verified: 30 entries", okOutput, StringComparison.Ordinal);

        entries[17] = entries[17] with { Leaf = Encoding.UTF8.GetBytes("{\"i\":-1}") };
        await using (var writer = File.CreateText(export))
        {
            AuditExportFile.Write(entries, writer);
        }

        var (bad, badOutput) = await RunAsync("audit", "verify", "--export", export, "--checkpoint", checkpoint, "--key", signer.VerifierKey);
        Assert.Equal(1, bad);
        Assert.Contains("17", badOutput, StringComparison.Ordinal);

        var (usage, usageOutput) = await RunAsync("audit", "verify", "--export", export);
        Assert.Equal(2, usage);
        Assert.Contains("Usage: audit verify", usageOutput, StringComparison.Ordinal);
    }

}
