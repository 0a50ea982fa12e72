using Npgsql;

namespace Exchange.Api.Tests.Infrastructure;

/// <summary>
/// The PostgreSQL server the storage tests use: <c>EXCHANGE_TEST_POSTGRES</c> holds a connection
/// string to it (CI starts a throwaway cluster and sets it). Each test database is created fresh
/// and dropped afterwards. Without the variable the PostgreSQL tests skip and say so; with
/// <c>EXCHANGE_REQUIRE_POSTGRES=1</c> (CI) they fail instead.
/// </summary>
public static class Postgres
{
    public static string? ServerConnectionString => Environment.GetEnvironmentVariable("EXCHANGE_TEST_POSTGRES");

    public const string SkipReason = "PostgreSQL not configured: set EXCHANGE_TEST_POSTGRES to a connection string (CI does; see .ci/run).";

    public static void SkipUnlessAvailable()
    {
        if (string.IsNullOrWhiteSpace(ServerConnectionString))
        {
            if (Environment.GetEnvironmentVariable("EXCHANGE_REQUIRE_POSTGRES") == "1")
            {
                Assert.Fail("EXCHANGE_REQUIRE_POSTGRES=1 but EXCHANGE_TEST_POSTGRES is not set.");
            }

            Skip.If(true, SkipReason);
        }
    }

    public static async Task<string> CreateDatabaseAsync()
    {
        var name = "exchange_test_" + Guid.NewGuid().ToString("N")[..12];
        await using var connection = new NpgsqlConnection(ServerConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
        await command.ExecuteNonQueryAsync();
        return new NpgsqlConnectionStringBuilder(ServerConnectionString) { Database = name, Pooling = false }.ConnectionString;
    }

    public static async Task DropDatabaseAsync(string connectionString)
    {
        var name = new NpgsqlConnectionStringBuilder(connectionString).Database;
        await using var connection = new NpgsqlConnection(ServerConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"DROP DATABASE IF EXISTS {name} WITH (FORCE)", connection);
        await command.ExecuteNonQueryAsync();
    }
}
