using Exchange.Api.Work;
using Exchange.Api.Auditing;
using Exchange.Api.Auth;
using Exchange.Api.Errors;
using Exchange.Crypto.Keys;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Exchange.Api.Keys;

/// <summary>Key rotation for the exchange admin: see where data keys stand, move them, add a local KEK version.</summary>
public static partial class KeysApi
{
    public sealed record KeysView(string Provider, bool ProductionGrade, string CurrentKek, int Moved, int Remaining, IReadOnlyDictionary<string, int> KeysByKek)
    {
        public static KeysView Of(IKeyEncryptionKeyProvider keks, KeyRotationReport report)
        {
            ArgumentNullException.ThrowIfNull(keks);
            ArgumentNullException.ThrowIfNull(report);
            return new(keks is LocalKeyEncryptionKeyProvider ? "Local" : "AzureKeyVault", keks.IsProductionGrade,
                report.CurrentKekKeyId, report.Moved, report.Remaining, report.KeysByKek);
        }
    }

    public sealed record KekVersionView(string KekKeyId);

    public sealed record BlindIndexVersionView(string Version);

    public static IEndpointRouteBuilder MapKeysApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/admin/keys").WithTags("Keys").RequireAuthorization(AuthPolicies.Administer);
        group.MapGet("/", async (DataKeyService keys, IKeyEncryptionKeyProvider keks, CancellationToken ct) =>
            TypedResults.Ok(KeysView.Of(keks, await keys.ReportAsync(ct).ConfigureAwait(false))));
        // Key operations touch every child's data key or identifiers: each is audited like a child route.
        group.MapPost("/rotate", RotateAsync).Audited("keys.rotate", "keys", "kekVersions");
        group.MapPost("/kek-versions", CreateKekVersion).Audited("keys.kek-version.create", "keys", "kekKeyId");
        group.MapGet("/blind-index", async (BlindIndexReindexer reindexer, CancellationToken ct) =>
            TypedResults.Ok(await reindexer.ReportAsync(ct).ConfigureAwait(false)));
        group.MapPost("/blind-index/versions", CreateBlindIndexVersion).Audited("keys.blind-index-version.create", "keys", "version");
        group.MapPost("/blind-index/reindex", ReindexAsync).Audited("keys.blind-index.reindex", "identity", "remaining");
        return app;
    }

    /// <summary>Moves one batch of data keys to the current KEK; call again until remaining is 0.</summary>
    private static async Task<Results<Ok<KeysView>, ProblemHttpResult>> RotateAsync(
        DataKeyService keys, IKeyEncryptionKeyProvider keks, ILoggerFactory logs, UnitOfWork work, int? batchSize, CancellationToken ct)
    {
        if (batchSize is < 1 or > 10_000)
        {
            return Problems.Result(ProblemTypes.ValidationFailed, "batchSize must be between 1 and 10000.");
        }

        await work.BeginAsync(ct).ConfigureAwait(false);
        var report = await keys.RewrapAsync(batchSize ?? 500, ct).ConfigureAwait(false);
        await work.CommitAsync(Outcome.Ok(), ct).ConfigureAwait(false);
        var logger = logs.CreateLogger(typeof(KeysApi));
        LogRotated(logger, report.Moved, report.Remaining, report.CurrentKekKeyId);
        return TypedResults.Ok(KeysView.Of(keks, report));
    }

    private static async Task<Results<Created<KekVersionView>, ProblemHttpResult>> CreateKekVersion(
        IKeyEncryptionKeyProvider keks, ILoggerFactory logs, UnitOfWork work, CancellationToken ct)
    {
        if (keks is not LocalKeyEncryptionKeyProvider local)
        {
            return Problems.Result(ProblemTypes.KekManagedExternally);
        }

        // The new key is a file, not a database commit: the event goes in before it is written.
        await work.RecordBeforeEffectAsync(Outcome.Created(), ct).ConfigureAwait(false);
        var id = local.CreateNextVersion();
        var logger = logs.CreateLogger(typeof(KeysApi));
        LogNewKek(logger, id);
        return TypedResults.Created("/v1/admin/keys", new KekVersionView(id));
    }

    /// <summary>Re-indexes one batch of identifiers under the current blind-index secret; call again until remaining is 0.</summary>
    private static async Task<Results<Ok<BlindIndexReport>, ProblemHttpResult>> ReindexAsync(BlindIndexReindexer reindexer, int? batchSize, CancellationToken ct)
    {
        if (batchSize is < 1 or > 10_000)
        {
            return Problems.Result(ProblemTypes.ValidationFailed, "batchSize must be between 1 and 10000.");
        }

        return TypedResults.Ok(await reindexer.ReindexAsync(batchSize ?? 500, Outcome.Ok(), ct).ConfigureAwait(false));
    }

    private static async Task<Results<Created<BlindIndexVersionView>, ProblemHttpResult>> CreateBlindIndexVersion(
        BlindIndexKeys blindIndex, ILoggerFactory logs, UnitOfWork work, CancellationToken ct)
    {
        if (!blindIndex.IsLocal)
        {
            return Problems.Result(ProblemTypes.KekManagedExternally, "Blind-index secrets in Key Vault get new versions in the vault; list them in Exchange:Keys:BlindIndex:Versions.");
        }

        await work.RecordBeforeEffectAsync(Outcome.Created(), ct).ConfigureAwait(false);
        var version = blindIndex.CreateNextLocalVersion();
        var logger = logs.CreateLogger(typeof(KeysApi));
        LogNewBlindIndex(logger, version);
        return TypedResults.Created("/v1/admin/keys/blind-index", new BlindIndexVersionView(version));
    }

    [LoggerMessage(EventId = 9402, EventName = "BlindIndexVersionCreated", Level = LogLevel.Warning, Message = "New blind-index secret version {Version}; re-index to move identifiers to it")]
    private static partial void LogNewBlindIndex(ILogger logger, string version);

    [LoggerMessage(EventId = 9403, EventName = "KeyRotationBatch", Level = LogLevel.Information, Message = "Key rotation batch: {Moved} data keys moved to {Kek}; {Remaining} remain on older versions")]
    private static partial void LogRotated(ILogger logger, int moved, int remaining, string kek);

    [LoggerMessage(EventId = 9404, EventName = "LocalKekVersionCreated", Level = LogLevel.Warning, Message = "New local key-encryption key version {Kek}; new data keys are wrapped with it")]
    private static partial void LogNewKek(ILogger logger, string kek);
}
