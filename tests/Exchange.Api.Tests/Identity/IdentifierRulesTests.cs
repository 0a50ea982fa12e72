using Exchange.Api.Identity;

namespace Exchange.Api.Tests.Identity;

public sealed class IdentifierRulesTests
{
    [Theory]
    [InlineData("9434765919")] // DATA.md example
    [InlineData("943 476 5919")]
    [InlineData("943-476-5919")]
    [InlineData("4010232137")]
    [InlineData("9990000018")] // the never-issued test range 999 000 0000 - 999 999 9999
    [InlineData("9990000026")]
    [InlineData("9990000069")]
    public void ValidNhsNumbersPassModulus11(string value) =>
        Assert.Equal(IdentifierRules.NhsCheck.Valid, IdentifierRules.CheckNhsNumber(IdentifierRules.NormaliseNhsNumber(value)));

    [Theory]
    [InlineData("9434765918")] // last digit mistyped
    [InlineData("9434765991")] // two digits swapped
    [InlineData("9990000019")]
    public void NhsNumberWithWrongCheckDigitFails(string value) =>
        Assert.Equal(IdentifierRules.NhsCheck.CheckDigit, IdentifierRules.CheckNhsNumber(value));

    [Fact]
    public void NhsNumberWhoseCheckWouldBeTenIsInvalidWhateverItsLastDigit()
    {
        // 999000000: the weighted sum gives 11 - r = 10, so no tenth digit makes it valid.
        for (var last = 0; last <= 9; last++)
        {
            Assert.Equal(IdentifierRules.NhsCheck.CheckDigit, IdentifierRules.CheckNhsNumber("999000000" + last));
        }
    }

    [Theory]
    [InlineData("943476591")]
    [InlineData("94347659190")]
    [InlineData("94347659AB")]
    [InlineData("")]
    [InlineData("943.476.5919")]
    public void NhsNumberOfWrongShapeFailsFormat(string value) =>
        Assert.Equal(IdentifierRules.NhsCheck.Format, IdentifierRules.CheckNhsNumber(IdentifierRules.NormaliseNhsNumber(value)));

    [Theory]
    [InlineData("B801200005001", false)] // DATA.md example
    [InlineData("b801200005001", false)]
    [InlineData("H209123425001", false)]
    [InlineData("M80120000500A", true)] // temporary: final letter scored by its alphabet position
    [InlineData("B80120000500B", true)]
    [InlineData("P20212341500Z", true)]
    public void ValidUpnsPassTheCheckLetter(string value, bool temporary)
    {
        Assert.Equal(IdentifierRules.UpnCheck.Valid, IdentifierRules.CheckUpn(IdentifierRules.NormaliseUpn(value), out var isTemporary));
        Assert.Equal(temporary, isTemporary);
    }

    [Theory]
    [InlineData("A801200005001")]
    [InlineData("B801200005002")]
    [InlineData("B801200005010")]
    [InlineData("A80120000500A")]
    public void UpnWithWrongCheckLetterFails(string value) =>
        Assert.Equal(IdentifierRules.UpnCheck.CheckLetter, IdentifierRules.CheckUpn(value, out _));

    [Theory]
    [InlineData("UN1")]
    [InlineData("UN5")]
    [InlineData("un2")]
    [InlineData("UN")]
    public void UpnPlaceholdersAreRejectedAsPlaceholders(string value) =>
        Assert.Equal(IdentifierRules.UpnCheck.Placeholder, IdentifierRules.CheckUpn(IdentifierRules.NormaliseUpn(value), out _));

    [Theory]
    [InlineData("B80120000500")] // 12 characters
    [InlineData("B8012000050011")] // 14
    [InlineData("I801200005001")] // I is never a check letter
    [InlineData("O801200005001")]
    [InlineData("S801200005001")]
    [InlineData("1801200005001")]
    [InlineData("B80120000A001")] // letter inside the serial
    [InlineData("B80120000500I")] // I, O, S never used for a temporary UPN either
    [InlineData("B80120000500S")]
    public void UpnOfWrongShapeFailsFormat(string value) =>
        Assert.Equal(IdentifierRules.UpnCheck.Format, IdentifierRules.CheckUpn(value, out _));
}
