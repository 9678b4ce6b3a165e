using System.Text.Json;
using Attest.MediaBridge.Calls;
using Attest.MediaBridge.Configuration;
using Attest.MediaBridge.FakeHost;
using Attest.MediaBridge.Platform;
using Attest.MediaBridge.Transport;
using Microsoft.Extensions.Logging.Abstractions;

namespace Attest.MediaBridge.Tests;

public sealed class CallRegistryTests
{
    private static BridgeSettings Settings(int videoSockets) => new(
        new MediaPlatformOptions("app", "AB", 8445, 20445, System.Net.IPAddress.Loopback, "media.example.com"),
        9441, new string('k', 40), videoSockets, 100, 1 << 20, 100, 1 << 20, DateTimeOffset.UnixEpoch);

    private static (CallRegistry Registry, FakeMediaPlatform Platform) Create(int videoSockets, bool isInitialized = true)
    {
        var platform = new FakeMediaPlatform();
        if (isInitialized) platform.Initialize(Settings(videoSockets).Platform);
        // The link never reaches a host here: connecting fails and it keeps trying until the call ends.
        var registry = new CallRegistry(platform, Settings(videoSockets), _ => new RefusingConnector(), NullLogger<CallRegistry>.Instance);
        return (registry, platform);
    }

    private static CreateCallRequest Request(Guid id) => new(id, "token", new Uri("tcp://127.0.0.1:1"));

    [Fact]
    public async Task CreatesReceiveOnlySocketsUnmixedPcmAndH264VideoAndScreenShare()
    {
        var (registry, platform) = Create(videoSockets: 3);
        var (outcome, call) = registry.Create(Request(TestFrames.Session));
        Assert.Equal(CreateCallOutcome.Created, outcome);
        var plan = platform.Calls[TestFrames.Session.ToString()].Plan;
        Assert.Equal(new SocketPlan(SocketKind.Audio, true, SocketFormat.Pcm16K, true), plan.Audio);
        Assert.Equal(3, plan.Video.Count);
        Assert.All(plan.Video, v => Assert.Equal(new SocketPlan(SocketKind.Video, true, SocketFormat.H264, false), v));
        Assert.Equal(new SocketPlan(SocketKind.ScreenShare, true, SocketFormat.H264, false), plan.ScreenShare);
        Assert.Equal(3, JsonDocument.Parse(call!.MediaConfigurationBlob).RootElement.GetProperty("videoSockets").GetInt32());
        await registry.EndAsync(TestFrames.Session, TimeSpan.Zero);
    }

    [Fact]
    public async Task ReturnsTheSameCallForARepeatedCreate()
    {
        var (registry, platform) = Create(videoSockets: 1);
        var first = registry.Create(Request(TestFrames.Session)).Call;
        var (outcome, again) = registry.Create(Request(TestFrames.Session));
        Assert.Equal(CreateCallOutcome.Existing, outcome);
        Assert.Same(first, again);
        Assert.Single(platform.Calls);
        await registry.EndAsync(TestFrames.Session, TimeSpan.Zero);
    }

    [Fact]
    public void RefusesCallsBeforeThePlatformIsInitialized()
    {
        var (registry, platform) = Create(videoSockets: 1, isInitialized: false);
        Assert.Equal(CreateCallOutcome.PlatformNotReady, registry.Create(Request(TestFrames.Session)).Outcome);
        Assert.Empty(platform.Calls);
    }

    [Fact]
    public async Task EndingACallReleasesItsSocketsOnceAndForgetsIt()
    {
        var (registry, platform) = Create(videoSockets: 1);
        registry.Create(Request(TestFrames.Session));
        await registry.EndAsync(TestFrames.Session, TimeSpan.Zero);
        await registry.EndAsync(TestFrames.Session, TimeSpan.Zero);
        Assert.True(platform.Calls[TestFrames.Session.ToString()].IsDisposed);
        Assert.Empty(registry.Calls);
        Assert.False(registry.UpdateRoster(TestFrames.Session, []));
    }
}

/// <summary>A media host that is never reached: connecting fails, the link keeps trying until the call ends.</summary>
internal sealed class RefusingConnector : IMediaHostConnector
{
    public Task<Stream> ConnectAsync(CancellationToken cancellationToken) => throw new IOException("refused");
}
