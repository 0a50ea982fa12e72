using Exchange.Api.Auditing;

namespace Exchange.Api.Tests.AuditReview;

/// <summary>The held answer (pooled segments) reaches the caller byte for byte, and nothing of it before its release.</summary>
public sealed class HoldBackStreamTests
{
    private static byte[] Answer(int length)
    {
        var bytes = new byte[length];
        new Random(length).NextBytes(bytes);
        return bytes;
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(65_536)]
    [InlineData(65_537)]
    [InlineData(619_520)]
    public async Task AnAnswerWrittenInPiecesIsReleasedWhole(int length)
    {
        var answer = Answer(length);
        using var body = new MemoryStream();
        await using var hold = new HoldBackStream(body);
        var random = new Random(7);
        for (var at = 0; at < length;)
        {
            var part = Math.Min(random.Next(1, 20_000), length - at);
            if (part % 2 == 0)
            {
                await hold.WriteAsync(answer.AsMemory(at, part));
            }
            else
            {
                hold.Write(answer, at, part);
            }

            at += part;
        }

        Assert.Equal(0, body.Length);
        await hold.ReleaseAsync(CancellationToken.None);
        Assert.Equal(answer, body.ToArray());

        // Once released, writes go straight through.
        await hold.WriteAsync(new byte[] { 42 });
        Assert.Equal(length + 1, body.Length);
    }

    [Fact]
    public async Task ADiscardedAnswerIsNeverSentAndWhatFollowsIsHeldAfresh()
    {
        using var body = new MemoryStream();
        await using var hold = new HoldBackStream(body);
        await hold.WriteAsync(Answer(100_000));
        hold.Discard();
        var replacement = Answer(70_000);
        await hold.WriteAsync(replacement);
        Assert.Equal(0, body.Length);
        await hold.ReleaseAsync(CancellationToken.None);
        Assert.Equal(replacement, body.ToArray());
    }

    [Fact]
    public async Task NothingIsWrittenThroughOnceTheHoldIsDisposed()
    {
        using var body = new MemoryStream();
        var hold = new HoldBackStream(body);
        await hold.WriteAsync(Answer(10));
        await hold.DisposeAsync();
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await hold.WriteAsync(Answer(10)));
        Assert.Equal(0, body.Length);
    }
}
