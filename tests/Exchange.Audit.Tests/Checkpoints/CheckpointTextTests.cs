using Exchange.Audit.Checkpoints;
using Exchange.Audit.Merkle;

namespace Exchange.Audit.Tests.Checkpoints;

/// <summary>The C2SP tlog-checkpoint note text: rendering and strict parsing.</summary>
public class CheckpointTextTests
{
    // SHA-256("") = the RFC 6962 root of the empty tree.
    private const string EmptyRoot = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";

    [Fact]
    public void CheckpointRendersAsOriginSizeAndBase64RootLines()
    {
        var root = MerkleHash.LeafHash("a"u8);

        var text = new Checkpoint("exchange.example/audit", 7, root).ToNoteText();

        Assert.Equal($"exchange.example/audit\n7\n{Convert.ToBase64String(root)}\n", text);
    }

    [Fact]
    public void SpecExampleCheckpointBodyParsesAndRendersIdentically()
    {
        // The example in c2sp.org/tlog-checkpoint.
        const string text = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";

        var checkpoint = Checkpoint.Parse(text);

        Assert.Equal("example.com/behind-the-sofa", checkpoint.Origin);
        Assert.Equal(20852163, checkpoint.TreeSize);
        Assert.Equal(Convert.FromBase64String("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I="), checkpoint.RootHash.ToArray());
        Assert.Empty(checkpoint.Extensions);
        Assert.Equal(text, checkpoint.ToNoteText());
    }

    [Fact]
    public void EmptyTreeCheckpointHasSizeZeroAndTheEmptyRoot()
    {
        var checkpoint = Checkpoint.Parse($"log\n0\n{EmptyRoot}\n");

        Assert.Equal(0, checkpoint.TreeSize);
        Assert.Equal(MerkleHash.EmptyRoot.ToArray(), checkpoint.RootHash.ToArray());
    }

    [Fact]
    public void ExtensionLinesAreKeptInOrderAndRenderedBack()
    {
        var text = $"log\n5\n{EmptyRoot}\nfirst extension\n\u2014 second\n";

        var checkpoint = Checkpoint.Parse(text);

        Assert.Equal(["first extension", "\u2014 second"], checkpoint.Extensions);
        Assert.Equal(text, checkpoint.ToNoteText());
    }

    [Fact]
    public void LargestLongTreeSizeIsAccepted()
    {
        Assert.Equal(long.MaxValue, Checkpoint.Parse($"log\n{long.MaxValue}\n{EmptyRoot}\n").TreeSize);
    }

    public static TheoryData<string, string, string> MalformedTexts() => new()
    {
        { "empty text", "", "newline" },
        { "no final newline", $"log\n5\n{EmptyRoot}", "does not end with a newline" },
        { "root hash line missing", "log\n5\n", "root hash line" },
        { "only an origin", "log\n", "root hash line" },
        { "empty origin", $"\n5\n{EmptyRoot}\n", "origin line" },
        { "origin with a carriage return (CRLF)", $"log\r\n5\n{EmptyRoot}\n", "control character" },
        { "empty tree size", $"log\n\n{EmptyRoot}\n", "tree size" },
        { "leading zero", $"log\n05\n{EmptyRoot}\n", "leading zero" },
        { "two zeros", $"log\n00\n{EmptyRoot}\n", "leading zero" },
        { "plus sign", $"log\n+5\n{EmptyRoot}\n", "digits only" },
        { "minus sign", $"log\n-5\n{EmptyRoot}\n", "digits only" },
        { "leading space", $"log\n 5\n{EmptyRoot}\n", "digits only" },
        { "trailing space", $"log\n5 \n{EmptyRoot}\n", "digits only" },
        { "hex size", $"log\n0x5\n{EmptyRoot}\n", "digits only" },
        { "non-ASCII digit", $"log\n\u0665\n{EmptyRoot}\n", "digits only" },
        { "size beyond a long", $"log\n9223372036854775808\n{EmptyRoot}\n", "too large" },
        { "root without padding", $"log\n5\n{EmptyRoot.TrimEnd('=')}\n", "base64" },
        { "root with non-zero trailing bits", $"log\n5\n{EmptyRoot[..^2]}V=\n", "base64" },
        { "root with a space", $"log\n5\n{EmptyRoot[..4]} {EmptyRoot[4..]}\n", "base64" },
        { "root in URL-safe base64", $"log\n5\n{EmptyRoot.Replace('+', '-').Replace('/', '_')}\n", "base64" },
        { "root of 31 bytes", $"log\n5\n{Convert.ToBase64String(new byte[31])}\n", "not 32" },
        { "root of 33 bytes", $"log\n5\n{Convert.ToBase64String(new byte[33])}\n", "not 32" },
        { "empty extension line", $"log\n5\n{EmptyRoot}\n\nextension\n", "Extension line 1" },
        { "blank line at the end", $"log\n5\n{EmptyRoot}\n\n", "Extension line 1" },
    };

    [Theory]
    [MemberData(nameof(MalformedTexts))]
    public void MalformedCheckpointTextIsRejectedWithAReason(string why, string text, string reason)
    {
        Assert.False(Checkpoint.TryParse(text, out var checkpoint, out var error), why);
        Assert.Null(checkpoint);
        Assert.Contains(reason, error, StringComparison.Ordinal);
        Assert.Equal(error, Assert.Throws<FormatException>(() => Checkpoint.Parse(text)).Message);
    }

    [Fact]
    public void CheckpointThatCannotBeWrittenAsANoteCannotBeCreated()
    {
        var root = new byte[MerkleHash.Size];

        Assert.Throws<ArgumentException>(() => new Checkpoint("", 1, root));
        Assert.Throws<ArgumentException>(() => new Checkpoint("log\nsize", 1, root));
        Assert.Throws<ArgumentException>(() => new Checkpoint("log\t", 1, root));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Checkpoint("log", -1, root));
        Assert.Throws<ArgumentException>(() => new Checkpoint("log", 1, new byte[31]));
        Assert.Throws<ArgumentException>(() => new Checkpoint("log", 1, root, [""]));
        Assert.Throws<ArgumentException>(() => new Checkpoint("log", 1, root, ["two\nlines"]));
    }

    [Fact]
    public void CheckpointKeepsItsOwnCopyOfTheRootHash()
    {
        var root = MerkleHash.LeafHash("a"u8);
        var checkpoint = new Checkpoint("log", 1, root);

        root[0] ^= 1;

        Assert.NotEqual(root, checkpoint.RootHash.ToArray());
    }
}
