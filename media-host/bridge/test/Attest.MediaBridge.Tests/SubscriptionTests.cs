using Attest.MediaBridge.FakeHost;
using Attest.MediaBridge.Platform;
using Attest.MediaBridge.Subscriptions;
using Microsoft.Extensions.Logging.Abstractions;

namespace Attest.MediaBridge.Tests;

public sealed class SubscriptionTests
{
    private static RosterEntry[] Roster(params string[] participants) =>
        participants.SelectMany((p, i) => new[]
        {
            new RosterEntry((uint)(100 + i), p, RosterStreamKind.Audio),
            new RosterEntry((uint)(200 + i), p, RosterStreamKind.Video),
        }).ToArray();

    [Fact]
    public void FillsTheSocketsInRosterOrderBeforeAnyoneSpeaks()
    {
        var planner = new VideoSubscriptionPlanner(2);
        planner.UpdateRoster(Roster("a", "b", "c"));
        Assert.Equal([200U, 201U], planner.Plan().Video);
    }

    [Fact]
    public void PutsTheMostRecentSpeakersFirstAndMovesOneSocketPerChange()
    {
        var planner = new VideoSubscriptionPlanner(2);
        planner.UpdateRoster(Roster("a", "b", "c", "d"));
        Assert.Equal([200U, 201U], planner.Plan().Video);
        planner.OnDominantSpeaker(103); // d speaks: b, the later in roster order of the silent, gives way
        Assert.Equal([200U, 203U], planner.Plan().Video);
        planner.OnDominantSpeaker(102); // then c: a has not spoken, d has; a gives way
        Assert.Equal([202U, 203U], planner.Plan().Video);
        planner.OnDominantSpeaker(103); // d again: nothing moves
        Assert.Equal([202U, 203U], planner.Plan().Video);
    }

    [Fact]
    public void DropsASourceThatLeftTheRosterAndLeavesSpareSocketsEmpty()
    {
        var planner = new VideoSubscriptionPlanner(3);
        planner.UpdateRoster(Roster("a", "b"));
        planner.Plan();
        planner.UpdateRoster(Roster("a"));
        Assert.Equal([200U, null, null], planner.Plan().Video);
    }

    [Fact]
    public void SubscribesTheScreenShareWhileSomeoneSharesAndStopsAfter()
    {
        var planner = new VideoSubscriptionPlanner(1);
        planner.UpdateRoster([.. Roster("a"), new RosterEntry(300, "a", RosterStreamKind.Vbss)]);
        Assert.Equal(300U, planner.Plan().ScreenShare);
        planner.UpdateRoster(Roster("a"));
        Assert.Null(planner.Plan().ScreenShare);
    }

    [Fact]
    public async Task AppliesThePlanToActiveSocketsAndFollowsTheRoster()
    {
        var media = new FakeCallMedia(CallSocketPlan.ForRecording("call", 2), new NoEvents());
        var subscriptions = new CallSubscriptions(TestFrames.Session, 2, NullLogger.Instance);
        var run = subscriptions.RunAsync(media, CancellationToken.None);
        subscriptions.UpdateRoster(Roster("a", "b", "c"));
        subscriptions.OnSocketState(SocketKind.Video, 0, true);
        subscriptions.OnSocketState(SocketKind.Video, 1, true);
        subscriptions.OnSocketState(SocketKind.ScreenShare, 0, true);
        subscriptions.OnDominantSpeaker(102);
        subscriptions.UpdateRoster([.. Roster("a", "b", "c"), new RosterEntry(300, "b", RosterStreamKind.Vbss)]);
        subscriptions.UpdateRoster(Roster("a", "b", "c"));
        subscriptions.Complete();
        await run;
        // Nothing is subscribed before a socket can receive; then roster order, then c replaces b.
        Assert.Equal(["video[0]=200", "video[1]=201", "video[1]=202", "vbss=300", "vbss-"], media.Operations);
        Assert.Equal([200U, 202U], subscriptions.Applied.Video);
    }

    private sealed class NoEvents : ICallMediaEvents
    {
        public void OnAudio(IAudioTick tick) => tick.Dispose();

        public void OnVideo(IVideoFrameBuffer frame) => frame.Dispose();

        public void OnDominantSpeaker(uint msi, long timestamp100Ns) { }

        public void OnSocketState(SocketKind kind, int socketIndex, bool isActive, long timestamp100Ns) { }

        public void OnStreamFailure(SocketKind kind, long timestamp100Ns) { }
    }
}
