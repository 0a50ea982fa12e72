using System.Text.Json;
using Exchange.Api.Decisions;
using Exchange.Api.Auditing;
using Exchange.Api.Auditing.Storage;
using Exchange.Api.BreakGlass;
using Exchange.Api.Consents;
using Exchange.Api.Dates;
using Exchange.Api.Identity;
using Exchange.Api.Policy;
using Exchange.Api.Purpose;
using Exchange.Api.Restrictions;
using Exchange.Api.Storage;
using Exchange.Crypto.Sealing;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Exchange.Api.SubjectAccess;

public sealed record IdentifierView(string Type, string Value, bool Temporary, DateTimeOffset LinkedAt, string LinkedBy);

public sealed record CareEpisodeExport(Guid Id, string ResponsibleLa, string StartDate, string? EndDate);

public sealed record RelationshipExport(Guid Id, string Kind, string Organisation, string StartDate, string? EndDate, string RecordedBy);

/// <summary>
/// A restriction or objection, who recorded it with which authority, and for a lifted restriction when the data subject
/// was told; its reason is null once the child's data has been erased.
/// </summary>
public sealed record ProcessingLimitExport(
    Guid Id, string Kind, bool Active, IReadOnlyList<string> Purposes, string? Reason, string RecordedBy, string Authority, string? DataSubjectInformedOn,
    DateTimeOffset RecordedAt);

public sealed record ConsentExport(ConsentView Consent, string RecordedBy);

/// <summary>When and by whom the child was first registered, and each merged id with when it was merged.</summary>
public sealed record RegistrationExport(DateTimeOffset CreatedAt, string CreatedBy, IReadOnlyList<MergedIdExport> Merged);

public sealed record MergedIdExport(string ChildId, DateTimeOffset? MergedAt, DateTimeOffset CreatedAt, string CreatedBy);

public sealed record BreakGlassExport(Guid Id, string Organisation, DateTimeOffset StartsAt, DateTimeOffset ExpiresAt, string? Reason);

/// <summary>An attendance mark a school sent, replaced ones included.</summary>
public sealed record AttendanceExport(string Date, string Session, string Code, int? MinutesLate, string RecordedBy, DateTimeOffset RecordedAt, DateTimeOffset? ReplacedAt);

/// <summary>One version of the child's PEP: its status and dates, and (until erasure) what it says, health section included.</summary>
public sealed record PepExport(
    string ChildId, int Version, string Status, string MeetingDate, string? NextReviewDate, string? Quality, System.Text.Json.JsonElement? Content, string? HealthSection, string? ReturnReason,
    string RecordedBy, DateTimeOffset RecordedAt);

/// <summary>One access to the child's data: which organisation, in which role, did what, why, and whether it was allowed.</summary>
public sealed record AccessExport(
    long Index, DateTimeOffset Time, string? Organisation, IReadOnlyList<string> Roles, string? Action, string? Category,
    string? Purpose, string? Decision, string? Rule, string? LawfulBasis, IReadOnlyList<string> Fields);

/// <summary>
/// Everything the exchange holds about one child, for a subject access request (UK GDPR Art. 15). For an erased child
/// (<c>ErasedAt</c> set) that is what is still held under the pseudonymous id, without identifiers or sealed text.
/// </summary>
public sealed record SubjectAccessExport(
    string ChildId, DateTimeOffset GeneratedAt, DateTimeOffset? ErasedAt, RegistrationExport Registration, IReadOnlyList<IdentifierView> Identifiers,
    IReadOnlyList<CareEpisodeExport> CareEpisodes, IReadOnlyList<RelationshipExport> Relationships, IReadOnlyList<ConsentExport> Consents,
    IReadOnlyList<ProcessingLimitExport> ProcessingLimits, IReadOnlyList<BreakGlassExport> BreakGlassGrants,
    IReadOnlyList<Exclusions.ExclusionView> Exclusions, IReadOnlyList<AttendanceExport> Attendance, IReadOnlyList<PepExport> Peps, IReadOnlyList<AccessExport> AccessLog);

/// <summary>
/// <c>GET /v1/children/{childId}/subject-access-export</c>: the operator's DPO answers a subject access request
/// with the child's identifiers (opened from their sealed copies), care episodes, relationships, consents,
/// restrictions and objections, break-glass grants with their reasons, exclusions with the school's words, attendance
/// marks (replaced ones included), and every access to the child's data
/// recorded in the audit log (Art. 15(1)(c): the recipients), with who recorded each fact (Art. 15(1)(g): the
/// source). Staff are named by organisation and role, not by their user ids. Records of ids merged into the child
/// are included, and the merged ids are listed. After erasure the export still answers (the only route that does):
/// the care episodes, relationships, consents, limits, grants and accesses held under the pseudonymous id, with no
/// identifiers, and every sealed text (reasons) reported as erased (null).
/// </summary>
public static class SubjectAccessApi
{
    public static IEndpointRouteBuilder MapSubjectAccessApi(this IEndpointRouteBuilder app)
    {
        app.MapGroup("/v1/children/{childId}").WithTags("Subject access").RequirePurposeOfUse()
            .MapGet("/subject-access-export", ExportAsync)
            .Audited("child.subject-access-export", "subject-access", "export")
            .Decides("read", servesErased: true);
        return app;
    }

