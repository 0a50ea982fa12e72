using System.Text;
using Exchange.Api.Tests.Infrastructure;
using Exchange.Audit.Merkle;
using Exchange.Audit.Storage;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Exchange.Api.Tests.AuditReview;

/// <summary>The audit log's Merkle store in the service's database: RFC 6962 results, and append-only by trigger.</summary>
public abstract class AuditStoreTestsBase<TFactory>(TFactory api) where TFactory : ExchangeApiFactory
{
    protected TFactory Api => api;

    [SkippableFact]
    public async Task LogInTheDatabaseGivesTheSameRootsAndProofsAsTheReferenceTree()
    {
        _ = api.CreateClient();
        var log = api.Services.GetRequiredService<MerkleLog>();
        var start = await log.GetSizeAsync();
        var all = new List<byte[]>();
        for (var i = 0; i < start; i++)
        {
            all.Add(MerkleHash.LeafHash((await api.Services.GetRequiredService<IMerkleNodeStore>().ReadEntriesAsync(i, i + 1))[0].Leaf));
        }

        var random = new Random(20261123);
        foreach (var batch in new[] { 1, 2, 5, 13, 1, 64, 33, 100, 7 })
        {
            var leaves = Enumerable.Range(0, batch).Select(_ => Encoding.UTF8.GetBytes($"{{\"n\":{random.Next()}}}")).ToList();
            await log.AppendAsync(leaves);
            all.AddRange(leaves.Select(l => MerkleHash.LeafHash(l)));

            var size = all.Count;
            var root = await log.RootAsync(size);
            Assert.Equal(MerkleTree.RootHash(all), root);
            var index = random.Next(size);
            var proof = await log.InclusionProofAsync(index, size);
            Assert.True(MerkleProofVerifier.VerifyInclusion(index, size, all[index], proof, root).IsValid);
            var old = random.Next(1, size + 1);
            var consistency = await log.ConsistencyProofAsync(old, size);
            Assert.True(MerkleProofVerifier.VerifyConsistency(old, size, consistency, MerkleTree.RootHash(all.Take(old).ToList()), root).IsValid);
        }
    }

    [SkippableFact]
    public async Task TheDatabaseRefusesToChangeOrRemoveLogRows()
    {
        _ = api.CreateClient();
        await api.Services.GetRequiredService<MerkleLog>().AppendAsync([Encoding.UTF8.GetBytes("{\"n\":1}"), Encoding.UTF8.GetBytes("{\"n\":2}")]);
        foreach (var sql in new[]
                 {
                     "UPDATE audit_entries SET \"Leaf\" = \"LeafHash\"",
                     "DELETE FROM audit_entries",
                     "UPDATE audit_nodes SET \"Hash\" = \"Hash\"",
                     "DELETE FROM audit_nodes",
                     "DELETE FROM audit_checkpoints",
                 })
        {
            var error = await Assert.ThrowsAnyAsync<Exception>(() => ExecuteAsync(sql));
            Assert.Contains("append-only", error.Message, StringComparison.Ordinal);
        }
    }

    protected abstract Task ExecuteAsync(string sql);
}

public sealed class SqliteAuditStoreTests(ExchangeApiFactory api) : AuditStoreTestsBase<ExchangeApiFactory>(api), IClassFixture<ExchangeApiFactory>
{
    protected override Task ExecuteAsync(string sql)
    {
        Api.SqliteExecute(sql, Api.AuditSqliteFile);
        return Task.CompletedTask;
    }
}

public sealed class PostgresAuditStoreTests : AuditStoreTestsBase<PostgresApiFactory>, IClassFixture<PostgresApiFactory>
{
    public PostgresAuditStoreTests(PostgresApiFactory api) : base(api) => Postgres.SkipUnlessAvailable();

    protected override async Task ExecuteAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(Api.PostgresConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    [SkippableFact]
    public async Task TruncateIsRefusedToo()
    {
        _ = Api.CreateClient();
        var error = await Assert.ThrowsAnyAsync<Exception>(() => ExecuteAsync("TRUNCATE audit_entries"));
        Assert.Contains("append-only", error.Message, StringComparison.Ordinal);
    }
}
