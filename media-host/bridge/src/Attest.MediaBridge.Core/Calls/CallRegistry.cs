using System.Collections.Concurrent;
using Attest.MediaBridge.Configuration;
using Attest.MediaBridge.Forwarding;
using Attest.MediaBridge.Platform;
using Attest.MediaBridge.Subscriptions;
using Attest.MediaBridge.Transport;
using Microsoft.Extensions.Logging;

namespace Attest.MediaBridge.Calls;

/// <summary>Why a call could not be created.</summary>
public enum CreateCallOutcome { Created, Existing, PlatformNotReady }

/// <summary>The bridge's calls, by media session id.</summary>
public sealed class CallRegistry
{
    private readonly ConcurrentDictionary<Guid, BridgeCall> calls = new();
    private readonly IMediaPlatform platform;
    private readonly BridgeSettings settings;
    private readonly Func<Uri, IMediaHostConnector> connectorFor;
    private readonly ILogger<CallRegistry> logger;
    private readonly object createGate = new();
    private long endedForwarded;
    private long endedDropped;
    private long endedGaps;

    /// <summary>Creates the registry.</summary>
    public CallRegistry(IMediaPlatform platform, BridgeSettings settings, Func<Uri, IMediaHostConnector> connectorFor, ILogger<CallRegistry> logger)
    {
        this.platform = platform;
        this.settings = settings;
        this.connectorFor = connectorFor;
        this.logger = logger;
    }

    /// <summary>The calls now open.</summary>
    public IReadOnlyCollection<BridgeCall> Calls => [.. calls.Values];

    /// <summary>Creates a call's sockets, or returns the call already created for this session (idempotent).</summary>
    public (CreateCallOutcome Outcome, BridgeCall? Call) Create(CreateCallRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!platform.IsInitialized) return (CreateCallOutcome.PlatformNotReady, null);
        lock (createGate)
        {
            if (calls.TryGetValue(request.SessionId, out var existing)) return (CreateCallOutcome.Existing, existing);
            var call = BridgeCall.Start(
                request, platform, connectorFor(request.IngestEndpoint), settings.VideoSocketCount,
                new FrameQueueLimits(settings.QueueMaxFrames, settings.QueueMaxBytes),
                new MediaHostLinkOptions(settings.UnackedMaxFrames, settings.UnackedMaxBytes, TimeSpan.FromMilliseconds(500)),
                logger);
            calls[request.SessionId] = call;
            logger.LogInformation("call sockets created {SessionId} {VideoSockets}", request.SessionId, settings.VideoSocketCount);
            return (CreateCallOutcome.Created, call);
        }
    }

    /// <summary>Hands the call its roster; false when there is no such call.</summary>
    public bool UpdateRoster(Guid sessionId, IReadOnlyList<RosterEntry> roster)
    {
        if (!calls.TryGetValue(sessionId, out var call)) return false;
        call.Subscriptions.UpdateRoster(roster);
        return true;
    }

    /// <summary>Ends a call (idempotent; unknown ids are already ended).</summary>
    public async Task EndAsync(Guid sessionId, TimeSpan drainTimeout)
    {
        if (!calls.TryRemove(sessionId, out var call)) return;
        await call.EndAsync(platform.GetCurrentTimestamp100Ns(), drainTimeout).ConfigureAwait(false);
        Interlocked.Add(ref endedForwarded, call.Link.Counters.FramesSent);
        Interlocked.Add(ref endedDropped, call.Queue.Counters.Dropped);
        Interlocked.Add(ref endedGaps, call.Queue.Counters.GapReports);
        logger.LogInformation("call ended {SessionId} {FramesSent} {FramesDropped}", sessionId, call.Link.Counters.FramesSent, call.Queue.Counters.Dropped);
    }

    /// <summary>Frames forwarded, dropped and gap reports of calls already ended.</summary>
    public (long Forwarded, long Dropped, long GapReports) EndedTotals =>
        (Interlocked.Read(ref endedForwarded), Interlocked.Read(ref endedDropped), Interlocked.Read(ref endedGaps));

    /// <summary>Ends every call (service stopping).</summary>
    public Task EndAllAsync(TimeSpan drainTimeout) => Task.WhenAll(calls.Keys.ToList().Select(id => EndAsync(id, drainTimeout)));
}
