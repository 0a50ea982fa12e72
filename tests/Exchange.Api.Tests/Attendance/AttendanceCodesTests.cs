using Exchange.Api.Attendance;

namespace Exchange.Api.Tests.Attendance;

public sealed class AttendanceCodesTests
{
    [Theory]
    [InlineData("H", "C")]
    [InlineData("J", "J1")]
    [InlineData("Y", "Y1-Y7")]
    public void WithdrawnCodesAreNotCodesAndNameTheirReplacement(string code, string replacement)
    {
        Assert.Null(AttendanceCodes.Find(code));
        Assert.Equal(replacement, AttendanceCodes.Withdrawn[code]);
    }

    [Theory]
    [InlineData("c1")]
    [InlineData(" I")]
    [InlineData("Y8")]
    [InlineData("")]
    [InlineData(null)]
    public void CodesAreExact(string? code) => Assert.Null(AttendanceCodes.Find(code));

    [Fact]
    public void ThePresentMarksBelongToTheirSession()
    {
        Assert.Equal("AM", AttendanceCodes.Find("/")!.OnlyIn);
        Assert.Equal("PM", AttendanceCodes.Find("\\")!.OnlyIn);
        Assert.All(AttendanceCodes.All.Where(c => c.Code is not ("/" or "\\")), c => Assert.Null(c.OnlyIn));
    }

    [Fact]
    public void TheTableHoldsTheThirtyFourCodesOf2024()
    {
        Assert.Equal(34, AttendanceCodes.All.Count);
        Assert.Equal(AttendanceCodes.All.Count, AttendanceCodes.All.Select(c => c.Code).Distinct(StringComparer.Ordinal).Count());
    }
}
