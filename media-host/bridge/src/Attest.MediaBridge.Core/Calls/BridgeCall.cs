using Attest.MediaBridge.Forwarding;
using Attest.MediaBridge.Platform;
using Attest.MediaBridge.Subscriptions;
using Attest.MediaBridge.Transport;
using Microsoft.Extensions.Logging;

namespace Attest.MediaBridge.Calls;

/// <summary>What the media host asks for when it creates a session for a call.</summary>
/// <param name="SessionId">The media session id.</param>
/// <param name="Token">The session's one-time token (never logged).</param>
/// <param name="IngestEndpoint"><c>tcp://127.0.0.1:port</c> of the media host's loopback listener.</param>
public sealed record CreateCallRequest(Guid SessionId, string Token, Uri IngestEndpoint);

/// <summary>One call: its sockets, queue, forwarder, link to the media host and subscriptions.</summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "EndAsync disposes the token source; every call is ended by the registry.")]
public sealed class BridgeCall
{
    private readonly ICallMedia media;
    private readonly CancellationTokenSource stop = new();
    private readonly Task linkTask;
    private readonly Task subscriptionsTask;
    private int isEnded;

    private BridgeCall(Guid sessionId, CallFrameQueue queue, CallForwarder forwarder, MediaHostLink link, CallSubscriptions subscriptions, ICallMedia media, ILogger logger)
    {
        SessionId = sessionId;
        Queue = queue;
        Forwarder = forwarder;
        Link = link;
        Subscriptions = subscriptions;
        this.media = media;
        linkTask = Task.Run(() => link.RunAsync(stop.Token));
        linkTask.ContinueWith(
            t => logger.LogError("media host link failed; the call's media is at risk {SessionId} {Reason}", sessionId, t.Exception?.GetBaseException().Message),
            CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
        subscriptionsTask = Task.Run(() => subscriptions.RunAsync(media, stop.Token));
    }

    /// <summary>The media session.</summary>
    public Guid SessionId { get; }

    /// <summary>The SDK's media configuration for Graph's answer.</summary>
    public string MediaConfigurationBlob => media.MediaConfigurationBlob;

    /// <summary>The call's queue.</summary>
    public CallFrameQueue Queue { get; }

    /// <summary>The call's forwarder.</summary>
    public CallForwarder Forwarder { get; }

    /// <summary>The call's link to the media host.</summary>
    public MediaHostLink Link { get; }

    /// <summary>The call's video subscriptions.</summary>
    public CallSubscriptions Subscriptions { get; }

    /// <summary>Creates the call's sockets through <paramref name="platform"/> and starts forwarding.</summary>
    public static BridgeCall Start(
        CreateCallRequest request, IMediaPlatform platform, IMediaHostConnector connector, int videoSocketCount,
        FrameQueueLimits queueLimits, MediaHostLinkOptions linkOptions, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(platform);
        var queue = new CallFrameQueue(request.SessionId, queueLimits);
        var subscriptions = new CallSubscriptions(request.SessionId, videoSocketCount, logger);
        var forwarder = new CallForwarder(
            request.SessionId, queue, (msi, _) => subscriptions.OnDominantSpeaker(msi), subscriptions.OnSocketState);
        var media = platform.CreateCallMedia(CallSocketPlan.ForRecording(request.SessionId.ToString(), videoSocketCount), forwarder);
        var link = new MediaHostLink(request.SessionId, request.Token, queue, connector, linkOptions, logger);
        return new BridgeCall(request.SessionId, queue, forwarder, link, subscriptions, media, logger);
    }

    /// <summary>
    /// Ends the call: releases the sockets (no more callbacks), queues the end frame and waits up to
    /// <paramref name="drainTimeout"/> for the media host to acknowledge everything. Idempotent.
    /// </summary>
    public async Task EndAsync(long endTimestamp100Ns, TimeSpan drainTimeout)
    {
        if (Interlocked.Exchange(ref isEnded, 1) == 1) return;
        media.Dispose();
        Queue.Complete(endTimestamp100Ns);
        Subscriptions.Complete();
        await Task.WhenAny(linkTask, Task.Delay(drainTimeout)).ConfigureAwait(false);
        await stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await Task.WhenAll(linkTask, subscriptionsTask).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Failures were logged where they happened; ending must not throw.
        }
        Queue.Clear();
        stop.Dispose();
    }
}
