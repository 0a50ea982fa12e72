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
            // Forms that carry an IPv4 address are judged by it: NAT64 (64:ff9b::/96) reaches the IPv4 address in its
            // last four bytes, 6to4 (2002::/16) the one in bytes 2 to 5.
            if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b && b.AsSpan(4, 8).IndexOfAnyExcept((byte)0) < 0)
            {
                return IsPublic(new IPAddress(b.AsSpan(12, 4)));
            }

            if (b[0] == 0x20 && b[1] == 0x02)
            {
                return IsPublic(new IPAddress(b.AsSpan(2, 4)));
            }

            return (b[0] & 0xe0) == 0x20 // global unicast 2000::/3; everything else (::/8 forms, 64:ff9b:1::/48, 100::/64...) is not
                && !(b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8) // documentation 2001:db8::/32
                && !(b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x00 && b[3] == 0x00) // Teredo 2001::/32
                && !(b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x00 && (b[3] & 0xf0) == 0x10) // ORCHIDv1 2001:10::/28
                && !(b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x00 && (b[3] & 0xf0) == 0x20); // ORCHIDv2 2001:20::/28
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
