using System.Security.Cryptography;
using Exchange.Crypto.Keys;

namespace Exchange.Crypto.Tests.Keys;

public sealed class LocalKeyEncryptionKeyProviderTests : IDisposable
{
    private readonly string _dataDirectory = Path.Combine(Path.GetTempPath(), "exchange-kek-" + Guid.NewGuid().ToString("N"));
    private readonly LocalKeyEncryptionKeyProvider _provider;

    public LocalKeyEncryptionKeyProviderTests() => _provider = new LocalKeyEncryptionKeyProvider(_dataDirectory);

    public void Dispose()
    {
        if (Directory.Exists(_dataDirectory))
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
    }

    [Fact]
    public async Task FirstUseCreatesKekVersionOneInTheDataDirectory()
    {
        Assert.True(File.Exists(Path.Combine(_dataDirectory, "keys", "kek-v1.key")));
        Assert.Equal([1], _provider.Versions());
        Assert.Equal("local:exchange-kek/v1", (await _provider.GetCurrentAsync()).KeyId);
    }

    [Fact]
    public void LocalKekIsNotProductionGradeAndWrapsWithA256Gcmkw()
    {
        Assert.False(_provider.IsProductionGrade);
        Assert.Equal("A256GCMKW", _provider.WrapAlgorithm);
    }

    [Fact]
    public async Task WrappedKeyUnwrapsToTheSameBytes()
    {
        var dataKey = RandomNumberGenerator.GetBytes(32);
        var kek = await _provider.GetCurrentAsync();

        var wrapped = await kek.WrapKeyAsync(LocalKeyEncryptionKeyProvider.Algorithm, dataKey);

        Assert.Equal(12 + 32 + 16, wrapped.Length);
        Assert.Equal(-1, wrapped.AsSpan().IndexOf(dataKey));
        Assert.Equal(dataKey, await kek.UnwrapKeyAsync(LocalKeyEncryptionKeyProvider.Algorithm, wrapped));
        Assert.Equal(dataKey, kek.UnwrapKey(LocalKeyEncryptionKeyProvider.Algorithm, kek.WrapKey(LocalKeyEncryptionKeyProvider.Algorithm, dataKey)));
        Assert.Equal(dataKey, await _provider.Resolve(kek.KeyId).UnwrapKeyAsync(LocalKeyEncryptionKeyProvider.Algorithm, wrapped));
    }

    [Fact]
    public async Task WrappingTheSameKeyTwiceGivesDifferentBytes()
    {
        var dataKey = RandomNumberGenerator.GetBytes(32);
        var kek = await _provider.GetCurrentAsync();

        Assert.NotEqual(
            await kek.WrapKeyAsync(LocalKeyEncryptionKeyProvider.Algorithm, dataKey),
            await kek.WrapKeyAsync(LocalKeyEncryptionKeyProvider.Algorithm, dataKey));
    }

    [Fact]
    public async Task UnwrapWithAnotherVersionsKekFailsWithKeyProviderException()
    {
        var v1 = await _provider.GetCurrentAsync();
        var wrapped = await v1.WrapKeyAsync(LocalKeyEncryptionKeyProvider.Algorithm, RandomNumberGenerator.GetBytes(32));
        var v2 = _provider.Resolve(_provider.CreateNextVersion());

        var ex = await Assert.ThrowsAsync<WrappedKeyIntegrityException>(() => v2.UnwrapKeyAsync(LocalKeyEncryptionKeyProvider.Algorithm, wrapped));
        Assert.IsNotType<KeyProviderUnavailableException>(ex);
    }

    [Fact]
    public async Task UnwrapOfATamperedOrTruncatedKeyFailsWithKeyProviderException()
    {
        var kek = await _provider.GetCurrentAsync();
        var wrapped = await kek.WrapKeyAsync(LocalKeyEncryptionKeyProvider.Algorithm, RandomNumberGenerator.GetBytes(32));
        var tampered = (byte[])wrapped.Clone();
        tampered[20] ^= 0x01;

        await Assert.ThrowsAsync<WrappedKeyIntegrityException>(() => kek.UnwrapKeyAsync(LocalKeyEncryptionKeyProvider.Algorithm, tampered));
        await Assert.ThrowsAsync<WrappedKeyIntegrityException>(() => kek.UnwrapKeyAsync(LocalKeyEncryptionKeyProvider.Algorithm, wrapped[..28]));
        await Assert.ThrowsAsync<WrappedKeyIntegrityException>(() => kek.UnwrapKeyAsync(LocalKeyEncryptionKeyProvider.Algorithm, wrapped[..40]));
    }

