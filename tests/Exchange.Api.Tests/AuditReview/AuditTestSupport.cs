using System.Net;
using System.Text.Json;
using Exchange.Api.Tests.Infrastructure;
using Npgsql;

namespace Exchange.Api.Tests.AuditReview;

/// <summary>Reading the audit log through the DPO API, and reaching below it as a rogue administrator could.</summary>
public static class AuditTestSupport
{
    /// <summary>The events the operator's DPO finds for a query, newest first.</summary>
    public static async Task<List<JsonElement>> EventsAsync(this ExchangeApiFactory api, string query, string dpoOrg = "operator:exchange") =>
        (await api.IndexedEventsAsync(query, dpoOrg)).Select(e => e.Event).ToList();

    /// <summary>As <see cref="EventsAsync"/>, with each event's index in the log.</summary>
    public static async Task<List<(long Index, JsonElement Event)>> IndexedEventsAsync(this ExchangeApiFactory api, string query, string dpoOrg = "operator:exchange")
    {
        var response = await api.DpoOf(dpoOrg).GetAsync("/v1/audit/events?limit=200&" + query);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        return JsonDocument.Parse(body).RootElement.GetProperty("items").EnumerateArray()
            .Select(i => (i.GetProperty("index").GetInt64(), i.GetProperty("event").Clone())).ToList();
    }

    /// <summary>Runs SQL on the audit store directly (the audit.db file, or the PostgreSQL database).</summary>
    public static async Task ExecuteAuditSqlAsync(this ExchangeApiFactory api, string sqliteSql, string postgresSql)
    {
        if (api.PostgresConnectionString is { } connectionString)
        {
            await using var connection = new NpgsqlConnection(connectionString);
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand(postgresSql, connection);
            await command.ExecuteNonQueryAsync();
        }
        else
        {
            api.SqliteExecute(sqliteSql, api.AuditSqliteFile);
        }
    }

    /// <summary>Makes every append to the audit log fail, as a full disk or a broken database would.</summary>
    public static Task BreakAuditStoreAsync(this ExchangeApiFactory api) => api.ExecuteAuditSqlAsync(
        "CREATE TRIGGER test_broken BEFORE INSERT ON audit_entries BEGIN SELECT RAISE(ABORT, 'disk I/O error (test)'); END;",
        """
        CREATE FUNCTION test_broken() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'disk I/O error (test)'; END $$;
        CREATE TRIGGER test_broken BEFORE INSERT ON audit_entries FOR EACH ROW EXECUTE FUNCTION test_broken();
        """);

    public static Task RepairAuditStoreAsync(this ExchangeApiFactory api) => api.ExecuteAuditSqlAsync(
        "DROP TRIGGER test_broken;",
        "DROP TRIGGER test_broken ON audit_entries; DROP FUNCTION test_broken();");

    /// <summary>Bypasses the append-only triggers and rewrites one stored leaf (not its stored hash).</summary>
    public static Task TamperWithLeafAsync(this ExchangeApiFactory api, long index, string from, string to) => api.ExecuteAuditSqlAsync(
        $"""
        DROP TRIGGER audit_entries_no_update;
        UPDATE audit_entries SET "Leaf" = CAST(REPLACE(CAST("Leaf" AS TEXT), '{from}', '{to}') AS BLOB) WHERE "Index" = {index};
        CREATE TRIGGER audit_entries_no_update BEFORE UPDATE ON audit_entries BEGIN SELECT RAISE(ABORT, 'audit_entries is append-only'); END;
        """,
        $"""
        ALTER TABLE audit_entries DISABLE TRIGGER audit_entries_append_only;
        UPDATE audit_entries SET "Leaf" = convert_to(replace(convert_from("Leaf", 'UTF8'), '{from}', '{to}'), 'UTF8') WHERE "Index" = {index};
        ALTER TABLE audit_entries ENABLE TRIGGER audit_entries_append_only;
        """);
}
