using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Exchange.Crypto.Keys;
using Exchange.Crypto.Sealing;
using Exchange.Crypto.Tests.Keys;

namespace Exchange.Crypto.Tests.Sealing;

/// <summary>The sealed-field format (version 2) and its integrity rules, on keys built by hand.</summary>
public sealed class SealedFieldTests : IDisposable
{
    private const string Owner = "ch_a";
    private static readonly FieldPlace Place = new("child_identifiers", "value", Owner, "row1");

    private readonly byte[] _material = RandomNumberGenerator.GetBytes(32);
    private readonly byte[] _keyId = RandomNumberGenerator.GetBytes(DataKey.KeyIdSize);
    private readonly DataKey _key;

    public SealedFieldTests() => _key = new DataKey(Owner, _keyId, 1, (byte[])_material.Clone());

    public void Dispose() => _key.Dispose();

    public static TheoryData<string> Plaintexts() => new()
    {
        "",
        "9434765919",
        "Zoë Łukasz-Ní Bhriain 学生 🙂",
        "\0embedded\0nul",
        new string('x', 200),
        new string('y', 10_000),
    };

    [Theory]
    [MemberData(nameof(Plaintexts))]
    public void SealedValueOpensToTheSameTextInTheSamePlace(string plaintext)
    {
        var sealedValue = SealedField.Seal(_key, Place, plaintext);

        Assert.Equal(plaintext, Encoding.UTF8.GetString(SealedField.Open(_key, Place, sealedValue)));
    }

    [Fact]
    public void TwoHundredArbitraryBytesRoundTrip()
    {
        var plaintext = RandomNumberGenerator.GetBytes(200);

        var sealedValue = SealedField.Seal(_key, Place, plaintext);

        Assert.Equal(plaintext, SealedField.Open(_key, Place, sealedValue));
        Assert.Equal(200 + SealedField.Overhead, sealedValue.Length);
    }

    [Theory]
    [MemberData(nameof(Plaintexts))]
    public void SealedValueIsUtf8LengthPlusFortyOneBytes(string plaintext)
    {
        Assert.Equal(41, SealedField.Overhead);
        Assert.Equal(1 + 8 + 4, SealedField.HeaderSize);

        var sealedValue = SealedField.Seal(_key, Place, plaintext);

        Assert.Equal(Encoding.UTF8.GetByteCount(plaintext) + SealedField.Overhead, sealedValue.Length);
    }

    [Fact]
    public void HeaderHoldsFormatVersionTwoTheKeyIdAndTheBigEndianKeyVersion()
    {
        using var key = new DataKey(Owner, _keyId, 0x01020304, RandomNumberGenerator.GetBytes(32));

        var sealedValue = SealedField.Seal(key, Place, "x");

        Assert.Equal(2, SealedField.FormatVersion);
        Assert.Equal(0x02, sealedValue[0]);
        Assert.Equal(_keyId, sealedValue[1..9]);
        Assert.Equal(new byte[] { 0x01, 0x02, 0x03, 0x04 }, sealedValue[9..13]);
    }

    [Fact]
    public void SealedValueDecryptsWithRawAesGcmInTheDocumentedLayout()
    {
        // Decrypt with AesGcm directly, so the format is pinned, not just self-consistent:
        // header | nonce | ciphertext | tag, associated data = header || "entity|field|owner|record".
        const string plaintext = "Zoë 9434765919";
        var sealedValue = SealedField.Seal(_key, Place, plaintext);
        var ctLength = sealedValue.Length - SealedField.Overhead;
        var output = new byte[ctLength];
        byte[] associatedData = [.. sealedValue[..13], .. Encoding.UTF8.GetBytes("child_identifiers|value|ch_a|row1")];

        using var aes = new AesGcm(_material, 16);
        aes.Decrypt(sealedValue.AsSpan(13, 12), sealedValue.AsSpan(25, ctLength), sealedValue.AsSpan(25 + ctLength, 16),
            output, associatedData);

        Assert.Equal(plaintext, Encoding.UTF8.GetString(output));
    }

    [Fact]
    public void ValueSealedByRawAesGcmInTheDocumentedLayoutOpens()
    {
        byte[] header = [0x02, .. _keyId, 0x00, 0x00, 0x00, 0x01];
        var nonce = Convert.FromHexString("000102030405060708090a0b");
        var input = Encoding.UTF8.GetBytes("Ní Bhriain");
        var ct = new byte[input.Length];
        var tag = new byte[16];
        byte[] associatedData = [.. header, .. Encoding.UTF8.GetBytes("child_identifiers|value|ch_a|row1")];
        using (var aes = new AesGcm(_material, 16))
        {
            aes.Encrypt(nonce, input, ct, tag, associatedData);
        }

        byte[] sealedValue = [.. header, .. nonce, .. ct, .. tag];

        Assert.Equal("Ní Bhriain", Encoding.UTF8.GetString(SealedField.Open(_key, Place, sealedValue)));
    }

