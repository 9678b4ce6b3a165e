using System.Globalization;
using System.Text.Json;
using Attest.MediaBridge.Protocol;

namespace Attest.MediaBridge.Tests;

/// <summary>
/// The golden frames the TypeScript tests also read (test/fixtures/media-protocol-golden): this
/// encoder writes exactly their bytes and this decoder reads them back to the same frame.
/// </summary>
public sealed class GoldenFramesTests
{
    private static readonly string Folder = Path.Combine(RepoRoot.Path, "test", "fixtures", "media-protocol-golden");

    public static TheoryData<string> CaseNames()
    {
        var data = new TheoryData<string>();
        foreach (var name in Cases().Keys) data.Add(name);
        return data;
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void EncodesEachCaseToTheGoldenBytes(string name)
    {
        var frame = ToFrame(Cases()[name]);
        Assert.Equal(Convert.ToHexString(File.ReadAllBytes(GoldenFile(name))), Convert.ToHexString(MediaFrameEncoder.Encode(frame)));
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void DecodesTheGoldenBytesToTheCase(string name)
    {
        var result = MediaFrameDecoder.DecodeAll(File.ReadAllBytes(GoldenFile(name)));
        Assert.Null(result.Error);
        var decoded = Assert.Single(result.Frames);
        // Re-encoding what was decoded must give the same bytes, and the fields must match the case.
        Assert.Equal(Describe(ToFrame(Cases()[name])), Describe(decoded));
    }

    [Fact]
    public void DecodesTheGoldenFramesSplitAtEveryByte()
    {
        var all = Cases().Keys.Where(n => n is not ("hello" or "ack" or "error")).SelectMany(n => File.ReadAllBytes(GoldenFile(n))).ToArray();
        var decoder = new MediaFrameDecoder();
        var frames = new List<MediaFrame>();
        foreach (var b in all) frames.AddRange(decoder.Push([b]).Frames);
        Assert.Null(decoder.End());
        Assert.Equal(Cases().Count - 3, frames.Count);
    }

    private static string GoldenFile(string name) => Path.Combine(Folder, name + ".bin");

    private static Dictionary<string, JsonElement> Cases()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(Folder, "cases.json")));
        return doc.RootElement.GetProperty("cases").EnumerateArray()
            .ToDictionary(c => c.GetProperty("name").GetString()!, c => c.GetProperty("frame").Clone());
    }

    /// <summary>Field-by-field text of a frame (records compare memory by reference, not content).</summary>
    private static string Describe(MediaFrame frame) => frame switch
    {
        AudioMixedFrame m => $"{m with { Payload = default }} {Convert.ToHexString(m.Payload.Span)}",
        AudioUnmixedFrame u => $"{u with { Buffers = [] }} " + string.Join(';', u.Buffers.Select(b => $"{b.Msi}/{b.OriginalSenderTimestamp100Ns}/{Convert.ToHexString(b.Payload.Span)}")),
        VideoFrame v => $"{v with { Payload = default }} {Convert.ToHexString(v.Payload.Span)}",
        ActiveSpeakersFrame a => $"{a with { Msis = [] }} {string.Join(',', a.Msis)}",
        _ => frame.ToString(),
    };

    private static MediaFrame ToFrame(JsonElement json)
    {
        var session = Guid.Parse(json.GetProperty("sessionId").GetString()!);
        var sequence = json.GetProperty("sequence").GetUInt32();
        var timestamp = ulong.Parse(json.GetProperty("timestamp100ns").GetString()!, CultureInfo.InvariantCulture);
        var msi = json.GetProperty("msi").GetUInt32();
        byte[] Hex(JsonElement e, string property) => Convert.FromHexString(e.GetProperty(property).GetString()!);
        PayloadFormat Format() => (PayloadFormat)json.GetProperty("format").GetUInt16();
        return json.GetProperty("type").GetString() switch
        {
            "hello" => new HelloFrame(session, json.GetProperty("token").GetString()!),
            "audioMixed" => new AudioMixedFrame(session, sequence, timestamp, Format(), Hex(json, "payloadHex")),
            "audioUnmixed" => new AudioUnmixedFrame(session, sequence, timestamp, Format(), json.GetProperty("buffers").EnumerateArray()
                .Select(b => new UnmixedAudioBuffer(b.GetProperty("msi").GetUInt32(), ulong.Parse(b.GetProperty("originalSenderTimestamp100ns").GetString()!, CultureInfo.InvariantCulture), Hex(b, "payloadHex")))
                .ToList()),
            "video" or "vbss" => new VideoFrame(session, sequence, timestamp, msi, json.GetProperty("type").GetString() == "vbss", Format(),
                json.GetProperty("isKeyFrame").GetBoolean(), json.GetProperty("width").GetUInt16(), json.GetProperty("height").GetUInt16(), Hex(json, "payloadHex")),
            "dominantSpeaker" => new DominantSpeakerFrame(session, sequence, timestamp, json.GetProperty("dominantMsi").GetUInt32()),
            "activeSpeakers" => new ActiveSpeakersFrame(session, sequence, timestamp, json.GetProperty("msis").EnumerateArray().Select(m => m.GetUInt32()).ToList()),
            "streamState" => new StreamStateFrame(session, sequence, timestamp, msi, (StreamStateKind)json.GetProperty("streamKind").GetByte(), json.GetProperty("isActive").GetBoolean(),
                json.TryGetProperty("gap", out var gap)
                    ? new StreamGap((StreamGapReason)gap.GetProperty("reason").GetByte(), gap.GetProperty("droppedFrames").GetUInt32(), ulong.Parse(gap.GetProperty("lastTimestamp100ns").GetString()!, CultureInfo.InvariantCulture))
                    : null),
            "end" => new EndFrame(session, sequence, timestamp),
            "ack" => new AckFrame(session, json.GetProperty("ackedSequence").GetUInt32(), json.GetProperty("nextSequence").GetUInt32()),
            "error" => new ErrorFrame(session, (MediaProtocolErrorCode)json.GetProperty("errorCode").GetUInt16(), json.GetProperty("message").GetString()!),
            var other => throw new InvalidOperationException($"unknown frame type {other}"),
        };
    }
}

/// <summary>The repository root, found from the test assembly's folder.</summary>
internal static class RepoRoot
{
    public static string Path { get; } = Find();

    private static string Find()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(System.IO.Path.Combine(dir.FullName, "package.json")) || dir is not null && !Directory.Exists(System.IO.Path.Combine(dir.FullName, "test", "fixtures")))
            dir = dir!.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("repository root not found above the test folder");
    }
}
