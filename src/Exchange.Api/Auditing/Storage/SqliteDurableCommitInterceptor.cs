using System.Data.Common;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Exchange.Api.Auditing.Storage;

/// <summary>
/// An audit event is "durable" only once it is on disk: in WAL mode SQLite's NORMAL setting may lose the
/// last commits on power loss, so every connection to the audit file asks for FULL (an fsync per commit,
/// which group commit shares among all the requests in a batch).
/// </summary>
internal sealed class SqliteDurableCommitInterceptor : DbConnectionInterceptor
{
    public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData) => SetFull(connection);

    public override Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        SetFull(connection);
        return Task.CompletedTask;
    }

    private static void SetFull(DbConnection connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA synchronous=FULL;";
        command.ExecuteNonQuery();
    }
}