    private static async Task<Ok<SubjectAccessExport>> ExportAsync(
        Decided decided, HttpContext http, ExchangeDbContext db, IdentifierProtector protector, FieldSealer sealer, AuditDatabase audit, TimeProvider clock, CancellationToken ct)
    {
        // The decision point has answered 404 for an id that names no registered child; an erased one is exported.
        var child = decided.ChildId;
        var record = await db.Children.AsNoTracking().FirstAsync(c => c.Id == child, ct).ConfigureAwait(false);

        // A merge moves most records to the survivor, but not all (a merged child's relationships that duplicate the
        // survivor's stay put): every table is read for the survivor and every id merged into it.
        var merged = await MergedIntoAsync(db, child, ct).ConfigureAwait(false);
        List<string> ids = [child, .. merged.Select(m => m.Id)];

        var identifiers = new List<IdentifierView>();
        foreach (var row in await db.ChildIdentifiers.AsNoTracking().Where(i => ids.Contains(i.ChildId)).OrderBy(i => i.LinkedAt).ToListAsync(ct).ConfigureAwait(false))
        {
            // A copy that fails its integrity check stops the export (500, an INTEGRITY event for the DPO): an
            // answer to a subject access request must not silently leave an identifier out.
            var opened = await protector.OpenAsync(row.Sealed, IdentityService.IdentifierEntity, row.ChildId, row.Id, ct).ConfigureAwait(false);
            identifiers.Add(new IdentifierView(row.Type, (opened as OpenedField.Opened)?.Value ?? "[erased]", row.IsTemporary, row.LinkedAt, row.LinkedByOrganisation));
        }

        var episodes = await db.CareEpisodes.AsNoTracking().Where(e => ids.Contains(e.ChildId)).OrderBy(e => e.StartDate).ToListAsync(ct).ConfigureAwait(false);
        var relationships = await db.ChildRelationships.AsNoTracking().Where(r => ids.Contains(r.ChildId)).OrderBy(r => r.StartDate).ToListAsync(ct).ConfigureAwait(false);
        var consents = await db.Consents.AsNoTracking().Where(c => ids.Contains(c.ChildId)).OrderBy(c => c.RecordedAt).ToListAsync(ct).ConfigureAwait(false);
        var limits = new List<ProcessingLimitExport>();
        foreach (var l in await db.ProcessingLimits.AsNoTracking().Where(l => ids.Contains(l.ChildId)).OrderBy(l => l.RecordedAt).ToListAsync(ct).ConfigureAwait(false))
        {
            // Erased (or recorded before reasons were sealed, when none is held): null. A tampered one stops the export.
            var reason = l.SealedReason.Length == 0 ? null
                : await sealer.OpenAsync(ProcessingLimitsApi.ReasonPlace(l.ChildId, l.Id), l.SealedReason, ct).ConfigureAwait(false);
            limits.Add(new ProcessingLimitExport(l.Id, l.Kind, l.Active, l.Purposes, (reason as OpenedField.Opened)?.Value, l.RecordedBy, l.Authority,
                l.DataSubjectInformedOn?.Iso(), l.RecordedAt));
        }

        var grants = new List<BreakGlassExport>();
        foreach (var g in await db.BreakGlassGrants.AsNoTracking().Where(g => ids.Contains(g.ChildId)).OrderBy(g => g.StartsAt).ToListAsync(ct).ConfigureAwait(false))
        {
            var reason = await sealer.OpenAsync(BreakGlassApi.ReasonPlace(g.ChildId, g.Id), g.SealedReason, ct).ConfigureAwait(false);
            grants.Add(new BreakGlassExport(g.Id, g.OrganisationId, g.StartsAt, g.ExpiresAt, (reason as OpenedField.Opened)?.Value));
        }

        var exclusions = new List<Exclusions.ExclusionView>();
        foreach (var x in (await db.Exclusions.AsNoTracking().Where(x => ids.Contains(x.ChildId)).ToListAsync(ct).ConfigureAwait(false)).OrderBy(x => x.RecordedAt))
        {
            var text = x.SealedReasonText.Length == 0 ? null
                : await sealer.OpenAsync(Exclusions.ExclusionService.ReasonPlace(x.ChildId, x.Id), x.SealedReasonText, ct).ConfigureAwait(false);
            exclusions.Add(new Exclusions.ExclusionView(x.Id, x.ChildId, x.Type, x.StartDate.Iso(), x.Sessions, x.ReasonCode, (text as OpenedField.Opened)?.Value,
                x.SchoolId, x.RecordedAt));
        }

        var attendance = (await db.AttendanceMarks.AsNoTracking().Where(m => ids.Contains(m.ChildId)).ToListAsync(ct).ConfigureAwait(false))
            .OrderBy(m => m.Date).ThenBy(m => m.Session, StringComparer.Ordinal).ThenBy(m => m.RecordedAt)
            .Select(m => new AttendanceExport(m.Date.Iso(), m.Session, m.Code, m.MinutesLate, m.SchoolId, m.RecordedAt, m.ReplacedAt)).ToList();

        var peps = new List<PepExport>();
        foreach (var v in (await db.PepVersions.AsNoTracking().Where(v => ids.Contains(v.ChildId)).ToListAsync(ct).ConfigureAwait(false)).OrderBy(v => v.RecordedAt).ThenBy(v => v.Version))
        {
            async Task<string?> OpenPart(string part, byte[] sealedValue) => sealedValue.Length == 0 ? null
                : (await sealer.OpenAsync(Peps.PepService.Place(v.ChildId, v.Id, part), sealedValue, ct).ConfigureAwait(false) as OpenedField.Opened)?.Value;
            peps.Add(new PepExport(v.ChildId, v.Version, v.Status, v.MeetingDate.Iso(), v.NextReviewDate?.Iso(), v.Quality,
                await OpenPart("content", v.SealedContent).ConfigureAwait(false) is { } content ? System.Text.Json.JsonDocument.Parse(content).RootElement.Clone() : null,
                await OpenPart("healthSection", v.SealedHealth).ConfigureAwait(false), await OpenPart("returnReason", v.SealedReturnReason).ConfigureAwait(false),
                v.RecordedBy, v.RecordedAt));
        }

        return TypedResults.Ok(new SubjectAccessExport(
            child, clock.GetUtcNow(), record.ErasedAt,
            new RegistrationExport(record.CreatedAt, record.CreatedByOrganisation,
                merged.Select(m => new MergedIdExport(m.Id, m.MergedAt, m.CreatedAt, m.CreatedByOrganisation)).ToList()),
            identifiers,
            episodes.Select(e => new CareEpisodeExport(e.Id, e.ResponsibleLaNumber, e.StartDate.Iso(), e.EndDate?.Iso())).ToList(),
            relationships.Select(r => new RelationshipExport(r.Id, r.Kind, r.OrganisationId, r.StartDate.Iso(), r.EndDate?.Iso(), r.RecordedBy)).ToList(),
            consents.Select(c => new ConsentExport(ConsentsApi.View(c), c.RecordedBy)).ToList(),
            limits,
            grants,
            exclusions,
            attendance,
            peps,
            await AccessLogAsync(audit, ids, ct).ConfigureAwait(false)));
    }

