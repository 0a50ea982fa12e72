using System.Text.RegularExpressions;
using Exchange.Api.Errors;
using Exchange.Api.Identity;
using Exchange.Api.Storage;
using FluentValidation;
using Microsoft.EntityFrameworkCore;

namespace Exchange.Api.Organisations;

public sealed record RegisterOrganisationRequest(string? Id, string? Name, string? LaNumber);

public sealed record OrganisationView(string Id, string Kind, string Name, string? LaNumber, bool Active, DateTimeOffset CreatedAt, DateTimeOffset? DeactivatedAt)
{
    public static OrganisationView Of(Organisation o)
    {
        ArgumentNullException.ThrowIfNull(o);
        return new(o.Id, o.Kind.ToString().ToLowerInvariant(), o.Name, o.LaNumber, o.Active, o.CreatedAt, o.DeactivatedAt);
    }
}

public static partial class OrganisationIds
{
    // Councils by LA number, schools by 6-digit URN, health bodies by ODS code.
    [GeneratedRegex(@"^(?:la:[0-9]{3}|school:[0-9]{6}|health:[A-Z0-9]{3,10})\z", RegexOptions.CultureInvariant)]
    private static partial Regex Shape();

    public static bool IsValid(string? id) => id is not null && Shape().IsMatch(id);

    public static OrganisationKind KindOf(string id) =>
        id.StartsWith("la:", StringComparison.Ordinal) ? OrganisationKind.Council
        : id.StartsWith("school:", StringComparison.Ordinal) ? OrganisationKind.School
        : OrganisationKind.Health;
}

public sealed class RegisterOrganisationRequestValidator : AbstractValidator<RegisterOrganisationRequest>
{
    public RegisterOrganisationRequestValidator(ExchangeDbContext db)
    {
        RuleFor(x => x.Id)
            .Must(OrganisationIds.IsValid)
            .WithErrorCode(ProblemTypes.OrganisationIdFormat.Code)
            .WithMessage("id must be la:<3-digit LA number>, school:<6-digit URN> or health:<ODS code of 3 to 10 upper-case letters and digits>.");

        RuleFor(x => x.Name)
            // Control characters (line breaks, escapes) in a name would reach every screen and report that shows it.
            .Must(n => !string.IsNullOrWhiteSpace(n) && n.Length <= 200 && !n.Any(char.IsControl))
            .WithErrorCode(ProblemTypes.OrganisationNameRequired.Code)
            .WithMessage("name is required: at most 200 characters, not only spaces, and no control characters.");

        When(x => OrganisationIds.IsValid(x.Id), () =>
        {
            RuleFor(x => x.LaNumber)
                .Cascade(CascadeMode.Stop)
                .Must((request, la) => OrganisationIds.KindOf(request.Id!) switch
                {
                    OrganisationKind.School => IdentifierRules.IsLaNumber(la),
                    OrganisationKind.Council => la is null || la == request.Id![3..],
                    _ => la is null,
                })
                .WithErrorCode(ProblemTypes.SchoolLaNumberRequired.Code)
                .WithMessage("laNumber: a school needs the three-digit LA number it is in; a council's is its own; a health body takes none.")
                .MustAsync(async (request, la, ct) => OrganisationIds.KindOf(request.Id!) != OrganisationKind.School
                    || await db.Organisations.AsNoTracking().AnyAsync(o => o.Kind == OrganisationKind.Council && o.LaNumber == la, ct).ConfigureAwait(false))
                .WithErrorCode(ProblemTypes.SchoolLaNumberRequired.Code)
                .WithMessage("laNumber is not the LA number of a registered council; register the council first.");
        });
    }
}
