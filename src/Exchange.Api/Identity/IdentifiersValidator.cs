using Exchange.Api.Errors;
using Exchange.Api.Storage;
using FluentValidation;
using Microsoft.EntityFrameworkCore;

namespace Exchange.Api.Identity;

/// <summary>Every identifier rule of DATA.md. Messages say which rule failed and never repeat the value.</summary>
public sealed class IdentifiersValidator : AbstractValidator<IdentifiersDto>
{
    public IdentifiersValidator(ExchangeDbContext db)
    {
        RuleFor(x => x)
            .Must(x => x.NhsNumber is not null || x.Upn is not null || x.LaChildId is not null)
            .WithErrorCode(ProblemTypes.IdentifiersRequired.Code)
            .WithMessage("Give at least one of nhsNumber, upn or laChildId.")
            .OverridePropertyName("any");

        // An identifier that is given must be one: a blank value is a format error, not an absent identifier.
        When(x => x.NhsNumber is not null, () =>
        {
            RuleFor(x => x.NhsNumber!)
                .Cascade(CascadeMode.Stop)
                .Must(v => IdentifierRules.CheckNhsNumber(IdentifierRules.NormaliseNhsNumber(v)) != IdentifierRules.NhsCheck.Format)
                .WithErrorCode(ProblemTypes.NhsNumberFormat.Code)
                .WithMessage("nhsNumber must be exactly 10 digits (spaces and hyphens between groups are allowed).")
                .Must(v => IdentifierRules.CheckNhsNumber(IdentifierRules.NormaliseNhsNumber(v)) == IdentifierRules.NhsCheck.Valid)
                .WithErrorCode(ProblemTypes.NhsNumberInvalid.Code)
                .WithMessage("nhsNumber fails the Modulus 11 check: its last digit does not match the first nine. Check it for a mistyped digit.")
                .OverridePropertyName("nhsNumber");
        });

        When(x => x.Upn is not null, () =>
        {
            RuleFor(x => x.Upn!)
                .Cascade(CascadeMode.Stop)
                .Must(v => IdentifierRules.CheckUpn(IdentifierRules.NormaliseUpn(v), out _) != IdentifierRules.UpnCheck.Placeholder)
                .WithErrorCode(ProblemTypes.UpnPlaceholder.Code)
                .WithMessage("upn is one of the placeholders used when a UPN is unknown, not a UPN; leave upn out instead.")
                .Must(v => IdentifierRules.CheckUpn(IdentifierRules.NormaliseUpn(v), out _) != IdentifierRules.UpnCheck.Format)
                .WithErrorCode(ProblemTypes.UpnFormat.Code)
                .WithMessage("upn must be 13 characters: a check letter, 11 digits, and a final digit (or letter for a temporary UPN); I, O and S are never used.")
                .Must(v => IdentifierRules.CheckUpn(IdentifierRules.NormaliseUpn(v), out _) == IdentifierRules.UpnCheck.Valid)
                .WithErrorCode(ProblemTypes.UpnCheckLetter.Code)
                .WithMessage("upn check letter does not match the other 12 characters. Check it for a mistyped character.")
                .OverridePropertyName("upn");
        });

        When(x => x.LaChildId is not null, () =>
        {
            RuleFor(x => x.LaChildId!.La)
                .Cascade(CascadeMode.Stop)
                .Must(IdentifierRules.IsLaNumber)
                .WithErrorCode(ProblemTypes.LaNumberFormat.Code)
                .WithMessage("laChildId.la must be the council's three-digit LA number.")
                .MustAsync(async (la, ct) => await db.Organisations.AsNoTracking()
                    .AnyAsync(o => o.Kind == OrganisationKind.Council && o.LaNumber == la, ct).ConfigureAwait(false))
                .WithErrorCode(ProblemTypes.LaNumberUnknown.Code)
                .WithMessage("laChildId.la is not the LA number of a registered council.")
                .OverridePropertyName("laChildId.la");

            RuleFor(x => x.LaChildId!.Id)
                .Must(id => id is not null && IdentifierRules.IsLaChildId(IdentifierRules.NormaliseLaChildId(id)))
                .WithErrorCode(ProblemTypes.LaChildIdFormat.Code)
                .WithMessage("laChildId.id must be 1 to 50 letters, digits or / _ . - characters.")
                .OverridePropertyName("laChildId.id");
        });
    }
}

public sealed class RegisterChildRequestValidator : AbstractValidator<RegisterChildRequest>
{
    public RegisterChildRequestValidator(IdentifiersValidator identifiers, TimeProvider clock)
    {
        RuleFor(x => x.Identifiers)
            .NotNull().WithErrorCode(ProblemTypes.IdentifiersRequired.Code).WithMessage("identifiers is required.")
            .SetValidator(identifiers!)
            .OverridePropertyName("identifiers");

        RuleFor(x => x.CareEpisode)
            .Must(c => c?.StartDate is { } s
                && DateOnly.TryParseExact(s, "yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.None, out var date)
                && date <= DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime)
                && date >= DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime).AddYears(-26))
            .WithErrorCode(ProblemTypes.CareEpisodeStartDate.Code)
            .WithMessage("careEpisode.startDate must be a date (YYYY-MM-DD), not in the future and within the last 26 years.")
            .OverridePropertyName("careEpisode.startDate");
    }
}

public sealed class ResolveIdentityRequestValidator : AbstractValidator<ResolveIdentityRequest>
{
    public ResolveIdentityRequestValidator(IdentifiersValidator identifiers)
    {
        RuleFor(x => x.Identifiers)
            .NotNull().WithErrorCode(ProblemTypes.IdentifiersRequired.Code).WithMessage("identifiers is required.")
            .SetValidator(identifiers!)
            .OverridePropertyName("identifiers");
    }
}
