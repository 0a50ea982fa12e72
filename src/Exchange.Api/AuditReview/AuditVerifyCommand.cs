using Exchange.Audit.Offline;

namespace Exchange.Api.AuditReview;

/// <summary>
/// <c>audit verify --export entries.jsonl --checkpoint checkpoint.txt --key "name+keyid+base64"</c>
/// (or <c>--key-file</c>): checks an audit export against a signed checkpoint offline, with no
/// database and no server. Exit code 0 when it holds, 1 when it does not (naming the first bad entry), 2 on usage.
/// </summary>
public static class AuditVerifyCommand
{
    public const string Verb = "audit";

    private const string Usage = "Usage: audit verify --export <entries.jsonl> --checkpoint <signed checkpoint file> (--key <verifier key> | --key-file <file>)";

    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        if (args.FirstOrDefault() != "verify")
        {
            error.WriteLine(Usage);
            return 2;
        }

        string? export = null, checkpoint = null, key = null;
        for (var i = 1; i < args.Length; i++)
        {
            var value = i + 1 < args.Length ? args[i + 1] : null;
            switch (args[i])
            {
                case "--export" when value is not null: export = value; i++; break;
                case "--checkpoint" when value is not null: checkpoint = value; i++; break;
                case "--key" when value is not null: key = value; i++; break;
                case "--key-file" when value is not null && File.Exists(value): key = File.ReadAllText(value).Trim(); i++; break;
                default:
                    error.WriteLine($"Unknown or incomplete argument '{args[i]}'.");
                    error.WriteLine(Usage);
                    return 2;
            }
        }

        if (export is null || checkpoint is null || key is null || !File.Exists(export) || !File.Exists(checkpoint))
        {
            error.WriteLine("--export and --checkpoint must name existing files, and a key is required.");
            error.WriteLine(Usage);
            return 2;
        }

        using var reader = new StreamReader(export);
        var result = OfflineAuditVerifier.Verify(reader, File.ReadAllText(checkpoint), key);
        (result.IsValid ? output : error).WriteLine(result.Message);
        return result.IsValid ? 0 : 1;
    }
}
