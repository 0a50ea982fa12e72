using Exchange.Api.Policy;
using Exchange.Api.Storage;
using Microsoft.EntityFrameworkCore;

namespace Exchange.Api.Consents;

/// <summary>
/// The consents that cover a recipient organisation for a child, as the engine's <see cref="ConsentFact"/>s. A
/// withdrawn consent covers nothing from the day it was withdrawn: withdrawal takes effect on the next decision.
/// </summary>
public sealed class ConsentFacts(ExchangeDbContext db) : IConsentFacts
{
    public async Task<IReadOnlyList<ConsentFact>> ForAsync(string recipient, string childId, CancellationToken ct) =>
        (await ForManyAsync(recipient, [childId], ct).ConfigureAwait(false)).GetValueOrDefault(childId) ?? [];

    public async Task<IReadOnlyDictionary<string, IReadOnlyList<ConsentFact>>> ForManyAsync(string recipient, IReadOnlyCollection<string> childIds, CancellationToken ct)
    {
        var ids = childIds.Distinct(StringComparer.Ordinal).ToList();
        var records = await db.Consents.AsNoTracking().Where(c => EF.Parameter(ids).Contains(c.ChildId)).ToListAsync(ct).ConfigureAwait(false);
        return records.Where(c => c.Recipients.Contains(recipient))
            .GroupBy(c => c.ChildId, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => (IReadOnlyList<ConsentFact>)g
                .SelectMany(c => c.Categories.SelectMany(category => c.Purposes.Select(purpose => new ConsentFact(category, purpose, c.From, Until(c)))))
                .Where(f => f.Until is null || f.Until >= f.From)
                .ToList(), StringComparer.Ordinal);
    }

    // Withdrawn on day D: the consent last covered day D - 1.
    private static DateOnly? Until(ConsentRecord c) => c.WithdrawnAt is { } withdrawn
        ? Min(c.Until, DateOnly.FromDateTime(withdrawn.UtcDateTime).AddDays(-1))
        : c.Until;

    private static DateOnly Min(DateOnly? a, DateOnly b) => a is { } x && x < b ? x : b;
}
