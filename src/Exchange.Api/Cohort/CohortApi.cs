using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using CsvHelper;
using CsvHelper.Configuration;
using Exchange.Api.Auditing;
using Exchange.Api.Auth;
using Exchange.Api.Decisions;
using Exchange.Api.Errors;
using Exchange.Api.Identity;
using Exchange.Api.Policy;
using Exchange.Api.Purpose;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;
using Microsoft.Net.Http.Headers;
using JsonOptions = Microsoft.AspNetCore.Http.Json.JsonOptions;

namespace Exchange.Api.Cohort;

/// <summary>The cohort's cursor: the last child id of a page, opaque to the caller.</summary>
public static class CohortCursor
{
    private const string Prefix = "cohort:";

    public static string Encode(string childId) => Base64UrlEncoder.Encode(Encoding.UTF8.GetBytes(Prefix + childId));

    public static bool TryDecode(string? cursor, out string? childId)
    {
        childId = null;
        if (cursor is null)
        {
            return true;
        }

        if (cursor.Length is 0 or > 64 || !cursor.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
        {
            return false;
        }

        try
        {
            var text = Encoding.UTF8.GetString(Base64UrlEncoder.DecodeBytes(cursor));
            if (!text.StartsWith(Prefix, StringComparison.Ordinal) || !Ids.LooksLikeChildId(text[Prefix.Length..]))
            {
                return false;
            }

            childId = text[Prefix.Length..];
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}

/// <summary>
/// <c>GET /v1/cohort</c>: the virtual school's list of every child in its council's care (docs/COHORT.md), as JSON or,
/// with <c>Accept: text/csv</c>, as a report file. The social worker gets the same rows within its mask.
/// </summary>
public static partial class CohortApi
{
    public static IEndpointRouteBuilder MapCohortApi(this IEndpointRouteBuilder app)
    {
        app.MapGroup("/v1/cohort").WithTags("Cohort").RequirePurposeOfUse()
            .MapGet("/", ListAsync).Audited("cohort.list", CohortService.Category, [.. Declared])
            // Decided per child inside the handler, for a chunk of children at once; a role with no rule is refused here.
            .Decides("read", noChild: true, findsChild: true);
        return app;
    }

    /// <summary>What the endpoint declares it releases (<see cref="AuditedEndpoint.Fields"/>).</summary>
    private static readonly string[] Declared = ["items"];

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,7})?(Z|[+-]\d{2}:\d{2})$", RegexOptions.CultureInvariant, 1000)]
    private static partial Regex Rfc3339();

    private static async Task<IResult> ListAsync(
        HttpContext http, CohortService cohort, ChildDecisions childDecisions, AuditTrail audit, IOptions<JsonOptions> json, TimeProvider clock, CancellationToken ct)
    {
        var query = http.Request.Query;
        // Each parameter once: a repeated one would be ambiguous (flag may repeat).
        if (query["cursor"].Count > 1 || !CohortCursor.TryDecode(query["cursor"].FirstOrDefault(), out var after))
        {
            return Problems.Result(ProblemTypes.CohortCursor);
        }

        var limit = CohortService.DefaultLimit;
        if (query.TryGetValue("limit", out var limits) && (limits.Count != 1
                || !int.TryParse(limits[0], NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit is < 1 or > CohortService.MaxLimit))
        {
            return Problems.Result(ProblemTypes.CohortLimit);
        }

        var flags = query["flag"].SelectMany(f => (f ?? "").Split(',')).ToList();
        if (flags.Any(f => !CohortFlags.All.Contains(f, StringComparer.Ordinal)))
        {
            return Problems.Result(ProblemTypes.CohortFlag);
        }

        string? schoolCouncil = null;
        if (query.TryGetValue("schoolLa", out var councils))
        {
            if (councils.Count != 1 || !IdentifierRules.IsLaNumber(councils[0]))
            {
                return Problems.Result(ProblemTypes.CohortSchoolCouncil);
            }

            schoolCouncil = councils[0];
        }

        DateTimeOffset? updatedSince = null;
        if (query.TryGetValue("updatedSince", out var since))
        {
            if (since.Count != 1 || since[0] is not { Length: <= 40 } text || !Rfc3339().IsMatch(text)
                || !DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var at)
                || at > clock.GetUtcNow().AddMinutes(1) || at.Year < 2000)
            {
                return Problems.Result(ProblemTypes.CohortUpdatedSince);
            }

            updatedSince = at;
        }

        var caller = Caller.From(http.User);
        var purpose = PurposeOfUse.Of(http)!;
        // A filter on a field the caller may not see would tell it that field's value: refused whatever the data holds.
        // (schoolLa filters on schoolCouncil; named like the placements' hostLa, and not after the field, which the
        // decision point would refuse before the handler decides on the children.)
        var visible = cohort.FieldsFor(caller, purpose);
        if ((schoolCouncil is not null && !visible.Contains("schoolCouncil")) || (flags.Count > 0 && !visible.Contains("flags")))
        {
            return Problems.Result(ProblemTypes.FilterNotPermitted, "You may not filter the cohort by a field you may not see.");
        }

        // The request names every child it tells about, each in its own event (as the event feed does), appended chunk by
        // chunk while the next is read; all of them are durable before the answer leaves (AuditTrail.RecordAsync). They
        // name the fields the answer releases, as the request's own event will once the answer is made.
        var csv = WantsCsv(http.Request);
        var result = await cohort.PageAsync(caller, purpose, new CohortQuery(after, limit, flags.Distinct(StringComparer.Ordinal).ToList(), schoolCouncil, updatedSince),
            (permit, listed) =>
            {
                childDecisions.AdoptBatch(permit);
                audit.Decided(permit.Decision, permit.BreakGlassGrant?.ToString(), AnswerFields.Narrow(permit.Decision.Fields, csv ? null : typeof(CohortPage), json.Value.SerializerOptions, Declared));
                audit.DisclosingAhead(listed, ct);
            }, ct).ConfigureAwait(false);
        childDecisions.AdoptBatch(result.AnyPermit);
        audit.AlsoAbout(result.Page.Items.Select(r => r.ChildId));

        if (!csv)
        {
            return TypedResults.Ok(result.Page);
        }

        if (result.Page.Next is { } next)
        {
            var link = QueryHelpers.AddQueryString(http.Request.Path, query.Where(q => q.Key != "cursor").SelectMany(q => q.Value.Select(v => new KeyValuePair<string, string?>(q.Key, v)))
                .Append(new KeyValuePair<string, string?>("cursor", next)));
            http.Response.Headers.Link = $"<{link}>; rel=\"next\"";
        }

        var fields = result.AnyPermit?.Decision.Fields ?? (IReadOnlyList<string>)visible.ToList();
        return Results.Text(CohortCsv.Write(result.Page.Items, fields), "text/csv; charset=utf-8", Encoding.UTF8);
    }

    /// <summary>CSV when the caller prefers it to JSON (by the Accept header's order of preference).</summary>
    private static bool WantsCsv(HttpRequest request)
    {
        if (!MediaTypeHeaderValue.TryParseList(request.Headers.Accept, out var accepted))
        {
            return false;
        }

        double Quality(string type) => accepted.Where(a => a.MediaType.Equals(type, StringComparison.OrdinalIgnoreCase)).Select(a => a.Quality ?? 1).DefaultIfEmpty(-1).Max();
        var csv = Quality("text/csv");
        return csv > 0 && csv > Quality("application/json") && csv > Quality("*/*");
    }
}

/// <summary>The cohort as a report file: a header row, one row per child, UTF-8, RFC 4180 quoting; only the columns the caller may see.</summary>
public static class CohortCsv
{
    public static readonly IReadOnlyList<(string Field, Func<CohortRow, string?> Value)> Columns =
    [
        ("childId", r => r.ChildId),
        ("school", r => r.School),
        ("schoolCouncil", r => r.SchoolCouncil),
        ("placementCouncil", r => r.PlacementCouncil),
        ("possibleSessions", r => Number(r.PossibleSessions)),
        ("attendedSessions", r => Number(r.AttendedSessions)),
        ("authorisedAbsence", r => Number(r.AuthorisedAbsence)),
        ("unauthorisedAbsence", r => Number(r.UnauthorisedAbsence)),
        ("attendanceRate", r => r.AttendanceRate?.ToString("0.0", CultureInfo.InvariantCulture)),
        ("openExclusions", r => Number(r.OpenExclusions)),
        ("pepStatus", r => r.PepStatus),
        ("reviewDue", r => r.ReviewDue),
        // Flags in one cell, separated by spaces: a spreadsheet filters on "contains".
        ("flags", r => string.Join(' ', r.Flags)),
    ];

    private static string? Number(int? value) => value?.ToString(CultureInfo.InvariantCulture);

    public static string Write(IReadOnlyList<CohortRow> rows, IReadOnlyList<string> released)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(released);
        var columns = Columns.Where(c => released.Contains(c.Field, StringComparer.Ordinal)).ToList();
        using var text = new StringWriter(CultureInfo.InvariantCulture);
        // Nothing in a row is free text, but a cell starting with = + - @ is still escaped against formula injection.
        var configuration = new CsvConfiguration(CultureInfo.InvariantCulture) { NewLine = "\r\n", InjectionOptions = InjectionOptions.Escape };
        using (var csv = new CsvWriter(text, configuration))
        {
            foreach (var (field, _) in columns)
            {
                csv.WriteField(field);
            }

            csv.NextRecord();
            foreach (var row in rows)
            {
                foreach (var (_, value) in columns)
                {
                    csv.WriteField(value(row) ?? "");
                }

                csv.NextRecord();
            }
        }

        return text.ToString();
    }
}
