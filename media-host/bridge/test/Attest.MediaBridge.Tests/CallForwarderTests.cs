using Attest.MediaBridge.FakeHost;
using Attest.MediaBridge.Forwarding;
using Attest.MediaBridge.Platform;
using Attest.MediaBridge.Protocol;

namespace Attest.MediaBridge.Tests;

public sealed class CallForwarderTests
{
    private readonly DisposalLedger ledger = new();

    private static byte[] Pcm(byte fill) => Enumerable.Repeat(fill, MediaSources.TickBytes).ToArray();

    [Fact]
    public void TurnsSeveralSpeakersBuffersIntoOneUnmixedFrameWithTheirMsisAndTimestamps()
    {
        var queue = new CallFrameQueue(TestFrames.Session, new FrameQueueLimits(100, 1 << 20));
        var forwarder = new CallForwarder(TestFrames.Session, queue);
        forwarder.OnAudio(new FakeAudioTick(638_700_000_000_200_000, [
            new FakeSpeakerPcm(11, 638_700_000_000_100_000, Pcm(1)),
            new FakeSpeakerPcm(12, 0, Pcm(2)),
            new FakeSpeakerPcm(4_000_000_000, 638_700_000_000_150_000, Pcm(3)),
        ], ledger, activeSpeakers: [11, 12]));

        var frames = TestFrames.Drain(queue);
        var active = Assert.IsType<ActiveSpeakersFrame>(frames[0]);
        Assert.Equal([11U, 12U], active.Msis);
        var audio = Assert.IsType<AudioUnmixedFrame>(frames[1]);
        Assert.Equal(TestFrames.Session, audio.SessionId);
        Assert.Equal(638_700_000_000_200_000UL, audio.Timestamp100Ns);
        Assert.Equal(PayloadFormat.Pcm16K, audio.Format);
        Assert.Equal([11U, 12U, 4_000_000_000U], audio.Buffers.Select(b => b.Msi));
        Assert.Equal([638_700_000_000_100_000UL, 0UL, 638_700_000_000_150_000UL], audio.Buffers.Select(b => b.OriginalSenderTimestamp100Ns));
        Assert.Equal(Pcm(3), audio.Buffers[2].Payload.ToArray());
    }

    [Fact]
    public void SendsActiveSpeakersOnlyWhenTheSetChanges()
    {
        var queue = new CallFrameQueue(TestFrames.Session, new FrameQueueLimits(100, 1 << 20));
        var forwarder = new CallForwarder(TestFrames.Session, queue);
        foreach (var (t, speakers) in new[] { (1L, new uint[] { 11 }), (2L, [11]), (3L, [11, 12]), (4L, [11, 12]) })
            forwarder.OnAudio(new FakeAudioTick(t, [new FakeSpeakerPcm(11, 0, Pcm(0))], ledger, activeSpeakers: speakers));
        var changes = TestFrames.Drain(queue).OfType<ActiveSpeakersFrame>().ToList();
        Assert.Equal([1UL, 3UL], changes.Select(f => f.Timestamp100Ns));
    }

    [Fact]
    public void ForwardsMixedAudioWhenThePlatformGivesNoSpeakerBuffers()
    {
        var queue = new CallFrameQueue(TestFrames.Session, new FrameQueueLimits(100, 1 << 20));
        new CallForwarder(TestFrames.Session, queue).OnAudio(new FakeAudioTick(5, [], ledger, activeSpeakers: [], mixed: Pcm(9)));
        var mixed = Assert.IsType<AudioMixedFrame>(Assert.Single(TestFrames.Drain(queue)));
        Assert.Equal(Pcm(9), mixed.Payload.ToArray());
    }

    [Fact]
    public void ForwardsVideoAndScreenShareWithMsiResolutionTimestampAndKeyFrameFlag()
    {
        var queue = new CallFrameQueue(TestFrames.Session, new FrameQueueLimits(100, 1 << 20));
        var forwarder = new CallForwarder(TestFrames.Session, queue);
        byte[] idr = [0, 0, 0, 1, 0x67, 0x42, 0, 0, 0, 1, 0x65, 0x88];
        byte[] delta = [0, 0, 1, 0x41, 0x9A];
        forwarder.OnVideo(new FakeVideoFrame(SocketKind.Video, 1, 4242, 1000, 1280, 720, idr, ledger));
        forwarder.OnVideo(new FakeVideoFrame(SocketKind.ScreenShare, 0, 77, 2000, 1920, 1080, delta, ledger));
        var frames = TestFrames.Drain(queue).Cast<VideoFrame>().ToList();
        Assert.Equal((FrameType.Video, 4242U, 1000UL, (ushort)1280, (ushort)720, true), (frames[0].Type, frames[0].Msi, frames[0].Timestamp100Ns, frames[0].Width, frames[0].Height, frames[0].IsKeyFrame));
        Assert.Equal(idr, frames[0].Payload.ToArray());
        Assert.Equal((FrameType.Vbss, 77U, 2000UL, false), (frames[1].Type, frames[1].Msi, frames[1].Timestamp100Ns, frames[1].IsKeyFrame));
        Assert.Equal(PayloadFormat.H264, frames[1].Format);
    }

