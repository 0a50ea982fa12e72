using Exchange.Crypto.KeyVault;
using Exchange.Crypto.Keys;

namespace Exchange.Crypto.Tests.KeyVault;

/// <summary>
/// Settings the Key Vault provider and secret reader refuse at start-up, before any request: a vault
/// address that is not a plain HTTPS vault, a key or secret name Key Vault would not accept.
/// </summary>
public sealed class AzureKeyVaultSettingsTests : IDisposable
{
    private readonly KeyVaultStub _stub = new();

    public void Dispose() => _stub.Dispose();

    [Theory]
    [InlineData("http://vault.example/")]
    [InlineData("https://vault.example/keys/")]
    [InlineData("https://vault.example/?x=1")]
    [InlineData("https://vault.example/#part")]
    [InlineData("https://user@vault.example/")]
    public void AVaultAddressThatIsNotAPlainHttpsVaultIsRefused(string vault) =>
        Assert.Throws<ArgumentException>(() => Provider(new Uri(vault), KeyVaultStub.KeyName, null));

    [Fact]
    public void AMissingOrRelativeVaultAddressIsRefused()
    {
        Assert.Throws<ArgumentException>(() => Provider(null, KeyVaultStub.KeyName, null));
        Assert.Throws<ArgumentException>(() => Provider(new Uri("/vault", UriKind.Relative), KeyVaultStub.KeyName, null));
    }

    [Fact]
    public void TheVaultAddressIsKeptAsItsAuthority()
    {
        var provider = Provider(new Uri("https://my-vault.vault.azure.net/"), "exchange-kek", null);

        Assert.Equal(new Uri("https://my-vault.vault.azure.net/"), provider.VaultUri);
        Assert.Equal("exchange-kek", provider.KeyName);
    }

    [Theory]
    [InlineData("")]
    [InlineData("exchange_kek")]
    [InlineData("exchange kek")]
    [InlineData("kek/v1")]
    public void AKeyNameKeyVaultWouldNotAcceptIsRefused(string name) =>
        Assert.Throws<ArgumentException>(() => Provider(_stub.Url, name, null));

    [Fact]
    public void AKeyNameIsAtMost127Characters()
    {
        Assert.Equal(new string('k', 127), Provider(_stub.Url, new string('k', 127), null).KeyName);
        Assert.Throws<ArgumentException>(() => Provider(_stub.Url, new string('k', 128), null));
    }

    [Theory]
    [InlineData("")]
    [InlineData("0f3c-6b8e")]
    [InlineData("0f3c/6b8e")]
    public void AKeyVersionOtherThanLettersAndDigitsIsRefused(string version) =>
        Assert.Throws<ArgumentException>(() => Provider(_stub.Url, KeyVaultStub.KeyName, version));

    [Fact]
    public async Task AKeyVersionIsAtMost64Characters()
    {
        var longest = new string('a', 64);
        Assert.EndsWith("/" + longest, (await Provider(_stub.Url, KeyVaultStub.KeyName, longest).GetCurrentAsync()).KeyId, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => Provider(_stub.Url, KeyVaultStub.KeyName, longest + "a"));
    }

    [Fact]
    public void AConfiguredVersionNamesTheKeyInThisVault()
    {
        var provider = Provider(_stub.Url, KeyVaultStub.KeyName, KeyVaultStub.KeyVersion);

        Assert.Equal(_stub.KeyId, provider.Resolve(_stub.KeyId).KeyId);
    }

    [Fact]
    public void AKeyIdOnTheVaultHostButAnotherPortIsRefused()
    {
        var provider = Provider(_stub.Url, KeyVaultStub.KeyName, null);
        var otherPort = $"https://{KeyVaultStub.VaultHost}:{_stub.Url.Port + 1}/keys/{KeyVaultStub.KeyName}/{KeyVaultStub.KeyVersion}";

        Assert.Throws<KeyProviderException>(() => provider.Resolve(otherPort));
    }

    [Fact]
    public void AKeyIdNamingTheVaultHostInAnotherCaseIsAccepted()
    {
        var provider = Provider(_stub.Url, KeyVaultStub.KeyName, null);
        var upper = _stub.KeyId.Replace(KeyVaultStub.VaultHost, KeyVaultStub.VaultHost.ToUpperInvariant(), StringComparison.Ordinal);

        Assert.Equal(upper, provider.Resolve(upper).KeyId);
    }

    [Theory]
    [InlineData("http://vault.example/")]
    [InlineData("ftp://vault.example/")]
    public void TheSecretReaderRefusesAVaultThatIsNotHttps(string vault) =>
        Assert.Throws<ArgumentException>(() => new AzureKeyVaultSecretReader(new Uri(vault), _stub.CreateCredential()));

    [Fact]
    public void TheSecretReaderRefusesARelativeVault() =>
        Assert.Throws<ArgumentException>(() => new AzureKeyVaultSecretReader(new Uri("/vault", UriKind.Relative), _stub.CreateCredential()));

    [Theory]
    [InlineData("", null)]
    [InlineData("blind_index", null)]
    [InlineData("blind-index", "")]
    [InlineData("blind-index", "v-1")]
    public async Task TheSecretReaderRefusesANameOrVersionKeyVaultWouldNotAcceptWithoutAnyRequest(string name, string? version)
    {
        var reader = new AzureKeyVaultSecretReader(_stub.Url, _stub.CreateCredential(), _stub.CreateClientOptions());

        await Assert.ThrowsAsync<ArgumentException>(() => reader.GetSecretBytesAsync(name, version));
        Assert.Empty(_stub.Server.LogEntries);
    }

    private AzureKeyVaultKeyProvider Provider(Uri? vault, string name, string? version) =>
        new(new AzureKeyVaultOptions { VaultUri = vault, KeyName = name, KeyVersion = version }, _stub.CreateCredential(), _stub.CreateClientOptions());
}
