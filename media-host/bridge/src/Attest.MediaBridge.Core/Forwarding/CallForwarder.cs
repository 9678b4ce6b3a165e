using Attest.MediaBridge.Platform;
using Attest.MediaBridge.Protocol;

namespace Attest.MediaBridge.Forwarding;

/// <summary>
/// Turns one call's platform events into media protocol frames on its <see cref="CallFrameQueue"/>.
/// Runs on the platform's callback threads: it copies each buffer into a pooled frame, disposes the
/// platform's buffer exactly once (whatever happens), and never waits on the network.
/// </summary>
public sealed class CallForwarder : ICallMediaEvents
{
    private readonly Guid sessionId;
    private readonly CallFrameQueue queue;
    private readonly Action<uint, long>? onDominantSpeaker;
    private readonly Action<SocketKind, int, bool>? onSocketState;
    private readonly object speakersGate = new();
    private uint[] activeSpeakers = [];
    private long buffersDisposed;

    /// <summary>Creates the forwarder of session <paramref name="sessionId"/>.</summary>
    /// <param name="sessionId">The media session.</param>
    /// <param name="queue">Where frames go.</param>
    /// <param name="onDominantSpeaker">Also told about dominant speaker changes (video subscriptions follow them); must not block.</param>
    /// <param name="onSocketState">Also told about socket state changes; must not block.</param>
    public CallForwarder(Guid sessionId, CallFrameQueue queue, Action<uint, long>? onDominantSpeaker = null, Action<SocketKind, int, bool>? onSocketState = null)
    {
        this.sessionId = sessionId;
        this.queue = queue;
        this.onDominantSpeaker = onDominantSpeaker;
        this.onSocketState = onSocketState;
    }

    /// <summary>Platform buffers this forwarder has disposed.</summary>
    public long BuffersDisposed => Interlocked.Read(ref buffersDisposed);

    /// <inheritdoc />
    public void OnAudio(IAudioTick tick)
    {
        ArgumentNullException.ThrowIfNull(tick);
        try
        {
            ForwardActiveSpeakers(tick);
            queue.TryEnqueue(tick.Speakers.Count > 0 ? EncodeUnmixed(tick) : EncodeMixed(tick));
        }
        finally
        {
            tick.Dispose();
            Interlocked.Increment(ref buffersDisposed);
        }
    }

    /// <inheritdoc />
    public void OnVideo(IVideoFrameBuffer frame)
    {
        ArgumentNullException.ThrowIfNull(frame);
        try
        {
            var data = frame.Data;
            var payloadLength = 4 + data.Length;
            var outbound = OutboundFrame.Rent(MediaProtocol.HeaderBytes + payloadLength, frame.Timestamp100Ns);
            var span = outbound.Span;
            var type = frame.Kind == SocketKind.ScreenShare ? FrameType.Vbss : FrameType.Video;
            var flags = H264AccessUnit.IsKeyFrame(data) ? MediaProtocol.KeyFrameFlag : (ushort)0;
            MediaFrameEncoder.WriteHeader(span, type, flags, PayloadFormat.H264, sessionId, frame.Msi, 0, (ulong)frame.Timestamp100Ns, payloadLength);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(span[MediaProtocol.HeaderBytes..], (ushort)frame.Width);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(span[(MediaProtocol.HeaderBytes + 2)..], (ushort)frame.Height);
            data.CopyTo(span[(MediaProtocol.HeaderBytes + 4)..]);
            queue.TryEnqueue(outbound);
        }
        finally
        {
            frame.Dispose();
            Interlocked.Increment(ref buffersDisposed);
        }
    }

    /// <inheritdoc />
    public void OnDominantSpeaker(uint msi, long timestamp100Ns)
    {
        Enqueue(new DominantSpeakerFrame(sessionId, 0, (ulong)timestamp100Ns, msi), timestamp100Ns);
        onDominantSpeaker?.Invoke(msi, timestamp100Ns);
    }

