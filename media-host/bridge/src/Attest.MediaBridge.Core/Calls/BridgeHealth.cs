using Attest.MediaBridge.Platform;

namespace Attest.MediaBridge.Calls;

/// <summary>What the bridge reports to the media host (GET /v1/health).</summary>
public sealed record BridgeHealthReport(
    string SdkVersion,
    bool IsPlatformInitialized,
    string PlatformHealth,
    DateTimeOffset? PlatformHealthChangedAt,
    long PlatformHealthChanges,
    DateTimeOffset CertificateExpiresAt,
    int Sessions,
    double FramesPerSecond,
    int QueueDepth,
    long FramesForwarded,
    long FramesDropped,
    long GapReports,
    int UnackedFrames,
    int DisconnectedSessions);

/// <summary>Builds health reports; frames per second over the time since the previous report.</summary>
public sealed class BridgeHealth
{
    private readonly IMediaPlatform platform;
    private readonly PlatformHealthMonitor platformHealth;
    private readonly CallRegistry registry;
    private readonly DateTimeOffset certificateExpiresAt;
    private readonly TimeProvider clock;
    private readonly object gate = new();
    private long previousForwarded;
    private DateTimeOffset previousAt;
    private double framesPerSecond;

    /// <summary>Creates the reporter.</summary>
    public BridgeHealth(IMediaPlatform platform, PlatformHealthMonitor platformHealth, CallRegistry registry, DateTimeOffset certificateExpiresAt, TimeProvider clock)
    {
        this.platform = platform;
        this.platformHealth = platformHealth;
        this.registry = registry;
        this.certificateExpiresAt = certificateExpiresAt;
        this.clock = clock;
        previousAt = clock.GetUtcNow();
    }

    /// <summary>The current report.</summary>
    public BridgeHealthReport Report()
    {
        var calls = registry.Calls;
        long forwarded = 0, dropped = 0, gaps = 0;
        int depth = 0, unacked = 0, disconnected = 0;
        foreach (var call in calls)
        {
            var queue = call.Queue.Counters;
            var link = call.Link.Counters;
            forwarded += link.FramesSent;
            dropped += queue.Dropped;
            gaps += queue.GapReports;
            depth += queue.Depth;
            unacked += link.UnackedFrames;
            if (!link.IsConnected) disconnected++;
        }
        var ended = registry.EndedTotals;
        forwarded += ended.Forwarded;
        dropped += ended.Dropped;
        gaps += ended.GapReports;
        var load = platformHealth.State;
        lock (gate)
        {
            var now = clock.GetUtcNow();
            var seconds = (now - previousAt).TotalSeconds;
            if (seconds >= 1)
            {
                framesPerSecond = Math.Max(0, forwarded - previousForwarded) / seconds;
                previousForwarded = forwarded;
                previousAt = now;
            }
            return new BridgeHealthReport(
                platform.SdkVersion, platform.IsInitialized, load.Current, load.ChangedAt, load.Changes, certificateExpiresAt, calls.Count,
                Math.Round(framesPerSecond, 1), depth, forwarded, dropped, gaps, unacked, disconnected);
        }
    }
}
