using System.Security.Cryptography;
using System.Text;
using Exchange.Crypto.Keys;
using Exchange.Crypto.Sealing;

namespace Exchange.Crypto.Tests.Sealing;

/// <summary>
/// The place a value is sealed to (entity, field, owner, record), which is its associated data: its
/// encoding must be unambiguous, and a place of any length must seal and open.
/// </summary>
public sealed class FieldPlaceTests : IDisposable
{
    private readonly DataKey _key = new("ch_a", RandomNumberGenerator.GetBytes(DataKey.KeyIdSize), 1, RandomNumberGenerator.GetBytes(32));

    public void Dispose() => _key.Dispose();

    [Theory]
    [InlineData("child|identifiers", "value", "ch_a", "row1")]
    [InlineData("child_identifiers", "va|lue", "ch_a", "row1")]
    [InlineData("child_identifiers", "value", "ch|a", "row1")]
    [InlineData("child_identifiers", "value", "ch_a", "row|1")]
    public void ABarInAnyPartIsRefusedBecauseTwoPlacesWouldShareOneEncoding(string entity, string field, string owner, string record)
    {
        var place = new FieldPlace(entity, field, owner, record);

        Assert.Throws<ArgumentException>(() => place.ToAssociatedData());
        Assert.Throws<ArgumentException>(() => SealedField.Seal(_key, place, "x"));
    }

    [Fact]
    public void AssociatedDataIsTheFourPartsJoinedWithBarsInUtf8()
    {
        var place = new FieldPlace("children", "given_name", "ch_ä", "row1");

        Assert.Equal(Encoding.UTF8.GetBytes("children|given_name|ch_ä|row1"), place.ToAssociatedData());
        Assert.Equal(Encoding.UTF8.GetByteCount("children|given_name|ch_ä|row1"), place.ByteCount);
    }

    [Theory]
    [InlineData(498)] // header (13) + place: 511 bytes of associated data, built on the stack
    [InlineData(499)] // 512: the largest built on the stack
    [InlineData(500)] // 513: the smallest built in a rented buffer
    [InlineData(5_000)]
    public void AValueSealedToAPlaceOfAnyLengthOpensThereAndNowhereElse(int placeBytes)
    {
        // Three bars and "e", "f", "ch_a" take 9 bytes; the record id makes up the rest.
        var place = new FieldPlace("e", "f", "ch_a", new string('r', placeBytes - 9));
        Assert.Equal(placeBytes, place.ByteCount);

        var sealedValue = SealedField.Seal(_key, place, "9434765919");

        Assert.Equal("9434765919"u8.ToArray(), SealedField.Open(_key, place, sealedValue));
        var elsewhere = place with { RecordId = new string('s', placeBytes - 9) };
        Assert.Throws<SealedValueException>(() => SealedField.Open(_key, elsewhere, sealedValue));
    }

    [Fact]
    public void ManySealsAndOpensToALongPlaceEachRoundTrip()
    {
        // The rented buffer of one call must not leak into the next: seal and open many times in turn.
        var place = new FieldPlace("e", "f", "ch_a", new string('r', 2_000));
        for (var i = 0; i < 20; i++)
        {
            var sealedValue = SealedField.Seal(_key, place, "v" + i);
            Assert.Equal(Encoding.UTF8.GetBytes("v" + i), SealedField.Open(_key, place, sealedValue));
        }
    }

    [Fact]
    public void WriteReturnsTheNumberOfBytesItWrote()
    {
        var place = new FieldPlace("children", "given_name", "ch_a", "row1");
        var destination = new byte[place.ByteCount + 10];

        Assert.Equal(place.ByteCount, place.Write(destination));
    }

    [Fact]
    public void ATruncatedOrTamperedValueSaysWhichCheckItFailed()
    {
        var place = new FieldPlace("e", "f", "ch_a", "r");
        var sealedValue = SealedField.Seal(_key, place, "9434765919");
        sealedValue[^1] ^= 1;

        Assert.Contains("too short", Assert.Throws<SealedValueException>(() => SealedField.Open(_key, place, sealedValue.AsSpan(0, SealedField.Overhead - 1))).Message, StringComparison.Ordinal);
        Assert.Contains("failed its integrity check", Assert.Throws<SealedValueException>(() => SealedField.Open(_key, place, sealedValue)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AFailureNamedWithItsPlaceKeepsTheCausesMessage()
    {
        var place = new FieldPlace("e", "f", "ch_a", "r");
        var cause = new SealedValueException("The sealed value is too short.");

        var named = new SealedValueException(cause, place);

        Assert.Equal("The sealed value is too short.", named.Message);
        Assert.Same(cause, named.InnerException);
        Assert.Equal(place, named.Place);
        Assert.Equal("The sealed value failed to open.", new SealedValueException().Message);
        Assert.Equal("The sealed value failed to open.", new SealedValueException(null!, place).Message);
    }
}
