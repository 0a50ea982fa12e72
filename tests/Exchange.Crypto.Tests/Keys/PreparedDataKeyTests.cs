using Exchange.Crypto.Keys;
using Exchange.Crypto.Sealing;

namespace Exchange.Crypto.Tests.Keys;

/// <summary>Keys wrapped ahead of a unit of work (so the vault call happens outside its lock) and stored inside it.</summary>
public sealed class PreparedDataKeyTests : IDisposable
{
    private readonly KeyRig _rig = new();

    public void Dispose() => _rig.Dispose();

    [Fact]
    public async Task APreparedKeyIsStoredOnlyWhenAdoptedAndThenSealsAndOpens()
    {
        using var prepared = await _rig.Service.PrepareAsync("ch_new");
        Assert.Null(await _rig.Store.FindAsync("ch_new", CancellationToken.None)); // wrapped, not stored

        var wrapsBefore = _rig.Keks.Wraps;
        var key = await _rig.Service.AdoptAsync(prepared);
        Assert.Equal(wrapsBefore, _rig.Keks.Wraps); // adopting makes no KEK call
        Assert.True(prepared.IsSpent);
        Assert.Same(key, _rig.Cache.Get("ch_new"));

        var sealedValue = await _rig.Sealer.SealAsync(KeyRig.PlaceOf("ch_new"), "hello");
        _rig.Cache.Remove("ch_new"); // force the stored, wrapped copy to be used
        var opened = await _rig.Sealer.OpenAsync(KeyRig.PlaceOf("ch_new"), sealedValue);
        Assert.Equal("hello", Assert.IsType<OpenedField.Opened>(opened).Value);
    }

    [Fact]
    public async Task APreparedKeyIsNeverAdoptedForAnErasedOwner()
    {
        await _rig.Service.GetOrCreateAsync("ch_gone");
        await _rig.Service.EraseAsync("ch_gone");
        using var prepared = await _rig.Service.PrepareAsync("ch_gone");

        await Assert.ThrowsAsync<OwnerErasedException>(() => _rig.Service.AdoptAsync(prepared));
        Assert.True((await _rig.Store.FindAsync("ch_gone", CancellationToken.None))!.IsErased);
    }

    [Fact]
    public async Task AnUnadoptedPreparedKeyIsSpentWhenDisposedAndCannotBeAdoptedTwice()
    {
        var prepared = await _rig.Service.PrepareAsync("ch_spare");
        prepared.Dispose();
        Assert.True(prepared.IsSpent);
        await Assert.ThrowsAsync<InvalidOperationException>(() => _rig.Service.AdoptAsync(prepared));
    }
}