    [Fact]
    public void ForwardsDominantSpeakerAndSocketStateChanges()
    {
        var queue = new CallFrameQueue(TestFrames.Session, new FrameQueueLimits(100, 1 << 20));
        var told = new List<string>();
        var forwarder = new CallForwarder(TestFrames.Session, queue, (msi, _) => told.Add($"speaker {msi}"), (kind, index, active) => told.Add($"{kind}[{index}] {active}"));
        forwarder.OnDominantSpeaker(11, 100);
        forwarder.OnDominantSpeaker(MediaProtocol.NoDominantSpeaker, 200);
        forwarder.OnSocketState(SocketKind.Video, 2, true, 300);
        forwarder.OnSocketState(SocketKind.ScreenShare, 0, false, 400);
        var frames = TestFrames.Drain(queue);
        Assert.Equal([11U, MediaProtocol.NoDominantSpeaker], frames.OfType<DominantSpeakerFrame>().Select(f => f.DominantMsi));
        var states = frames.OfType<StreamStateFrame>().ToList();
        Assert.Equal([(StreamStateKind.Video, true, 300UL), (StreamStateKind.Vbss, false, 400UL)], states.Select(s => (s.Kind, s.IsActive, s.Timestamp100Ns)));
        Assert.Equal(["speaker 11", $"speaker {MediaProtocol.NoDominantSpeaker}", "Video[2] True", "ScreenShare[0] False"], told);
    }

    [Fact]
    public void DisposesEveryBufferExactlyOnceWhetherQueuedDroppedOrAfterTheEnd()
    {
        var queue = new CallFrameQueue(TestFrames.Session, new FrameQueueLimits(20, 1 << 20));
        var forwarder = new CallForwarder(TestFrames.Session, queue);
        for (var t = 0; t < 50; t++)
        {
            forwarder.OnAudio(new FakeAudioTick(t, [new FakeSpeakerPcm(11, 0, Pcm(1)), new FakeSpeakerPcm(12, 0, Pcm(2))], ledger));
            forwarder.OnVideo(new FakeVideoFrame(SocketKind.Video, 0, 5, t, 320, 180, [0, 0, 1, 0x65], ledger));
        }
        queue.Complete(100);
        forwarder.OnAudio(new FakeAudioTick(101, [new FakeSpeakerPcm(11, 0, Pcm(1))], ledger));
        Assert.True(queue.Counters.Dropped > 0);
        Assert.Equal(101, ledger.Created);
        Assert.Equal(101, ledger.Disposed);
        Assert.Equal(0, ledger.DisposedTwice);
        Assert.Equal(101, forwarder.BuffersDisposed);
    }

    [Fact]
    public void DisposesTheBufferWhenReadingItFails()
    {
        var queue = new CallFrameQueue(TestFrames.Session, new FrameQueueLimits(20, 1 << 20));
        var tick = new ThrowingTick();
        Assert.Throws<InvalidOperationException>(() => new CallForwarder(TestFrames.Session, queue).OnAudio(tick));
        Assert.Equal(1, tick.Disposals);
    }

    [Fact]
    public void ForwardsFromManyCallbackThreadsWithoutLosingCount()
    {
        var queue = new CallFrameQueue(TestFrames.Session, new FrameQueueLimits(100_000, 1 << 30));
        var forwarder = new CallForwarder(TestFrames.Session, queue);
        Parallel.For(0, 2000, t => forwarder.OnAudio(new FakeAudioTick(t, [new FakeSpeakerPcm(11, 0, Pcm(1))], ledger, activeSpeakers: [11])));
        Assert.Equal(2000, TestFrames.Drain(queue).OfType<AudioUnmixedFrame>().Count());
        Assert.Equal(2000, ledger.Disposed);
    }

    private sealed class ThrowingTick : IAudioTick
    {
        public int Disposals { get; private set; }

        public long Timestamp100Ns => 1;

        public IReadOnlyList<UnmixedSpeaker> Speakers => [new UnmixedSpeaker(1, 0, 0)];

        public IReadOnlyList<uint> ActiveSpeakers => [];

        public ReadOnlySpan<byte> MixedPcm => [];

        public ReadOnlySpan<byte> GetUnmixedPcm(int index) => throw new InvalidOperationException("buffer gone");

        public void Dispose() => Disposals++;
    }
}
