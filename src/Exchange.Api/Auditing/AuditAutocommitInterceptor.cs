using System.Data.Common;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Exchange.Api.Auditing;

/// <summary>
/// The other half of <see cref="AuditCommitInterceptor"/>: a write that runs outside any transaction commits
/// as it executes (a bulk <c>ExecuteUpdate</c>, or a <c>SaveChanges</c> of one statement, which EF runs
/// without a transaction), so in an audited request the event is appended before such a statement runs.
/// </summary>
internal sealed class AuditAutocommitInterceptor(IHttpContextAccessor accessor) : DbCommandInterceptor
{
    public override async ValueTask<InterceptionResult<int>> NonQueryExecutingAsync(
        DbCommand command, CommandEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default)
    {
        await RecordIfAutocommitWriteAsync(command, cancellationToken).ConfigureAwait(false);
        return result;
    }

    public override async ValueTask<InterceptionResult<DbDataReader>> ReaderExecutingAsync(
        DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result, CancellationToken cancellationToken = default)
    {
        await RecordIfAutocommitWriteAsync(command, cancellationToken).ConfigureAwait(false);
        return result;
    }

    public override async ValueTask<InterceptionResult<object>> ScalarExecutingAsync(
        DbCommand command, CommandEventData eventData, InterceptionResult<object> result, CancellationToken cancellationToken = default)
    {
        await RecordIfAutocommitWriteAsync(command, cancellationToken).ConfigureAwait(false);
        return result;
    }

    private Task RecordIfAutocommitWriteAsync(DbCommand command, CancellationToken cancellationToken) =>
        command.Transaction is null && IsWrite(command.CommandText)
            && accessor.HttpContext?.RequestServices.GetService<AuditTrail>() is { IsActive: true } trail
            ? trail.RecordBeforeCommitAsync(cancellationToken)
            : Task.CompletedTask;

    internal static bool IsWrite(string sql)
    {
        var text = sql.AsSpan().TrimStart();
        return text.StartsWith("INSERT", StringComparison.OrdinalIgnoreCase)
            || text.StartsWith("UPDATE", StringComparison.OrdinalIgnoreCase)
            || text.StartsWith("DELETE", StringComparison.OrdinalIgnoreCase)
            || text.StartsWith("MERGE", StringComparison.OrdinalIgnoreCase);
    }
}
