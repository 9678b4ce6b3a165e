using System.Collections.Concurrent;
using System.Text.Json;
using Attest.MediaBridge.Configuration;
using Attest.MediaBridge.Platform;

namespace Attest.MediaBridge.FakeHost;

/// <summary>A media platform with no network: it records what it is asked and lets a test play media into a call.</summary>
public sealed class FakeMediaPlatform : IMediaPlatform
{
    private long clock = 638_700_000_000_000_000;

    public string SdkVersion => "fake-1.0";

    public int MaxVideoSocketsPerCall { get; init; } = 25;

    public bool IsInitialized { get; private set; }

    private string healthStatus = "notInitialized";

    public string HealthStatus => Volatile.Read(ref healthStatus);

    public event EventHandler<PlatformHealthChangedEventArgs>? HealthChanged;

    /// <summary>Plays the SDK's health event: the platform's load state becomes <paramref name="status"/>.</summary>
    public void ChangeHealth(string status)
    {
        var previous = Interlocked.Exchange(ref healthStatus, status);
        HealthChanged?.Invoke(this, new PlatformHealthChangedEventArgs(previous, status));
    }

    public MediaPlatformOptions? Options { get; private set; }

    public ConcurrentDictionary<string, FakeCallMedia> Calls { get; } = new();

    public long GetCurrentTimestamp100Ns() => Interlocked.Read(ref clock);

    /// <summary>Moves the platform clock forward (the fake's media time).</summary>
    public long Advance(long by100Ns) => Interlocked.Add(ref clock, by100Ns);

    public void Initialize(MediaPlatformOptions options)
    {
        Options = options;
        Volatile.Write(ref healthStatus, "normal");
        IsInitialized = true;
    }

    public ICallMedia CreateCallMedia(CallSocketPlan plan, ICallMediaEvents events)
    {
        var media = new FakeCallMedia(plan, events);
        Calls[plan.CorrelationId] = media;
        return media;
    }
}

/// <summary>One fake call: the plan it was created with, the subscriptions it received, and its event sink.</summary>
public sealed class FakeCallMedia(CallSocketPlan plan, ICallMediaEvents events) : ICallMedia
{
    private readonly object gate = new();
    private readonly List<string> operations = [];

    public CallSocketPlan Plan => plan;

    public ICallMediaEvents Events => events;

    public bool IsDisposed { get; private set; }

    public string MediaConfigurationBlob { get; } = JsonSerializer.Serialize(new { fake = true, callId = plan.CorrelationId, videoSockets = plan.Video.Count });

    /// <summary>Subscribe and unsubscribe calls in order, e.g. <c>video[0]=11</c>, <c>video[0]-</c>, <c>vbss=7</c>.</summary>
    public IReadOnlyList<string> Operations
    {
        get { lock (gate) return [.. operations]; }
    }

    public void SubscribeVideo(int socketIndex, uint msi) => Record($"video[{socketIndex}]={msi}");

    public void UnsubscribeVideo(int socketIndex) => Record($"video[{socketIndex}]-");

    public void SubscribeScreenShare(uint msi) => Record($"vbss={msi}");

    public void UnsubscribeScreenShare() => Record("vbss-");

    public void Dispose() => IsDisposed = true;

    private void Record(string operation)
    {
        lock (gate) operations.Add(operation);
    }
}

/// <summary>Accepts any 40-hex thumbprint; the certificate expires <see cref="ExpiresAt"/>.</summary>
public sealed class FakeCertificateSource(DateTimeOffset? expiresAt) : ICertificateSource
{
    public DateTimeOffset? ExpiresAt => expiresAt;

    public string StoreName => "fake store";

    public DateTimeOffset? FindExpiry(string thumbprint) => expiresAt;
}
