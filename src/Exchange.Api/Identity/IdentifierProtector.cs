using Exchange.Api.Hosting;
using Exchange.Crypto;
using Microsoft.Extensions.Options;

namespace Exchange.Api.Identity;

/// <summary>
/// Turns an identifier into what is stored: a blind index for lookup and a sealed copy bound
/// to its row. Keys live in the data directory for now.
/// </summary>
public sealed class IdentifierProtector : IDisposable
{
    private readonly BlindIndex _blindIndex;
    private readonly LocalFieldCipher _cipher;

    public IdentifierProtector(IOptions<ExchangeOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var directory = options.Value.FullDataDirectory;
        _blindIndex = new BlindIndex(LocalKeyFile.LoadOrCreate(Path.Combine(directory, "blind-index.key"), 32));
        _cipher = new LocalFieldCipher(LocalKeyFile.LoadOrCreate(Path.Combine(directory, "identifier-seal.key"), 32));
    }

    public byte[] Index(PresentedIdentifier identifier)
    {
        ArgumentNullException.ThrowIfNull(identifier);
        return _blindIndex.Compute(identifier.Type, identifier.Value);
    }

    /// <summary>Seals the value to one row: <c>entity|value|owner|rowId</c>.</summary>
    public byte[] Seal(string value, string entity, string owner, Guid rowId) =>
        _cipher.Seal(value, Place(entity, owner, rowId));

    public string Open(byte[] sealedValue, string entity, string owner, Guid rowId) =>
        _cipher.Open(sealedValue, Place(entity, owner, rowId));

    private static string Place(string entity, string owner, Guid rowId) => $"{entity}|value|{owner}|{rowId:N}";

    public void Dispose() => _cipher.Dispose();
}