    [Theory]
    [InlineData("local:exchange-kek/v2")]
    [InlineData("local:exchange-kek/v0")]
    [InlineData("local:exchange-kek/v-1")]
    [InlineData("local:exchange-kek/vx")]
    [InlineData("local:exchange-kek/v99999999999")]
    [InlineData("local:exchange-kek/")]
    [InlineData("local:other-kek/v1")]
    [InlineData("https://vault.example/keys/exchange-kek/1")]
    [InlineData("")]
    public async Task ResolvingAKekThisProviderNeverIssuedFailsWithKeyProviderException(string keyId)
    {
        Assert.Throws<KeyProviderException>(() => _provider.Resolve(keyId));
        await Assert.ThrowsAsync<KeyProviderException>(() => _provider.ResolveAsync(keyId));
    }

    [Fact]
    public async Task CreateNextVersionBecomesCurrentWhileOlderVersionsStillResolveAndUnwrap()
    {
        var v1 = await _provider.GetCurrentAsync();
        var dataKey = RandomNumberGenerator.GetBytes(32);
        var wrappedUnderV1 = await v1.WrapKeyAsync(LocalKeyEncryptionKeyProvider.Algorithm, dataKey);

        var v2Id = _provider.CreateNextVersion();

        Assert.Equal("local:exchange-kek/v2", v2Id);
        Assert.Equal(v2Id, (await _provider.GetCurrentAsync()).KeyId);
        Assert.Equal([1, 2], _provider.Versions());
        Assert.True(File.Exists(Path.Combine(_dataDirectory, "keys", "kek-v2.key")));
        var v1Again = await _provider.ResolveAsync("local:exchange-kek/v1");
        Assert.Equal("local:exchange-kek/v1", v1Again.KeyId);
        Assert.Equal(dataKey, await v1Again.UnwrapKeyAsync(LocalKeyEncryptionKeyProvider.Algorithm, wrappedUnderV1));
    }

    [Fact]
    public async Task AProviderOverTheSameDirectoryFindsTheSameKeks()
    {
        var dataKey = RandomNumberGenerator.GetBytes(32);
        var wrapped = await (await _provider.GetCurrentAsync()).WrapKeyAsync(LocalKeyEncryptionKeyProvider.Algorithm, dataKey);
        _provider.CreateNextVersion();

        var restarted = new LocalKeyEncryptionKeyProvider(_dataDirectory);

        Assert.Equal([1, 2], restarted.Versions());
        Assert.Equal("local:exchange-kek/v2", (await restarted.GetCurrentAsync()).KeyId);
        Assert.Equal(dataKey, await restarted.Resolve("local:exchange-kek/v1").UnwrapKeyAsync(LocalKeyEncryptionKeyProvider.Algorithm, wrapped));
    }

    [Fact]
    public async Task AnotherDataDirectoryHasOtherKeks()
    {
        var wrapped = await (await _provider.GetCurrentAsync()).WrapKeyAsync(LocalKeyEncryptionKeyProvider.Algorithm, RandomNumberGenerator.GetBytes(32));
        var otherDirectory = _dataDirectory + "-other";
        try
        {
            var other = new LocalKeyEncryptionKeyProvider(otherDirectory);

            await Assert.ThrowsAsync<WrappedKeyIntegrityException>(async () =>
                await (await other.GetCurrentAsync()).UnwrapKeyAsync(LocalKeyEncryptionKeyProvider.Algorithm, wrapped));
        }
        finally
        {
            Directory.Delete(otherDirectory, recursive: true);
        }
    }

    [Theory]
    [InlineData("RSA-OAEP-256")]
    [InlineData("A256KW")]
    [InlineData("a256gcmkw")]
    [InlineData("")]
    public async Task WrappingOrUnwrappingWithAnotherAlgorithmIsRejected(string algorithm)
    {
        var kek = await _provider.GetCurrentAsync();
        var wrapped = await kek.WrapKeyAsync(LocalKeyEncryptionKeyProvider.Algorithm, RandomNumberGenerator.GetBytes(32));

        Assert.Throws<ArgumentException>(() => kek.WrapKey(algorithm, RandomNumberGenerator.GetBytes(32)));
        await Assert.ThrowsAsync<ArgumentException>(() => kek.WrapKeyAsync(algorithm, RandomNumberGenerator.GetBytes(32)));
        await Assert.ThrowsAsync<ArgumentException>(() => kek.UnwrapKeyAsync(algorithm, wrapped));
    }

    [Fact]
    public async Task KekFilesAreReadableByTheOwnerOnly()
    {
        _provider.CreateNextVersion();
        await _provider.GetCurrentAsync();
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        foreach (var file in Directory.GetFiles(Path.Combine(_dataDirectory, "keys"), "kek-v*.key"))
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        }
    }
}
