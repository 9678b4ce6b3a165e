using System.Buffers.Binary;
using System.Text;

namespace Attest.MediaBridge.Protocol;

/// <summary>
/// Writes media protocol frames. <see cref="Encode"/> builds any frame (tools, tests);
/// <see cref="WriteHeader"/> and the payload writers let the forwarder encode straight into a
/// pooled buffer without allocating.
/// </summary>
public static class MediaFrameEncoder
{
    /// <summary>Writes the 44-byte header into <paramref name="destination"/>.</summary>
    public static void WriteHeader(
        Span<byte> destination,
        FrameType type,
        ushort flags,
        PayloadFormat format,
        Guid sessionId,
        uint msi,
        uint sequence,
        ulong timestamp100Ns,
        int payloadLength)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(destination, MediaProtocol.Magic);
        destination[2] = MediaProtocol.Version;
        destination[3] = (byte)type;
        BinaryPrimitives.WriteUInt16LittleEndian(destination[4..], flags);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[6..], (ushort)format);
        sessionId.TryWriteBytes(destination.Slice(8, 16), bigEndian: true, out _);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[24..], msi);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[MediaProtocol.SequenceOffset..], sequence);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[32..], timestamp100Ns);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[40..], (uint)payloadLength);
    }

    /// <summary>Sets the sequence number of an encoded frame (queued frames are numbered when sent).</summary>
    public static void PatchSequence(Span<byte> frame, uint sequence) =>
        BinaryPrimitives.WriteUInt32LittleEndian(frame[MediaProtocol.SequenceOffset..], sequence);

    /// <summary>Payload bytes of an unmixed audio frame whose buffers have these total PCM bytes.</summary>
    public static int UnmixedAudioPayloadBytes(int bufferCount, int totalPcmBytes) => 4 + (16 * bufferCount) + totalPcmBytes;

    /// <summary>Writes one speaker's entry of an unmixed payload at <paramref name="destination"/>; returns the bytes written.</summary>
    public static int WriteUnmixedEntry(Span<byte> destination, uint msi, ulong originalSenderTimestamp100Ns, ReadOnlySpan<byte> pcm)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(destination, msi);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[4..], originalSenderTimestamp100Ns);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[12..], (uint)pcm.Length);
        pcm.CopyTo(destination[16..]);
        return 16 + pcm.Length;
    }

    /// <summary>Encodes one frame. Throws <see cref="MediaProtocolEncodeException"/> on values that do not fit.</summary>
    public static byte[] Encode(MediaFrame frame, int maxPayloadBytes = MediaProtocol.DefaultMaxPayloadBytes)
    {
        ArgumentNullException.ThrowIfNull(frame);
        var (format, flags, payloadLength) = Measure(frame);
        if (payloadLength > maxPayloadBytes) throw new MediaProtocolEncodeException("payload exceeds the maximum frame size");
        if (!Enum.IsDefined(format)) throw new MediaProtocolEncodeException("unknown payload format");
        var output = new byte[MediaProtocol.HeaderBytes + payloadLength];
        WriteHeader(output, frame.Type, flags, format, frame.SessionId, frame.Msi, frame.Sequence, frame.Timestamp100Ns, payloadLength);
        WritePayload(frame, output.AsSpan(MediaProtocol.HeaderBytes));
        return output;
    }

    private static (PayloadFormat Format, ushort Flags, int Length) Measure(MediaFrame frame)
    {
        switch (frame)
        {
            case HelloFrame hello:
                var tokenBytes = Encoding.UTF8.GetByteCount(hello.Token);
                if (tokenBytes is 0 or > MediaProtocol.MaxTokenBytes) throw new MediaProtocolEncodeException("token must be 1 to 1024 bytes");
                return (PayloadFormat.None, 0, tokenBytes);
            case AudioMixedFrame mixed:
                return (mixed.Format, 0, mixed.Payload.Length);
            case AudioUnmixedFrame unmixed:
                if (unmixed.Buffers.Count > MediaProtocol.MaxUnmixedBuffers) throw new MediaProtocolEncodeException("unmixed audio carries at most 4 buffers");
                return (unmixed.Format, 0, UnmixedAudioPayloadBytes(unmixed.Buffers.Count, unmixed.Buffers.Sum(b => b.Payload.Length)));
            case VideoFrame video:
                return (video.Format, video.IsKeyFrame ? MediaProtocol.KeyFrameFlag : (ushort)0, 4 + video.Payload.Length);
            case DominantSpeakerFrame:
                return (PayloadFormat.None, 0, 4);
            case ActiveSpeakersFrame active:
                if (active.Msis.Count > 255) throw new MediaProtocolEncodeException("at most 255 active speakers");
                return (PayloadFormat.None, 0, 1 + (4 * active.Msis.Count));
            case StreamStateFrame state:
                if (state.Kind == StreamStateKind.Session && state.Gap is null) throw new MediaProtocolEncodeException("a session-wide stream state must report a gap");
                if (state.Gap is not null && state.IsActive) throw new MediaProtocolEncodeException("a gap report is never active");
                return (PayloadFormat.None, 0, state.Gap is null ? MediaProtocol.StreamStateBytes : MediaProtocol.StreamGapBytes);
            case EndFrame:
                return (PayloadFormat.None, 0, 0);
            case AckFrame:
                return (PayloadFormat.None, 0, 8);
            case ErrorFrame error:
                return (PayloadFormat.None, 0, 2 + Math.Min(Encoding.UTF8.GetByteCount(error.Message), MediaProtocol.MaxErrorMessageBytes));
            default:
                throw new MediaProtocolEncodeException("unknown frame");
        }
    }

    private static void WritePayload(MediaFrame frame, Span<byte> payload)
    {
        switch (frame)
        {
            case HelloFrame hello:
                Encoding.UTF8.GetBytes(hello.Token, payload);
                break;
            case AudioMixedFrame mixed:
                mixed.Payload.Span.CopyTo(payload);
                break;
            case AudioUnmixedFrame unmixed:
                payload[0] = (byte)unmixed.Buffers.Count;
                payload[1..4].Clear();
                var offset = 4;
                foreach (var buffer in unmixed.Buffers)
                    offset += WriteUnmixedEntry(payload[offset..], buffer.Msi, buffer.OriginalSenderTimestamp100Ns, buffer.Payload.Span);
                break;
            case VideoFrame video:
                BinaryPrimitives.WriteUInt16LittleEndian(payload, video.Width);
                BinaryPrimitives.WriteUInt16LittleEndian(payload[2..], video.Height);
                video.Payload.Span.CopyTo(payload[4..]);
                break;
            case DominantSpeakerFrame dominant:
                BinaryPrimitives.WriteUInt32LittleEndian(payload, dominant.DominantMsi);
                break;
            case ActiveSpeakersFrame active:
                payload[0] = (byte)active.Msis.Count;
                for (var i = 0; i < active.Msis.Count; i++) BinaryPrimitives.WriteUInt32LittleEndian(payload[(1 + (4 * i))..], active.Msis[i]);
                break;
            case StreamStateFrame state:
                payload[0] = (byte)state.Kind;
                payload[1] = state.IsActive ? (byte)1 : (byte)0;
                if (state.Gap is { } gap) WriteGap(payload, gap);
                break;
            case AckFrame ack:
                BinaryPrimitives.WriteUInt32LittleEndian(payload, ack.AckedSequence);
                BinaryPrimitives.WriteUInt32LittleEndian(payload[4..], ack.NextSequence);
                break;
            case ErrorFrame error:
                BinaryPrimitives.WriteUInt16LittleEndian(payload, (ushort)error.Code);
                var text = Encoding.UTF8.GetBytes(error.Message);
                text.AsSpan(0, Math.Min(text.Length, MediaProtocol.MaxErrorMessageBytes)).CopyTo(payload[2..]);
                break;
        }
    }

    /// <summary>Writes a gap report's 16 payload bytes (kind and state must be written by the caller).</summary>
    public static void WriteGap(Span<byte> payload, StreamGap gap)
    {
        ArgumentNullException.ThrowIfNull(gap);
        payload[2] = (byte)gap.Reason;
        payload[3] = 0;
        BinaryPrimitives.WriteUInt32LittleEndian(payload[4..], gap.DroppedFrames);
        BinaryPrimitives.WriteUInt64LittleEndian(payload[8..], gap.LastTimestamp100Ns);
    }
}
