using System.Net;
using System.Net.Sockets;

namespace Exchange.Api.Subscriptions;

/// <summary>
/// Which callback URLs and addresses the service will call. A subscriber chooses the URL, so an unchecked one would let
/// a council's staff make the service call the operator's own network (cloud metadata, admin ports): outside
/// Development only https to public addresses, checked both when subscribing (a literal address) and when connecting
/// (whatever the name resolves to then).
/// </summary>
public static class CallbackAddress
{
    /// <summary>Whether <paramref name="url"/> may be subscribed to.</summary>
    public static bool IsAcceptable(string? url, bool allowInsecure, bool allowPrivate)
    {
        if (url is null || url.Length > Storage.Subscription.MaxUrlLength || !Uri.TryCreate(url, UriKind.Absolute, out var uri))
        {
            return false;
        }

        var schemeAllowed = uri.Scheme == Uri.UriSchemeHttps || (allowInsecure && uri.Scheme == Uri.UriSchemeHttp);
        // Credentials in the URL would be kept in plain text and sent on every delivery; a fragment is never sent.
        return schemeAllowed && uri.UserInfo.Length == 0 && uri.Fragment.Length == 0 && uri.Host.Length > 0
            && (allowPrivate || !IPAddress.TryParse(uri.IdnHost.Trim('[', ']'), out var literal) || IsPublic(literal))
            && (allowPrivate || !string.Equals(uri.IdnHost.TrimEnd('.'), "localhost", StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>Whether an address is on the public internet (not loopback, private, link-local, shared, multicast...).</summary>
    public static bool IsPublic(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (IPAddress.IsLoopback(address) || address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any) || address.Equals(IPAddress.Broadcast))
        {
            return false;
        }

        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            var b = address.GetAddressBytes();
            return !(b[0] == 0 || b[0] == 10 || b[0] == 127 || b[0] >= 224
                || (b[0] == 100 && b[1] >= 64 && b[1] <= 127) // shared address space (carrier NAT)
                || (b[0] == 169 && b[1] == 254) // link-local, cloud metadata
                || (b[0] == 172 && b[1] >= 16 && b[1] <= 31)
                || (b[0] == 192 && b[1] == 168)
                || (b[0] == 192 && b[1] == 0 && (b[2] == 0 || b[2] == 2)) // IETF protocol assignments, TEST-NET-1
                || (b[0] == 198 && b[1] == 51 && b[2] == 100) // TEST-NET-2
                || (b[0] == 203 && b[1] == 0 && b[2] == 113) // TEST-NET-3
                || (b[0] == 198 && (b[1] == 18 || b[1] == 19)));
        }

        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            var b = address.GetAddressBytes();
            return !(address.IsIPv6LinkLocal || address.IsIPv6SiteLocal || address.IsIPv6Multicast
                || (b[0] & 0xfe) == 0xfc // unique local fc00::/7
                || address.IsIPv6Teredo || address.IsIPv4MappedToIPv6);
        }

        return false;
    }

    /// <summary>
    /// Connects to the first acceptable address the host resolves to, refusing non-public ones unless allowed: the
    /// check happens on the address actually dialled, so a DNS answer that changes after subscribing cannot slip by.
    /// </summary>
    public static async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, bool allowPrivate, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(context);
        var resolved = await Dns.GetHostAddressesAsync(context.DnsEndPoint.Host, ct).ConfigureAwait(false);
        var usable = resolved.Where(a => allowPrivate || IsPublic(a)).ToArray();
        if (usable.Length == 0)
        {
            throw new AddressRefusedException();
        }

        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(usable, context.DnsEndPoint.Port, ct).ConfigureAwait(false);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}

/// <summary>The callback's host resolves only to addresses the service may not call.</summary>
public sealed class AddressRefusedException : Exception
{
    public AddressRefusedException() : base("The callback resolves only to non-public addresses.") { }
    public AddressRefusedException(string message) : base(message) { }
    public AddressRefusedException(string message, Exception inner) : base(message, inner) { }
}
