using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Exchange.Api.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Exchange.Api.Tests.Errors;

/// <summary>The service on real Kestrel (the test server never sees raw header bytes), reached over a socket.</summary>
public sealed class KestrelApiFactory : ExchangeApiFactory
{
    public KestrelApiFactory()
    {
        UseKestrel(0);
    }

    public Uri Address
    {
        get
        {
            StartServer();
            var address = Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            return new Uri(address.Replace("[::]", "127.0.0.1", StringComparison.Ordinal).Replace("0.0.0.0", "127.0.0.1", StringComparison.Ordinal));
        }
    }
}

public sealed class HeaderEncodingTests(KestrelApiFactory api) : IClassFixture<KestrelApiFactory>
{
    /// <summary>Sends a raw HTTP/1.1 request whose header value is exactly <paramref name="value"/>'s bytes.</summary>
    private async Task<(int Status, Dictionary<string, string> Headers, string Body)> SendRawAsync(string header, byte[] value)
    {
        var address = api.Address;
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(address.Host, address.Port);
        await using var stream = tcp.GetStream();
        var request = new MemoryStream();
        var token = api.Issuer.Token("la:202", ["virtual-school"]);
        request.Write(Encoding.ASCII.GetBytes($"GET /v1/children/ch_00000000000000000000000000 HTTP/1.1\r\nHost: {address.Authority}\r\nAuthorization: Bearer {token}\r\nX-Purpose-Of-Use: pep-review\r\nConnection: close\r\n{header}: "));
        request.Write(value);
        request.Write("\r\n\r\n"u8);
        await stream.WriteAsync(request.ToArray());

        using var reader = new StreamReader(stream, Encoding.UTF8);
        var all = await reader.ReadToEndAsync();
        var split = all.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        var head = all[..split].Split("\r\n");
        var headers = head.Skip(1).Select(l => l.Split(':', 2)).ToDictionary(p => p[0].Trim(), p => p[1].Trim(), StringComparer.OrdinalIgnoreCase);
        var body = all[(split + 4)..];
        if (headers.TryGetValue("Transfer-Encoding", out var te) && te == "chunked")
        {
            body = Unchunk(body);
        }

        return (int.Parse(head[0].Split(' ')[1]), headers, body);
    }

    private static string Unchunk(string chunked)
    {
        var result = new StringBuilder();
        var position = 0;
        while (true)
        {
            var end = chunked.IndexOf("\r\n", position, StringComparison.Ordinal);
            var size = Convert.ToInt32(chunked[position..end], 16);
            if (size == 0)
            {
                return result.ToString();
            }

            result.Append(chunked, end + 2, size);
            position = end + 2 + size + 2;
        }
    }

    [Fact]
    public async Task AHeaderValueThatIsNotUtf8GetsAProblemWithTheCorrelationIdNotAnEmpty400()
    {
        // 0xC3 0x28 is an invalid two-byte sequence; Kestrel alone answered an empty 400.
        var (status, headers, body) = await SendRawAsync("X-Note", [0x61, 0xC3, 0x28, 0x62]);

        Assert.Equal(400, status);
        Assert.StartsWith("application/problem+json", headers["Content-Type"], StringComparison.Ordinal);
        var problem = JsonDocument.Parse(body).RootElement;
        Assert.Equal(Problem.Base + "header-encoding", problem.GetProperty("type").GetString());
        Assert.Equal(headers["X-Correlation-Id"], problem.GetProperty("correlationId").GetString());
        Assert.Contains("X-Note", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AValidUtf8HeaderValueIsDecodedAndTheRequestGoesOn()
    {
        // "café" in UTF-8 is fine: the request reaches the API and gets its ordinary answer (no such child).
        var (status, _, body) = await SendRawAsync("X-Note", "café"u8.ToArray());
        Assert.Equal(404, status);
        Assert.Equal(Problem.Base + "child-not-found", JsonDocument.Parse(body).RootElement.GetProperty("type").GetString());
    }
}
