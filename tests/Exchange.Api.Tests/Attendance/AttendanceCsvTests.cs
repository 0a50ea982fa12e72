using System.Text;
using Exchange.Api.Attendance;

namespace Exchange.Api.Tests.Attendance;

public sealed class AttendanceCsvTests
{
    private static Task<AttendanceCsvFile> Read(string text, int max = 100, bool bom = false)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        if (bom)
        {
            bytes = [0xEF, 0xBB, 0xBF, .. bytes];
        }

        return AttendanceCsv.ReadAsync(new MemoryStream(bytes), max, CancellationToken.None);
    }

    [Fact]
    public async Task RowsKeepTheirLineNumbersAndFields()
    {
        var file = await Read("childId,date,session,code\nch_a,2025-09-01,AM,/\nch_a,2025-09-01,PM,\\\n");
        Assert.Null(file.FileProblem);
        Assert.False(file.HasMinutesLate);
        Assert.Equal([2, 3], file.Rows.Select(r => r.Line));
        Assert.Equal(["ch_a", "2025-09-01", "PM", "\\"], file.Rows[1].Fields);
    }

    [Fact]
    public async Task ACrlfFileWithAByteOrderMarkAndTheOptionalColumnReadsTheSame()
    {
        var file = await Read("childId,date,session,code,minutesLate\r\nch_a,2025-09-01,AM,L,12\r\nch_a,2025-09-01,PM,N,\r\n", bom: true);
        Assert.Null(file.FileProblem);
        Assert.True(file.HasMinutesLate);
        Assert.Equal(["ch_a", "2025-09-01", "AM", "L", "12"], file.Rows[0].Fields);
        Assert.Equal(["ch_a", "2025-09-01", "PM", "N", ""], file.Rows[1].Fields);
        Assert.Equal([2, 3], file.Rows.Select(r => r.Line));
    }

    [Fact]
    public async Task AQuotedCommaStaysInsideItsField()
    {
        var file = await Read("childId,date,session,code\n\"ch_a,ch_b\",2025-09-01,AM,/\n\"ch_c\",2025-09-01,AM,\"/\"\n");
        Assert.Equal(["ch_a,ch_b", "2025-09-01", "AM", "/"], file.Rows[0].Fields);
        Assert.Equal(["ch_c", "2025-09-01", "AM", "/"], file.Rows[1].Fields);
    }

    [Fact]
    public async Task ARowWithTheWrongNumberOfFieldsIsRejectedAloneByItsLine()
    {
        var file = await Read("childId,date,session,code\nch_a,2025-09-01,AM\nch_a,2025-09-01,AM,/,extra\n\nch_b,2025-09-01,AM,/\n");
        Assert.Equal([2, 3, 5], file.Rows.Select(r => r.Line));
        Assert.Null(file.Rows[0].Fields);
        Assert.Null(file.Rows[1].Fields);
        Assert.NotNull(file.Rows[2].Fields);
    }

    [Fact]
    public async Task AStrayQuoteRejectsItsRow()
    {
        var file = await Read("childId,date,session,code\nch_a,2025-09\"-01,AM,/\nch_b,2025-09-01,AM,/\n");
        Assert.Null(file.Rows[0].Fields);
        Assert.Equal(3, file.Rows[1].Line);
        Assert.NotNull(file.Rows[1].Fields);
    }

    [Theory]
    [InlineData("")]
    [InlineData("child,date,session,code\nch_a,2025-09-01,AM,/\n")]
    [InlineData("childId;date;session;code\nch_a;2025-09-01;AM;/\n")]
    [InlineData("date,childId,session,code\n")]
    [InlineData("childId,date,session,code,late\n")]
    [InlineData("CHILDID,DATE,SESSION,CODE\n")]
    [InlineData("ch_a,2025-09-01,AM,/\n")]
    public async Task AWrongOrMissingHeaderRefusesTheWholeFile(string text)
    {
        var file = await Read(text);
        Assert.NotNull(file.FileProblem);
        Assert.Contains("childId,date,session,code", file.FileProblem, StringComparison.Ordinal);
        Assert.Empty(file.Rows);
    }

    [Fact]
    public async Task MoreRowsThanTheLimitRefusesTheFile()
    {
        var text = "childId,date,session,code\n" + string.Concat(Enumerable.Repeat("ch_a,2025-09-01,AM,/\n", 4));
        Assert.True((await Read(text, max: 3)).TooManyRows);
        Assert.False((await Read(text, max: 4)).TooManyRows);
    }
}