    /// <inheritdoc />
    public void OnSocketState(SocketKind kind, int socketIndex, bool isActive, long timestamp100Ns)
    {
        Enqueue(new StreamStateFrame(sessionId, 0, (ulong)timestamp100Ns, 0, KindOf(kind), isActive), timestamp100Ns);
        onSocketState?.Invoke(kind, socketIndex, isActive);
    }

    /// <inheritdoc />
    public void OnStreamFailure(SocketKind kind, long timestamp100Ns) =>
        Enqueue(new StreamStateFrame(sessionId, 0, (ulong)timestamp100Ns, 0, KindOf(kind), false), timestamp100Ns);

    private static StreamStateKind KindOf(SocketKind kind) => kind switch
    {
        SocketKind.Audio => StreamStateKind.Audio,
        SocketKind.Video => StreamStateKind.Video,
        _ => StreamStateKind.Vbss,
    };

    private void Enqueue(MediaFrame frame, long timestamp100Ns) => queue.TryEnqueue(OutboundFrame.FromEncoded(MediaFrameEncoder.Encode(frame), timestamp100Ns));

    private OutboundFrame EncodeUnmixed(IAudioTick tick)
    {
        var speakers = tick.Speakers;
        var count = Math.Min(speakers.Count, MediaProtocol.MaxUnmixedBuffers);
        var pcmBytes = 0;
        for (var i = 0; i < count; i++) pcmBytes += tick.GetUnmixedPcm(speakers[i].Index).Length;
        var payloadLength = MediaFrameEncoder.UnmixedAudioPayloadBytes(count, pcmBytes);
        var outbound = OutboundFrame.Rent(MediaProtocol.HeaderBytes + payloadLength, tick.Timestamp100Ns);
        var span = outbound.Span;
        MediaFrameEncoder.WriteHeader(span, FrameType.AudioUnmixed, 0, PayloadFormat.Pcm16K, sessionId, 0, 0, (ulong)tick.Timestamp100Ns, payloadLength);
        var payload = span[MediaProtocol.HeaderBytes..];
        payload[0] = (byte)count;
        payload[1..4].Clear();
        var offset = 4;
        for (var i = 0; i < count; i++)
        {
            var speaker = speakers[i];
            offset += MediaFrameEncoder.WriteUnmixedEntry(payload[offset..], speaker.Msi, (ulong)speaker.OriginalSenderTimestamp100Ns, tick.GetUnmixedPcm(speaker.Index));
        }
        return outbound;
    }

    private OutboundFrame EncodeMixed(IAudioTick tick)
    {
        var pcm = tick.MixedPcm;
        var outbound = OutboundFrame.Rent(MediaProtocol.HeaderBytes + pcm.Length, tick.Timestamp100Ns);
        MediaFrameEncoder.WriteHeader(outbound.Span, FrameType.AudioMixed, 0, PayloadFormat.Pcm16K, sessionId, 0, 0, (ulong)tick.Timestamp100Ns, pcm.Length);
        pcm.CopyTo(outbound.Span[MediaProtocol.HeaderBytes..]);
        return outbound;
    }

    /// <summary>Compares by index: no enumerator (a boxed one per tick through the interface).</summary>
    private static bool IsSame(IReadOnlyList<uint> current, uint[] last)
    {
        if (current.Count != last.Length) return false;
        for (var i = 0; i < last.Length; i++)
        {
            if (current[i] != last[i]) return false;
        }
        return true;
    }

    /// <summary>Sends the active speakers when the set differs from the last one sent.</summary>
    private void ForwardActiveSpeakers(IAudioTick tick)
    {
        var current = tick.ActiveSpeakers;
        lock (speakersGate)
        {
            if (IsSame(current, activeSpeakers)) return;
            activeSpeakers = [.. current];
        }
        Enqueue(new ActiveSpeakersFrame(sessionId, 0, (ulong)tick.Timestamp100Ns, [.. current]), tick.Timestamp100Ns);
    }
}