    [Fact]
    public void AssociatedDataIsThePlaceJoinedWithBars() =>
        Assert.Equal("e|f|o|r"u8.ToArray(), new FieldPlace("e", "f", "o", "r").ToAssociatedData());

    [Fact]
    public void SealingTheSameValueTwiceGivesDifferentBytesWithFreshNonces()
    {
        var first = SealedField.Seal(_key, Place, "9434765919");
        var second = SealedField.Seal(_key, Place, "9434765919");

        Assert.NotEqual(first, second);
        Assert.NotEqual(first[13..25], second[13..25]);
    }

    [Fact]
    public void NoncesDoNotRepeatAcrossManySeals()
    {
        var nonces = Enumerable.Range(0, 2_000)
            .Select(_ => Convert.ToHexString(SealedField.Seal(_key, Place, "v").AsSpan(13, 12)))
            .ToHashSet(StringComparer.Ordinal);

        Assert.Equal(2_000, nonces.Count);
    }

    [Fact]
    public void SealedBytesDoNotContainThePlaintext()
    {
        var plaintext = Encoding.UTF8.GetBytes("9434765919-9434765919-9434765919");

        var sealedValue = SealedField.Seal(_key, Place, plaintext);

        Assert.Equal(-1, sealedValue.AsSpan().IndexOf(plaintext));
    }

    [Fact]
    public void SealedValueMovedToAnotherRowFailsToOpen() =>
        AssertFailsToOpenElsewhere(Place with { RecordId = "row2" });

    [Fact]
    public void SealedValueMovedToAnotherFieldFailsToOpen() =>
        AssertFailsToOpenElsewhere(Place with { Field = "display" });

    [Fact]
    public void SealedValueMovedToAnotherEntityFailsToOpen() =>
        AssertFailsToOpenElsewhere(Place with { Entity = "children" });

    [Fact]
    public void SealedValueMovedToAnotherChildFailsToOpenEvenUnderTheSameKey() =>
        AssertFailsToOpenElsewhere(Place with { OwnerId = "ch_b" });

    [Theory]
    [InlineData("child_identifiers", "value", "ch_a", "row1 ")]
    [InlineData("Child_identifiers", "value", "ch_a", "row1")]
    [InlineData("child_identifiers", "Value", "ch_a", "row1")]
    [InlineData("child_identifiers", "value", "CH_A", "row1")]
    [InlineData("child_identifiers", "value", "ch_a", "")]
    [InlineData("", "", "", "")]
    public void SealedValueFailsToOpenUnderAnyOtherPlace(string entity, string field, string owner, string record) =>
        AssertFailsToOpenElsewhere(new FieldPlace(entity, field, owner, record));

    [Fact]
    public void FlippingAnySingleBitOfTheSealedValueFailsToOpen()
    {
        var sealedValue = SealedField.Seal(_key, Place, "abc");
        var opened = new List<string>();

        for (var i = 0; i < sealedValue.Length; i++)
        {
            for (var bit = 0; bit < 8; bit++)
            {
                var tampered = (byte[])sealedValue.Clone();
                tampered[i] ^= (byte)(1 << bit);
                if (Record.Exception(() => SealedField.Open(_key, Place, tampered)) is not SealedValueException)
                {
                    opened.Add($"byte {i} bit {bit}");
                }
            }
        }

        Assert.True(opened.Count == 0, "Tampered values did not fail with SealedValueException: " + string.Join(", ", opened));
    }

