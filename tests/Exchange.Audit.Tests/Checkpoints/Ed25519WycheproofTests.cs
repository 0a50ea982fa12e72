using System.Text.Json;
using Exchange.Audit.Tests.Merkle;
using NSec.Cryptography;

namespace Exchange.Audit.Tests.Checkpoints;

/// <summary>
/// Every Project Wycheproof Ed25519 verification case (shared/testvectors/wycheproof/ed25519_test.json)
/// through NSec's Ed25519 verify, the primitive <c>NoteVerifier</c> uses: "valid" must verify, "invalid" must not.
/// </summary>
public class Ed25519WycheproofTests
{
    private const string VectorFile = "wycheproof/ed25519_test.json";

    private static readonly Lazy<Dictionary<int, (byte[] PublicKey, JsonElement Test)>> Vectors = new(Load);

    public static TheoryData<int> Cases()
    {
        var data = new TheoryData<int>();
        if (TestVectors.Root is null || !File.Exists(Path.Combine(TestVectors.Root, VectorFile)))
        {
            data.Add(-1);
            return data;
        }

        foreach (var id in Vectors.Value.Keys.Order())
        {
            data.Add(id);
        }

        return data;
    }

    [SkippableTheory]
    [MemberData(nameof(Cases))]
    public void WycheproofEd25519CaseVerifiesExactlyWhenValid(int tcId)
    {
        if (tcId < 0)
        {
            TestVectors.Require(TestVectors.MissingPlaceholder);
        }

        var (publicKeyBytes, test) = Vectors.Value[tcId];
        var message = Convert.FromHexString(test.GetProperty("msg").GetString()!);
        var signature = Convert.FromHexString(test.GetProperty("sig").GetString()!);
        var result = test.GetProperty("result").GetString();

        var verified = PublicKey.TryImport(SignatureAlgorithm.Ed25519, publicKeyBytes, KeyBlobFormat.RawPublicKey, out var publicKey)
            && publicKey is not null
            && SignatureAlgorithm.Ed25519.Verify(publicKey, message, signature);

        var label = $"tcId {tcId} ({string.Join(",", test.GetProperty("flags").EnumerateArray().Select(f => f.GetString()))}) {test.GetProperty("comment").GetString()}";
        switch (result)
        {
            case "valid":
                Assert.True(verified, $"{label}: a valid signature did not verify");
                break;
            case "invalid":
                Assert.False(verified, $"{label}: an invalid signature verified");
                break;
            default:
                // "acceptable": either verdict is allowed (none occur in this file).
                break;
        }
    }

    [SkippableFact]
    public void WycheproofEd25519FileHoldsEveryAdvertisedCase()
    {
        using var json = JsonDocument.Parse(File.ReadAllBytes(TestVectors.Require(VectorFile)));
        Assert.Equal(json.RootElement.GetProperty("numberOfTests").GetInt32(), Vectors.Value.Count);
        Assert.Contains(Vectors.Value.Values, v => v.Test.GetProperty("result").GetString() == "valid");
        Assert.Contains(Vectors.Value.Values, v => v.Test.GetProperty("result").GetString() == "invalid");
    }

    private static Dictionary<int, (byte[] PublicKey, JsonElement Test)> Load()
    {
        using var json = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(TestVectors.Root!, VectorFile)));
        var cases = new Dictionary<int, (byte[], JsonElement)>();
        foreach (var group in json.RootElement.GetProperty("testGroups").EnumerateArray())
        {
            var publicKey = Convert.FromHexString(group.GetProperty("publicKey").GetProperty("pk").GetString()!);
            foreach (var test in group.GetProperty("tests").EnumerateArray())
            {
                cases.Add(test.GetProperty("tcId").GetInt32(), (publicKey, test.Clone()));
            }
        }

        return cases;
    }
}
