using System.Globalization;
using Exchange.Api.Errors;
using Exchange.Api.Identity;

namespace Exchange.Api.RollCheck;

/// <summary>
/// Checks each pupil of a roll on its own, with the identifier rules of registration (DATA.md): a pupil with a
/// mistyped UPN is rejected with its index, the rest of the roll is still checked. Details name the rule, never the value.
/// </summary>
public static class RollPupils
{
    /// <summary>Largest roll one call may carry; a larger school sends its roll in parts.</summary>
    public const int MaxPerCall = 5_000;

    public sealed record Valid(int Index, IReadOnlyList<PresentedIdentifier> Identifiers);

    public static (List<Valid> Valid, List<RejectedItem> Rejected) Check(IReadOnlyList<RollPupil?> pupils, DateOnly today)
    {
        ArgumentNullException.ThrowIfNull(pupils);
        var valid = new List<Valid>(pupils.Count);
        var rejected = new List<RejectedItem>();
        for (var i = 0; i < pupils.Count; i++)
        {
            if (Problem(pupils[i], today) is { } problem)
            {
                rejected.Add(new RejectedItem(i, problem.Field, problem.Type.Code, problem.Detail));
                continue;
            }

            var pupil = pupils[i]!;
            var identifiers = new List<PresentedIdentifier>(2);
            if (!string.IsNullOrWhiteSpace(pupil.Upn))
            {
                var upn = IdentifierRules.NormaliseUpn(pupil.Upn);
                IdentifierRules.CheckUpn(upn, out var temporary);
                identifiers.Add(new(PresentedIdentifier.Upn, upn, temporary));
            }

            if (!string.IsNullOrWhiteSpace(pupil.NhsNumber))
            {
                identifiers.Add(new(PresentedIdentifier.Nhs, IdentifierRules.NormaliseNhsNumber(pupil.NhsNumber), false));
            }

            valid.Add(new Valid(i, identifiers));
        }

        return (valid, rejected);
    }

    private static (string Field, ProblemTypes.ProblemType Type, string Detail)? Problem(RollPupil? pupil, DateOnly today)
    {
        if (pupil is null || (string.IsNullOrWhiteSpace(pupil.Upn) && string.IsNullOrWhiteSpace(pupil.NhsNumber)))
        {
            return ("upn", ProblemTypes.IdentifiersRequired, "Give the pupil's upn or nhsNumber (or both).");
        }

        if (pupil.Upn is not null)
        {
            switch (IdentifierRules.CheckUpn(IdentifierRules.NormaliseUpn(pupil.Upn), out _))
            {
                case IdentifierRules.UpnCheck.Placeholder:
                    return ("upn", ProblemTypes.UpnPlaceholder, "upn is a placeholder used when a UPN is unknown; leave upn out instead.");
                case IdentifierRules.UpnCheck.Format:
                    return ("upn", ProblemTypes.UpnFormat, "upn must be 13 characters: a check letter, 11 digits, and a final digit (or letter for a temporary UPN).");
                case IdentifierRules.UpnCheck.CheckLetter:
                    return ("upn", ProblemTypes.UpnCheckLetter, "upn check letter does not match the other 12 characters.");
            }
        }

        if (pupil.NhsNumber is not null)
        {
            switch (IdentifierRules.CheckNhsNumber(IdentifierRules.NormaliseNhsNumber(pupil.NhsNumber)))
            {
                case IdentifierRules.NhsCheck.Format:
                    return ("nhsNumber", ProblemTypes.NhsNumberFormat, "nhsNumber must be exactly 10 digits (spaces and hyphens between groups are allowed).");
                case IdentifierRules.NhsCheck.CheckDigit:
                    return ("nhsNumber", ProblemTypes.NhsNumberInvalid, "nhsNumber fails the Modulus 11 check.");
            }
        }

        if (pupil.DateOfBirth is not null
            && (!DateOnly.TryParseExact(pupil.DateOfBirth, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var born)
                || born > today || born < today.AddYears(-26)))
        {
            return ("dateOfBirth", ProblemTypes.DateOfBirthFormat, "dateOfBirth must be a date (YYYY-MM-DD), not in the future and within the last 26 years.");
        }

        return null;
    }
}
