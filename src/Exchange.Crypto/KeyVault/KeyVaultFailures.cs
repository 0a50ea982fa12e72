using System.Globalization;
using System.Net.Sockets;
using Azure;
using Exchange.Crypto.Keys;
using Microsoft.Identity.Client;

namespace Exchange.Crypto.KeyVault;

/// <summary>
/// Turns Key Vault answers and transport failures into the provider exceptions: permanent
/// refusals become <see cref="KeyProviderException"/>, anything that may pass on its own becomes
/// <see cref="KeyProviderUnavailableException"/>. Messages name the operation and the status,
/// never key material or tokens.
/// </summary>
internal static class KeyVaultFailures
{
    /// <summary>The exception for a non-success HTTP status, after the pipeline's retries.</summary>
    internal static KeyProviderException FromStatus(int status, string operation, string? errorCode)
    {
        var code = string.IsNullOrEmpty(errorCode) ? string.Empty : $" (error code {errorCode})";
        return status switch
        {
            401 or 403 => new KeyProviderException(Format(
                $"Key Vault refused {operation} with HTTP {status}{code}: the identity is not authorised for this key or vault.")),
            400 or 404 => new KeyProviderException(Format(
                $"Key Vault rejected {operation} with HTTP {status}{code}: wrong key id, or the key or secret was not found.")),
            408 or 429 => new KeyProviderUnavailableException(Format(
                $"Key Vault did not complete {operation} (HTTP {status}{code}) after retrying; try again later.")),
            >= 500 => new KeyProviderUnavailableException(Format(
                $"Key Vault failed {operation} with HTTP {status}{code} after retrying; try again later.")),
            _ => new KeyProviderException(Format($"Key Vault answered {operation} with unexpected HTTP {status}{code}.")),
        };
    }

    /// <summary>
    /// Maps an exception thrown while sending a request (or getting its token) to a provider exception.
    /// Returns null for exceptions that are not the vault's fault (the caller's cancellation, bugs).
    /// </summary>
    internal static KeyProviderException? FromException(Exception exception, string operation, CancellationToken cancellationToken)
    {
        switch (exception)
        {
            case KeyProviderException:
                return null;
            case OperationCanceledException when cancellationToken.IsCancellationRequested:
                return null;
            case OperationCanceledException or TimeoutException:
                return new KeyProviderUnavailableException(Format($"Key Vault did not answer {operation} in time."), exception);
            case RequestFailedException { Status: 0 }:
            case HttpRequestException:
            case IOException:
            case SocketException:
                return new KeyProviderUnavailableException(Format($"Key Vault could not be reached for {operation}."), exception);
            case RequestFailedException failed:
                var mapped = FromStatus(failed.Status, operation, failed.ErrorCode);
                return mapped is KeyProviderUnavailableException
                    ? new KeyProviderUnavailableException(mapped.Message, exception)
                    : new KeyProviderException(mapped.Message, exception);
            case AggregateException aggregate:
                // The retry policy throws the failures of every attempt together.
                var inner = aggregate.InnerExceptions.Select(e => FromException(e, operation, cancellationToken)).ToList();
                return inner.Count == 0 || inner.Contains(null)
                    ? null
                    : inner.TrueForAll(e => e is KeyProviderUnavailableException)
                        ? new KeyProviderUnavailableException(inner[^1]!.Message, exception)
                        : new KeyProviderException(inner.First(e => e is not KeyProviderUnavailableException)!.Message, exception);
            case not null when IsAuthenticationFailure(exception) && IsNetworkFailure(exception):
                return new KeyProviderUnavailableException(
                    Format($"The identity provider could not be reached to obtain a Key Vault token for {operation}."), exception);
            case not null when IsAuthenticationFailure(exception):
                return new KeyProviderException(
                    Format($"No Key Vault token could be obtained for {operation}: the credential was refused or is not configured."), exception);
            default:
                return null;
        }
    }

    /// <summary>True for the credential's AuthenticationFailedException (and CredentialUnavailableException, which derives from it).</summary>
    private static bool IsAuthenticationFailure(Exception exception) => exception is Azure.Identity.AuthenticationFailedException;

    private static bool IsNetworkFailure(Exception exception)
    {
        for (var inner = exception.InnerException; inner is not null; inner = inner.InnerException)
        {
            if (inner is HttpRequestException or IOException or SocketException or TimeoutException
                or OperationCanceledException
                or RequestFailedException { Status: 0 or 408 or 429 or >= 500 }
                or MsalServiceException { StatusCode: 408 or 429 or >= 500 })
            {
                return true;
            }
        }

        return false;
    }

    private static string Format(FormattableString message) => message.ToString(CultureInfo.InvariantCulture);
}