    /// <summary>Every child merged into this one, directly or through earlier merges.</summary>
    private static async Task<List<Child>> MergedIntoAsync(ExchangeDbContext db, string child, CancellationToken ct)
    {
        var found = new List<Child>();
        var pending = new List<string> { child };
        while (pending.Count > 0 && found.Count < 1000)
        {
            var current = pending;
            var next = await db.Children.AsNoTracking().Where(c => c.MergedIntoChildId != null && current.Contains(c.MergedIntoChildId))
                .ToListAsync(ct).ConfigureAwait(false);
            found.AddRange(next);
            pending = next.Select(c => c.Id).ToList();
        }

        return found;
    }

    private static async Task<List<AccessExport>> AccessLogAsync(AuditDatabase audit, List<string> children, CancellationToken ct)
    {
        await using var log = audit.Create();
        var rows = await log.Entries.AsNoTracking().Where(e => e.ChildId != null && children.Contains(e.ChildId))
            .OrderBy(e => e.Index).Select(e => new { e.Index, e.Leaf }).ToListAsync(ct).ConfigureAwait(false);
        return rows.Select(r => Access(r.Index, r.Leaf)).ToList();
    }

    private static AccessExport Access(long index, byte[] leaf)
    {
        using var document = JsonDocument.Parse(leaf);
        var e = document.RootElement;
        string? Text(JsonElement parent, string name) => parent.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
        IReadOnlyList<string> List(JsonElement parent, string name) => parent.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Array
            ? v.EnumerateArray().Select(x => x.GetString() ?? "").ToList()
            : [];
        var actor = e.TryGetProperty("actor", out var a) && a.ValueKind == JsonValueKind.Object ? a : default;
        return new AccessExport(
            index, DateTimeOffset.Parse(Text(e, "time")!, System.Globalization.CultureInfo.InvariantCulture),
            actor.ValueKind == JsonValueKind.Object ? Text(actor, "org") : null,
            actor.ValueKind == JsonValueKind.Object ? List(actor, "roles") : [],
            Text(e, "action"), Text(e, "category"), Text(e, "purpose"), Text(e, "decision"), Text(e, "rule"), Text(e, "lawful_basis"), List(e, "fields"));
    }
}
