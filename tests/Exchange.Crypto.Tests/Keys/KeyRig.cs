using System.Security.Cryptography;
using Exchange.Crypto.Keys;
using Exchange.Crypto.Sealing;

namespace Exchange.Crypto.Tests.Keys;

/// <summary>
/// The real key stack over a temporary data directory: a local KEK provider (behind a counting
/// decorator), an in-memory store of wrapped keys, a cache on a hand-moved clock, the service
/// and a field sealer. <see cref="NewService"/> builds another service with its own, cold cache,
/// as a second process or a restarted one would have.
/// </summary>
public sealed class KeyRig : IDisposable
{
    public static readonly TimeSpan TimeToLive = TimeSpan.FromMinutes(5);

    private readonly List<IDisposable> _owned = [];

    public KeyRig(int maxEntries = 10_000)
    {
        Directory = Path.Combine(Path.GetTempPath(), "exchange-keys-" + Guid.NewGuid().ToString("N"));
        Local = new LocalKeyEncryptionKeyProvider(Directory);
        Keks = new CountingKekProvider(Local);
        (Service, Cache) = NewService(maxEntries);
        Sealer = new FieldSealer(Service);
    }

    public string Directory { get; }

    public LocalKeyEncryptionKeyProvider Local { get; }

    public CountingKekProvider Keks { get; }

    public InMemoryDataKeyStore Store { get; } = new();

    public ManualClock Clock { get; } = new();

    public DataKeyCache Cache { get; }

    public DataKeyService Service { get; }

    public FieldSealer Sealer { get; }

    public static FieldPlace PlaceOf(string ownerId, string recordId = "row1") =>
        new("child_identifiers", "value", ownerId, recordId);

    /// <summary>Another service over the same store and KEKs with a fresh cache on the same clock.</summary>
    public (DataKeyService Service, DataKeyCache Cache) NewService(int maxEntries = 10_000, IDataKeyStore? store = null, IKeyEncryptionKeyProvider? keks = null)
    {
        var cache = new DataKeyCache(new DataKeyCacheOptions { TimeToLive = TimeToLive, MaxEntries = maxEntries }, Clock);
        _owned.Add(cache);
        return (new DataKeyService(store ?? Store, keks ?? Keks, cache), cache);
    }

    /// <summary>Every wrapped data key the store holds.</summary>
    public async Task<IReadOnlyList<WrappedDataKey>> AllStoredKeysAsync() =>
        await Store.ListNotWrappedByAsync("", int.MaxValue, CancellationToken.None);

    /// <summary>The owner's raw data key, obtained the way an admin holding the KEK could: unwrap the stored row.</summary>
    public async Task<byte[]> RawKeyOfAsync(string ownerId)
    {
        var wrapped = await Store.FindAsync(ownerId, CancellationToken.None)
            ?? throw new InvalidOperationException($"No data key stored for {ownerId}.");
        return await UnwrapAsync(wrapped);
    }

    public async Task<byte[]> UnwrapAsync(WrappedDataKey wrapped)
    {
        var kek = await Local.ResolveAsync(wrapped.KekKeyId);
        return await kek.UnwrapKeyAsync(wrapped.Algorithm, wrapped.WrappedKey);
    }

    public static DataKey NewDataKey(string ownerId = "ch_a", int version = 1) =>
        new(ownerId, RandomNumberGenerator.GetBytes(DataKey.KeyIdSize), version, RandomNumberGenerator.GetBytes(32));

    public void Dispose()
    {
        _owned.ForEach(d => d.Dispose());
        if (System.IO.Directory.Exists(Directory))
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
    }
}
