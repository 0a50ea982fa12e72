using System.Data.Common;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Exchange.Api.Auditing;

/// <summary>
/// Appends the request's audit event just before the main database commits: a write whose trace cannot
/// be made durable is never committed (the exception aborts the commit and the transaction rolls back).
/// Outside an audited request it does nothing. The audit store is separate from the main database (its
/// own SQLite file), so this append never waits on the lock the committing request holds.
/// </summary>
internal sealed class AuditCommitInterceptor(IHttpContextAccessor accessor) : DbTransactionInterceptor
{
    public override async ValueTask<InterceptionResult> TransactionCommittingAsync(
        DbTransaction transaction, TransactionEventData eventData, InterceptionResult result, CancellationToken cancellationToken = default)
    {
        if (accessor.HttpContext?.RequestServices.GetService<AuditTrail>() is { } trail)
        {
            await trail.RecordBeforeCommitAsync(cancellationToken).ConfigureAwait(false);
        }

        return result;
    }

    public override InterceptionResult TransactionCommitting(DbTransaction transaction, TransactionEventData eventData, InterceptionResult result)
    {
        if (accessor.HttpContext?.RequestServices.GetService<AuditTrail>() is { } trail)
        {
            trail.RecordBeforeCommitAsync(CancellationToken.None).GetAwaiter().GetResult();
        }

        return result;
    }
}