    [Theory]
    [InlineData(0x00)]
    [InlineData(0x01)]
    [InlineData(0x03)]
    [InlineData(0xFF)]
    public void UnknownFormatVersionFailsToOpenSayingSo(byte version)
    {
        var sealedValue = SealedField.Seal(_key, Place, "abc");
        sealedValue[0] = version;

        var ex = Assert.Throws<SealedValueException>(() => SealedField.Open(_key, Place, sealedValue));
        Assert.Contains("unknown format version", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TruncatedSealedValueFailsToOpenAtEveryLength()
    {
        var sealedValue = SealedField.Seal(_key, Place, "abcdef");

        for (var length = 0; length < sealedValue.Length; length++)
        {
            var truncated = sealedValue.AsSpan(0, length).ToArray();
            Assert.True(Record.Exception(() => SealedField.Open(_key, Place, truncated)) is SealedValueException,
                $"A value truncated to {length} bytes did not fail with SealedValueException.");
        }
    }

    [Fact]
    public void SealedValueWithBytesAppendedFailsToOpen()
    {
        byte[] extended = [.. SealedField.Seal(_key, Place, "abc"), 0x00];

        Assert.Throws<SealedValueException>(() => SealedField.Open(_key, Place, extended));
    }

    [Fact]
    public void SealedValueFailsToOpenUnderAnotherOwnersKey()
    {
        var sealedValue = SealedField.Seal(_key, Place, "9434765919");
        using var other = KeyRig.NewDataKey("ch_b");

        var ex = Assert.Throws<SealedValueException>(() => SealedField.Open(other, Place, sealedValue));
        Assert.Contains("another data key", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SealedValueFailsToOpenUnderAKeyWithTheSameIdAndVersionButOtherMaterial()
    {
        // The header names the key, but only the key bytes prove it: a forged id gets no further than the tag.
        var sealedValue = SealedField.Seal(_key, Place, "9434765919");
        using var impostor = new DataKey(Owner, _keyId, 1, RandomNumberGenerator.GetBytes(32));

        var ex = Assert.Throws<SealedValueException>(() => SealedField.Open(impostor, Place, sealedValue));
        Assert.IsType<AuthenticationTagMismatchException>(ex.InnerException);
    }

    [Fact]
    public void SealedValueFailsToOpenUnderAnotherVersionOfTheSameKey()
    {
        var sealedValue = SealedField.Seal(_key, Place, "9434765919");
        using var nextVersion = new DataKey(Owner, _keyId, 2, (byte[])_material.Clone());

        Assert.Throws<SealedValueException>(() => SealedField.Open(nextVersion, Place, sealedValue));
    }

    [Fact]
    public void HeaderRewrittenToAnotherKeyVersionFailsTheIntegrityCheck()
    {
        // The header is part of the associated data: relabelling a value's key version is tampering.
        var sealedValue = SealedField.Seal(_key, Place, "9434765919");
        BinaryPrimitives.WriteUInt32BigEndian(sealedValue.AsSpan(9, 4), 2);
        using var nextVersion = new DataKey(Owner, _keyId, 2, (byte[])_material.Clone());

        var ex = Assert.Throws<SealedValueException>(() => SealedField.Open(nextVersion, Place, sealedValue));
        Assert.IsType<AuthenticationTagMismatchException>(ex.InnerException);
    }

    [Fact]
    public void SealedValueOpensWithAnotherDataKeyObjectOverTheSameKey()
    {
        var sealedValue = SealedField.Seal(_key, Place, "9434765919");
        using var same = new DataKey(Owner, _keyId, 1, (byte[])_material.Clone());

        Assert.Equal("9434765919"u8.ToArray(), SealedField.Open(same, Place, sealedValue));
    }

    [Fact]
    public void FailureMessagesNeverContainThePlaintext()
    {
        const string plaintext = "9434765919";
        var sealedValue = SealedField.Seal(_key, Place, plaintext);
        var flipped = (byte[])sealedValue.Clone();
        flipped[30] ^= 0x01;
        var badVersion = (byte[])sealedValue.Clone();
        badVersion[0] = 0x01;
        using var other = KeyRig.NewDataKey("ch_b");

        Func<byte[]>[] failures =
        [
            () => SealedField.Open(_key, Place with { RecordId = "row2" }, sealedValue),
            () => SealedField.Open(_key, Place, flipped),
            () => SealedField.Open(_key, Place, badVersion),
            () => SealedField.Open(_key, Place, sealedValue.AsSpan(0, 20)),
            () => SealedField.Open(other, Place, sealedValue),
        ];

        foreach (var failure in failures)
        {
            var ex = Assert.Throws<SealedValueException>(failure);
            Assert.DoesNotContain(plaintext, ex.ToString(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public void NullArgumentsAreRejected()
    {
        Assert.Throws<ArgumentNullException>(() => SealedField.Seal(null!, Place, "x"));
        Assert.Throws<ArgumentNullException>(() => SealedField.Seal(_key, Place, (string)null!));
        Assert.Throws<ArgumentNullException>(() => SealedField.Open(null!, Place, new byte[64]));
    }

    private void AssertFailsToOpenElsewhere(FieldPlace otherPlace)
    {
        var sealedValue = SealedField.Seal(_key, Place, "9434765919");

        Assert.Throws<SealedValueException>(() => SealedField.Open(_key, otherPlace, sealedValue));
        Assert.Equal("9434765919"u8.ToArray(), SealedField.Open(_key, Place, sealedValue));
    }
}
