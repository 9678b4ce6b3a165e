using Attest.MediaBridge.Forwarding;
using Attest.MediaBridge.Protocol;

namespace Attest.MediaBridge.Tests;

public sealed class CallFrameQueueTests
{
    [Fact]
    public void QueuesFramesInOrderWhileThereIsRoom()
    {
        var queue = new CallFrameQueue(TestFrames.Session, new FrameQueueLimits(10, 1 << 20));
        for (var t = 1; t <= 3; t++) Assert.True(queue.TryEnqueue(TestFrames.Media(t * 200_000)));
        var frames = TestFrames.Drain(queue);
        Assert.Equal([200_000UL, 400_000UL, 600_000UL], frames.Select(f => f.Timestamp100Ns));
        Assert.Equal(new FrameQueueCounters(3, 0, 0, 0, 0), queue.Counters);
    }

    [Fact]
    public void ReportsOneGapForADroppedIntervalAheadOfTheNextAcceptedFrame()
    {
        var queue = new CallFrameQueue(TestFrames.Session, new FrameQueueLimits(4, 1 << 20));
        for (var t = 1; t <= 4; t++) queue.TryEnqueue(TestFrames.Media(t));
        // The host is slow: five frames find the queue full.
        for (var t = 5; t <= 9; t++) Assert.False(queue.TryEnqueue(TestFrames.Media(t)));
        var first = TestFrames.Drain(queue);
        Assert.Equal(4, first.Count);
        Assert.True(queue.TryEnqueue(TestFrames.Media(10)));
        Assert.True(queue.TryEnqueue(TestFrames.Media(11)));
        var after = TestFrames.Drain(queue);

        var gap = Assert.IsType<StreamStateFrame>(after[0]);
        Assert.Equal(StreamStateKind.Session, gap.Kind);
        Assert.False(gap.IsActive);
        Assert.Equal(5UL, gap.Timestamp100Ns);
        Assert.Equal(new StreamGap(StreamGapReason.SourceQueueOverflow, 5, 9), gap.Gap);
        Assert.Equal([10UL, 11UL], after.Skip(1).Select(f => f.Timestamp100Ns));
        Assert.Equal(5, queue.Counters.Dropped);
        Assert.Equal(1, queue.Counters.GapReports);
    }

    [Fact]
    public void ReportsEachDroppedIntervalOnce()
    {
        var queue = new CallFrameQueue(TestFrames.Session, new FrameQueueLimits(2, 1 << 20));
        var reports = new List<StreamGap>();
        long t = 0;
        for (var round = 1; round <= 3; round++)
        {
            queue.TryEnqueue(TestFrames.Media(++t));
            queue.TryEnqueue(TestFrames.Media(++t));
            for (var i = 0; i < round; i++) Assert.False(queue.TryEnqueue(TestFrames.Media(++t)));
            TestFrames.Drain(queue);
            // The next accepted frame closes the interval: its report, then the frame.
            Assert.True(queue.TryEnqueue(TestFrames.Media(++t)));
            reports.AddRange(TestFrames.Drain(queue).OfType<StreamStateFrame>().Select(f => f.Gap!));
        }
        Assert.Equal([1U, 2U, 3U], reports.Select(r => r.DroppedFrames));
        Assert.Equal(6, queue.Counters.Dropped);
        Assert.Equal(3, queue.Counters.GapReports);
    }

    [Fact]
    public void BoundsTheQueuedBytes()
    {
        var oneFrame = TestFrames.Media(1).Length;
        var queue = new CallFrameQueue(TestFrames.Session, new FrameQueueLimits(100, oneFrame * 2));
        Assert.True(queue.TryEnqueue(TestFrames.Media(1)));
        Assert.True(queue.TryEnqueue(TestFrames.Media(2)));
        Assert.False(queue.TryEnqueue(TestFrames.Media(3)));
        Assert.Equal(2, queue.Counters.Depth);
    }

    [Fact]
    public void CompletesWithTheOpenGapThenTheEndFrame()
    {
        var queue = new CallFrameQueue(TestFrames.Session, new FrameQueueLimits(1, 1 << 20));
        queue.TryEnqueue(TestFrames.Media(1));
        queue.TryEnqueue(TestFrames.Media(2));
        queue.Complete(3);
        Assert.False(queue.TryEnqueue(TestFrames.Media(4)));
        var frames = TestFrames.Drain(queue);
        Assert.Equal(3, frames.Count);
        Assert.Equal(new StreamGap(StreamGapReason.SourceQueueOverflow, 1, 2), Assert.IsType<StreamStateFrame>(frames[1]).Gap);
        Assert.IsType<EndFrame>(frames[2]);
        Assert.True(queue.IsCompleted);
    }
}
