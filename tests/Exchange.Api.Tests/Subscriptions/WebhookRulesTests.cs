using System.Net;
using Exchange.Api.Configuration;
using Exchange.Api.Subscriptions;

namespace Exchange.Api.Tests.Subscriptions;

/// <summary>The rules behind delivery that a receiver or an attacker would probe: the retry schedule and the addresses called.</summary>
public sealed class WebhookRulesTests
{
    [Fact]
    public void RetriesBackOffExponentiallyWithJitterUpToAnHour()
    {
        var options = new WebhookOptions();
        Assert.Equal(TimeSpan.FromSeconds(2.5), WebhookDispatcher.RetryDelay(1, options, 0));
        Assert.Equal(TimeSpan.FromSeconds(5), WebhookDispatcher.RetryDelay(1, options, 1));
        Assert.Equal(TimeSpan.FromSeconds(40), WebhookDispatcher.RetryDelay(4, options, 1));
        Assert.Equal(TimeSpan.FromMinutes(30), WebhookDispatcher.RetryDelay(30, options, 0));
        Assert.Equal(TimeSpan.FromHours(1), WebhookDispatcher.RetryDelay(int.MaxValue, options, 1));
        // Jittered: two failures at once are not retried at the same instant.
        Assert.NotEqual(WebhookDispatcher.RetryDelay(6, options, 0.1), WebhookDispatcher.RetryDelay(6, options, 0.9));
        // The budget: a day of doubling waits capped at an hour is well over twenty attempts.
        var elapsed = TimeSpan.Zero;
        var attempts = 0;
        while (elapsed < options.RetryFor)
        {
            elapsed += WebhookDispatcher.RetryDelay(++attempts, options, 1);
        }

        Assert.InRange(attempts, 25, 40);
    }

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("10.1.2.3")]
    [InlineData("172.16.0.1")]
    [InlineData("172.31.255.255")]
    [InlineData("192.168.1.1")]
    [InlineData("169.254.169.254")] // cloud metadata
    [InlineData("100.64.0.1")]
    [InlineData("0.0.0.0")]
    [InlineData("224.0.0.1")]
    [InlineData("192.0.2.2")]
    [InlineData("203.0.113.7")]
    [InlineData("::1")]
    [InlineData("fe80::1")]
    [InlineData("fd00::1")]
    [InlineData("::ffff:127.0.0.1")]
    [InlineData("::ffff:10.0.0.1")]
    [InlineData("64:ff9b::a9fe:a9fe")] // NAT64 to 169.254.169.254
    [InlineData("64:ff9b:1::a00:1")]
    [InlineData("2002:a9fe:a9fe::1")] // 6to4 of 169.254.169.254
    [InlineData("::7f00:1")] // IPv4-compatible 127.0.0.1
    [InlineData("::ffff:0:7f00:1")]
    [InlineData("100::1")]
    [InlineData("2001:db8::1")]
    [InlineData("2001::1")]
    public void NonPublicAddressesAreNotCalled(string address) => Assert.False(CallbackAddress.IsPublic(IPAddress.Parse(address)));

    [Theory]
    [InlineData("8.8.8.8")]
    [InlineData("172.32.0.1")]
    [InlineData("81.2.69.160")]
    [InlineData("2a00:1450:4009:81f::200e")]
    [InlineData("64:ff9b::808:808")] // NAT64 to 8.8.8.8
    [InlineData("2002:808:808::1")]
    public void PublicAddressesAre(string address) => Assert.True(CallbackAddress.IsPublic(IPAddress.Parse(address)));

    [Theory]
    [InlineData("https://receiver.example.org/hook", true)]
    [InlineData("https://receiver.example.org:8443/hook?council=202", true)]
    [InlineData("http://receiver.example.org/hook", false)]
    [InlineData("https://127.0.0.1/hook", false)]
    [InlineData("https://[::1]/hook", false)]
    [InlineData("https://169.254.169.254/latest/meta-data", false)]
    [InlineData("https://[64:ff9b::a9fe:a9fe]/x", false)]
    [InlineData("https://localhost/hook", false)]
    [InlineData("https://LOCALHOST./hook", false)]
    [InlineData("https://user@receiver.example.org/hook", false)]
    [InlineData("file:///etc/passwd", false)]
    [InlineData("receiver.example.org/hook", false)]
    public void OutsideDevelopmentOnlyHttpsToPublicAddressesIsAccepted(string url, bool accepted) =>
        Assert.Equal(accepted, CallbackAddress.IsAcceptable(url, allowInsecure: false, allowPrivate: false));

    [Fact]
    public void DevelopmentAllowsALocalPlainHttpReceiver() =>
        Assert.True(CallbackAddress.IsAcceptable("http://localhost:5081/hook", allowInsecure: true, allowPrivate: true));
}
