using System.Threading.Channels;
using Attest.MediaBridge.Platform;
using Microsoft.Extensions.Logging;

namespace Attest.MediaBridge.Subscriptions;

/// <summary>
/// Keeps one call's video subscriptions in line with its plan. Roster updates, speaker changes and
/// socket states are posted (never blocking the platform's threads) and applied in order on one
/// task; a socket is subscribed only once the platform says it can receive, and re-subscribed after
/// it comes back.
/// </summary>
public sealed class CallSubscriptions
{
    private readonly VideoSubscriptionPlanner planner;
    private readonly Channel<Action> work = Channel.CreateUnbounded<Action>(new UnboundedChannelOptions { SingleReader = true });
    private readonly ILogger logger;
    private readonly Guid sessionId;
    private readonly uint?[] applied;
    private readonly bool[] isVideoSocketActive;
    private uint? appliedScreenShare;
    private bool isScreenShareSocketActive;
    private ICallMedia? media;

    /// <summary>Creates the subscriptions of a call with <paramref name="videoSocketCount"/> multiview sockets.</summary>
    public CallSubscriptions(Guid sessionId, int videoSocketCount, ILogger logger)
    {
        this.sessionId = sessionId;
        this.logger = logger;
        planner = new VideoSubscriptionPlanner(videoSocketCount);
        applied = new uint?[videoSocketCount];
        isVideoSocketActive = new bool[videoSocketCount];
    }

    /// <summary>The subscriptions currently applied (for health and tests).</summary>
    public SubscriptionPlan Applied { get; private set; } = new([], null);

    /// <summary>Runs the applier until <see cref="Complete"/>; <paramref name="callMedia"/> receives the subscribe calls.</summary>
    public async Task RunAsync(ICallMedia callMedia, CancellationToken cancellationToken)
    {
        media = callMedia;
        await foreach (var action in work.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            try
            {
                action();
            }
            catch (Exception error) when (error is not OperationCanceledException)
            {
                // The platform may refuse a subscription (source left, socket inactive); the next change tries again.
                logger.LogWarning("video subscription failed {SessionId} {Reason}", sessionId, error.Message);
            }
        }
    }

    /// <summary>Stops the applier after the work already posted.</summary>
    public void Complete() => work.Writer.TryComplete();

    /// <summary>The media host sent the call's roster.</summary>
    public void UpdateRoster(IReadOnlyList<RosterEntry> entries) => Post(() =>
    {
        planner.UpdateRoster(entries);
        Apply();
    });

    /// <summary>The platform reported a dominant speaker change.</summary>
    public void OnDominantSpeaker(uint msi) => Post(() =>
    {
        planner.OnDominantSpeaker(msi);
        Apply();
    });

    /// <summary>A socket can (or can no longer) receive.</summary>
    public void OnSocketState(SocketKind kind, int socketIndex, bool isActive) => Post(() =>
    {
        if (kind == SocketKind.Video && socketIndex >= 0 && socketIndex < isVideoSocketActive.Length)
        {
            isVideoSocketActive[socketIndex] = isActive;
            if (!isActive) applied[socketIndex] = null;
        }
        else if (kind == SocketKind.ScreenShare)
        {
            isScreenShareSocketActive = isActive;
            if (!isActive) appliedScreenShare = null;
        }
        Apply();
    });

    private void Post(Action action) => work.Writer.TryWrite(action);

    private void Apply()
    {
        var plan = planner.Plan();
        var target = media!;
        for (var i = 0; i < applied.Length; i++)
        {
            var wanted = plan.Video[i];
            if (!isVideoSocketActive[i] || applied[i] == wanted) continue;
            if (wanted is { } msi) target.SubscribeVideo(i, msi);
            else target.UnsubscribeVideo(i);
            applied[i] = wanted;
        }
        if (isScreenShareSocketActive && appliedScreenShare != plan.ScreenShare)
        {
            if (plan.ScreenShare is { } msi) target.SubscribeScreenShare(msi);
            else target.UnsubscribeScreenShare();
            appliedScreenShare = plan.ScreenShare;
        }
        Applied = new SubscriptionPlan([.. applied], appliedScreenShare);
    }
}
