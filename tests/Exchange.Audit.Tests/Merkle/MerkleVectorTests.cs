using System.Text.Json;
using Exchange.Audit.Merkle;

namespace Exchange.Audit.Tests.Merkle;

/// <summary>Every transparency-dev/merkle inclusion and consistency vector; see shared/testvectors/README.md.</summary>
public class MerkleVectorTests
{
    public static TheoryData<string> InclusionVectors() => TestVectors.Files("merkle/inclusion");

    public static TheoryData<string> ConsistencyVectors() => TestVectors.Files("merkle/consistency");

    [SkippableTheory]
    [MemberData(nameof(InclusionVectors))]
    public void InclusionVectorVerifiesExactlyWhenWantErrIsFalse(string vector)
    {
        using var json = JsonDocument.Parse(File.ReadAllBytes(TestVectors.Require(vector)));
        var v = json.RootElement;

        var result = MerkleProofVerifier.VerifyInclusion(
            Size(v, "leafIdx"), Size(v, "treeSize"), Hash(v, "leafHash"), Proof(v), Hash(v, "root"));

        Assert.True(result.IsValid != v.GetProperty("wantErr").GetBoolean(),
            $"{v.GetProperty("desc").GetString()}: got {result.Failure} ({result.Detail})");
    }

    [SkippableTheory]
    [MemberData(nameof(ConsistencyVectors))]
    public void ConsistencyVectorVerifiesExactlyWhenWantErrIsFalse(string vector)
    {
        using var json = JsonDocument.Parse(File.ReadAllBytes(TestVectors.Require(vector)));
        var v = json.RootElement;

        var result = MerkleProofVerifier.VerifyConsistency(
            Size(v, "size1"), Size(v, "size2"), Proof(v), Hash(v, "root1"), Hash(v, "root2"));

        Assert.True(result.IsValid != v.GetProperty("wantErr").GetBoolean(),
            $"{v.GetProperty("desc").GetString()}: got {result.Failure} ({result.Detail})");
    }

    // Sizes are uint64 upstream; the "minus one" probes wrap to 2^64-1, which reinterpreted as
    // long is -1: the verifier must reject it just as the Go verifier rejects 2^64-1.
    private static long Size(JsonElement v, string name) => unchecked((long)v.GetProperty(name).GetUInt64());

    private static byte[] Hash(JsonElement v, string name) => Convert.FromBase64String(v.GetProperty(name).GetString()!);

    // A JSON null proof is Go's nil slice: an empty proof.
    private static byte[][] Proof(JsonElement v) =>
        v.GetProperty("proof") is { ValueKind: JsonValueKind.Array } proof
            ? proof.EnumerateArray().Select(e => Convert.FromBase64String(e.GetString()!)).ToArray()
            : [];
}
