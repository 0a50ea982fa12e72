using System.Text;
using Microsoft.Extensions.Primitives;

namespace Exchange.Api.Errors;

/// <summary>
/// Request header values must be UTF-8. Kestrel would refuse other bytes itself, with an empty 400
/// that has no problem body and no correlation id; instead it hands every byte through (Latin-1,
/// one character per byte) and <see cref="HeaderEncodingMiddleware"/> decodes the values as strict
/// UTF-8: a value that is not UTF-8 gets a 400 header-encoding problem, like any other bad input.
/// </summary>
public static class HeaderEncoding
{
    public static WebApplicationBuilder AddExchangeHeaderEncoding(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.WebHost.ConfigureKestrel(o => o.RequestHeaderEncodingSelector = _ => Encoding.Latin1);
        return builder;
    }
}

internal sealed class HeaderEncodingMiddleware(RequestDelegate next, IProblemDetailsService problems)
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public async Task InvokeAsync(HttpContext context)
    {
        foreach (var (name, values) in context.Request.Headers.ToList())
        {
            if (!values.Any(v => v is not null && !Ascii.IsValid(v)))
            {
                continue;
            }

            var decoded = new string?[values.Count];
            for (var i = 0; i < values.Count; i++)
            {
                if (!TryDecode(values[i], out decoded[i]))
                {
                    // The header's name only: its value could be anything a caller typed.
                    context.Response.StatusCode = StatusCodes.Status400BadRequest;
                    await problems.WriteAsync(new ProblemDetailsContext
                    {
                        HttpContext = context,
                        ProblemDetails = Problems.Create(ProblemTypes.HeaderEncoding, $"The value of the {Safe(name)} header is not valid UTF-8."),
                    }).ConfigureAwait(false);
                    return;
                }
            }

            context.Request.Headers[name] = new StringValues(decoded);
        }

        await next(context).ConfigureAwait(false);
    }

    /// <summary>A value Kestrel widened byte by byte, decoded as UTF-8 (a value that is plain ASCII is unchanged).</summary>
    private static bool TryDecode(string? value, out string? decoded)
    {
        decoded = value;
        if (value is null || Ascii.IsValid(value))
        {
            return true;
        }

        // A character above U+00FF cannot come from Kestrel's Latin-1 (the test host passes strings through): keep it.
        if (value.Any(c => c > '\u00FF'))
        {
            return true;
        }

        try
        {
            decoded = StrictUtf8.GetString(Encoding.Latin1.GetBytes(value));
            return true;
        }
        catch (DecoderFallbackException)
        {
            return false;
        }
    }

    private static string Safe(string name) => name.All(c => char.IsAsciiLetterOrDigit(c) || c == '-') && name.Length <= 64 ? name : "a";
}
