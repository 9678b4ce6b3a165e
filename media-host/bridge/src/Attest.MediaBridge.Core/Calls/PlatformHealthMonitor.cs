using Attest.MediaBridge.Platform;
using Microsoft.Extensions.Logging;

namespace Attest.MediaBridge.Calls;

/// <summary>The platform's load state as the bridge last heard it, with when it last changed.</summary>
/// <param name="Current">normal, heavilyLoaded, overloaded (or notInitialized).</param>
/// <param name="ChangedAt">When the platform last reported a change; null when it never has.</param>
/// <param name="Changes">Changes reported since the bridge started.</param>
public readonly record struct PlatformHealthState(string Current, DateTimeOffset? ChangedAt, long Changes);

/// <summary>
/// Follows the media platform's health event (the SDK's <c>MediaPlatformHealthChanged</c>, through
/// <see cref="IMediaPlatform.HealthChanged"/>) into the bridge's health report, and logs each change:
/// a warning when the platform is loaded (Microsoft asks bots not to start new calls on an instance
/// until it is back to normal), information when it recovers. Never blocks the platform's thread.
/// </summary>
public sealed class PlatformHealthMonitor : IDisposable
{
    /// <summary>The platform's normal state.</summary>
    public const string Normal = "normal";

    private readonly IMediaPlatform platform;
    private readonly TimeProvider clock;
    private readonly ILogger log;
    private readonly object gate = new();
    private PlatformHealthState state;

    /// <summary>Subscribes to <paramref name="platform"/>'s health event.</summary>
    public PlatformHealthMonitor(IMediaPlatform platform, TimeProvider clock, ILogger log)
    {
        ArgumentNullException.ThrowIfNull(platform);
        this.platform = platform;
        this.clock = clock;
        this.log = log;
        platform.HealthChanged += OnHealthChanged;
        lock (gate) state = new PlatformHealthState(platform.HealthStatus, null, 0);
    }

    /// <summary>The state now.</summary>
    public PlatformHealthState State
    {
        get { lock (gate) return state; }
    }

    /// <summary>Stops following the platform.</summary>
    public void Dispose() => platform.HealthChanged -= OnHealthChanged;

    private void OnHealthChanged(object? sender, PlatformHealthChangedEventArgs change)
    {
        lock (gate) state = new PlatformHealthState(change.Current, clock.GetUtcNow(), state.Changes + 1);
        if (change.Current == Normal)
            log.LogInformation("media platform health changed {PreviousHealth} {PlatformHealth}", change.Previous, change.Current);
        else
            log.LogWarning("media platform health changed {PreviousHealth} {PlatformHealth}; new calls on this instance should wait until it is normal", change.Previous, change.Current);
    }
}
