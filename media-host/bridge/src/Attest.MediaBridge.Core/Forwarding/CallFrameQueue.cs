using Attest.MediaBridge.Protocol;

namespace Attest.MediaBridge.Forwarding;

/// <summary>Limits of one call's queue between the platform's callbacks and the media host link.</summary>
/// <param name="MaxFrames">Most frames waiting.</param>
/// <param name="MaxBytes">Most encoded bytes waiting.</param>
public sealed record FrameQueueLimits(int MaxFrames, long MaxBytes);

/// <summary>Counters of one call's queue (a snapshot).</summary>
public readonly record struct FrameQueueCounters(long Enqueued, long Dropped, long GapReports, int Depth, long DepthBytes);

/// <summary>
/// The bounded queue of one call. <see cref="TryEnqueue"/> never blocks beyond a short lock: when
/// the queue is full the frame is dropped and counted, and when frames are accepted again one
/// stream-state gap report covering the whole dropped interval is queued ahead of them. Nothing is
/// lost silently: every dropped frame is in exactly one gap report.
/// </summary>
public sealed class CallFrameQueue
{
    private readonly object gate = new();
    private readonly Queue<OutboundFrame> frames = new();
    private readonly FrameQueueLimits limits;
    private readonly Guid sessionId;
    private TaskCompletionSource? waiter;
    private long depthBytes;
    private long enqueued;
    private long dropped;
    private long gapReports;
    private OpenGap? gap;
    private bool isCompleted;

    /// <summary>Creates the queue of session <paramref name="sessionId"/>.</summary>
    public CallFrameQueue(Guid sessionId, FrameQueueLimits limits)
    {
        this.sessionId = sessionId;
        this.limits = limits;
    }

    /// <summary>Set once <see cref="Complete"/> has queued the end frame.</summary>
    public bool IsCompleted
    {
        get { lock (gate) return isCompleted; }
    }

    /// <summary>A snapshot of the counters.</summary>
    public FrameQueueCounters Counters
    {
        get { lock (gate) return new FrameQueueCounters(enqueued, dropped, gapReports, frames.Count, depthBytes); }
    }

    /// <summary>
    /// Queues <paramref name="frame"/>, or drops (and releases) it when the queue is full or
    /// completed. Returns whether it was queued.
    /// </summary>
    public bool TryEnqueue(OutboundFrame frame)
    {
        ArgumentNullException.ThrowIfNull(frame);
        TaskCompletionSource? signal;
        lock (gate)
        {
            if (isCompleted)
            {
                frame.Release();
                return false;
            }
            // An open gap is closed only when both its report and the frame fit.
            var reserve = gap is null ? 0 : 1;
            if (frames.Count + 1 + reserve > limits.MaxFrames || depthBytes + frame.Length + (reserve * GapFrameBytes) > limits.MaxBytes)
            {
                dropped++;
                gap = gap is null ? new OpenGap(frame.Timestamp100Ns, frame.Timestamp100Ns, 1) : gap with { Last = frame.Timestamp100Ns, Count = gap.Count + 1 };
                frame.Release();
                return false;
            }
            FlushGap();
            Add(frame);
            enqueued++;
            signal = TakeWaiter();
        }
        signal?.TrySetResult();
        return true;
    }

    /// <summary>
    /// Queues the end of the session: the report of a gap still open, then an end frame, past the
    /// limits. Later frames are dropped. Idempotent.
    /// </summary>
    public void Complete(long timestamp100Ns)
    {
        TaskCompletionSource? signal;
        lock (gate)
        {
            if (isCompleted) return;
            FlushGap();
            Add(OutboundFrame.FromEncoded(MediaFrameEncoder.Encode(new EndFrame(sessionId, 0, (ulong)timestamp100Ns)), timestamp100Ns));
            isCompleted = true;
            signal = TakeWaiter();
        }
        signal?.TrySetResult();
    }

    /// <summary>Takes the oldest frame, if any.</summary>
    public bool TryDequeue(out OutboundFrame frame)
    {
        lock (gate)
        {
            if (frames.TryDequeue(out var next))
            {
                depthBytes -= next.Length;
                frame = next;
                return true;
            }
        }
        frame = null!;
        return false;
    }

    /// <summary>
    /// Moves the oldest frames into <paramref name="into"/> under one lock: at most
    /// <paramref name="maxFrames"/>, and no more once <paramref name="maxBytes"/> are taken (the
    /// frame that reaches it is taken). Returns how many were taken.
    /// </summary>
    public int TryDequeueBatch(List<OutboundFrame> into, int maxFrames, long maxBytes)
    {
        ArgumentNullException.ThrowIfNull(into);
        var taken = 0;
        long takenBytes = 0;
        lock (gate)
        {
            while (taken < maxFrames && takenBytes < maxBytes && frames.TryDequeue(out var next))
            {
                depthBytes -= next.Length;
                takenBytes += next.Length;
                into.Add(next);
                taken++;
            }
        }
        return taken;
    }

    /// <summary>
    /// Completes when a frame is waiting (at once if one is). Every waiter shares one signal, so an
    /// abandoned wait never swallows a later wake-up.
    /// </summary>
    public Task WaitAsync(CancellationToken cancellationToken)
    {
        lock (gate)
        {
            if (frames.Count > 0) return Task.CompletedTask;
            waiter ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return waiter.Task.WaitAsync(cancellationToken);
        }
    }

    private TaskCompletionSource? TakeWaiter()
    {
        var taken = waiter;
        waiter = null;
        return taken;
    }

    /// <summary>Releases every frame still waiting (the call is gone).</summary>
    public void Clear()
    {
        lock (gate)
        {
            while (frames.TryDequeue(out var frame)) frame.Release();
            depthBytes = 0;
        }
    }

    private const int GapFrameBytes = MediaProtocol.HeaderBytes + MediaProtocol.StreamGapBytes;

    private void FlushGap()
    {
        if (gap is null) return;
        var report = new StreamStateFrame(sessionId, 0, (ulong)gap.First, 0, StreamStateKind.Session, false,
            new StreamGap(StreamGapReason.SourceQueueOverflow, (uint)gap.Count, (ulong)gap.Last));
        Add(OutboundFrame.FromEncoded(MediaFrameEncoder.Encode(report), gap.First));
        gapReports++;
        gap = null;
    }

    private void Add(OutboundFrame frame)
    {
        frames.Enqueue(frame);
        depthBytes += frame.Length;
    }

    private sealed record OpenGap(long First, long Last, long Count);
}
