using Attest.MediaBridge.Forwarding;
using Attest.MediaBridge.Protocol;

namespace Attest.MediaBridge.Tests;

internal static class TestFrames
{
    public static readonly Guid Session = Guid.Parse("0f8fad5b-d9cb-469f-a165-70867728950e");

    /// <summary>Takes every queued frame and decodes it (numbering them 1, 2, 3, … as the link would).</summary>
    public static List<MediaFrame> Drain(CallFrameQueue queue)
    {
        var frames = new List<MediaFrame>();
        uint sequence = 1;
        while (queue.TryDequeue(out var frame))
        {
            MediaFrameEncoder.PatchSequence(frame.Span, sequence++);
            var result = MediaFrameDecoder.DecodeAll(frame.Span);
            Assert.Null(result.Error);
            frames.Add(Assert.Single(result.Frames));
            frame.Release();
        }
        return frames;
    }

    /// <summary>A queued frame that stands for one media frame at <paramref name="timestamp"/>.</summary>
    public static OutboundFrame Media(long timestamp) =>
        OutboundFrame.FromEncoded(MediaFrameEncoder.Encode(new AudioMixedFrame(Session, 0, (ulong)timestamp, PayloadFormat.Pcm16K, new byte[640])), timestamp);
}
