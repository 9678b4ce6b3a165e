using System.Buffers.Binary;
using System.Text;

namespace Attest.MediaBridge.Protocol;

/// <summary>What one <see cref="MediaFrameDecoder.Push"/> produced.</summary>
/// <param name="Frames">Whole frames decoded, in order.</param>
/// <param name="Error">Set once input was bad; the decoder accepts nothing more after that.</param>
public sealed record DecodeResult(IReadOnlyList<MediaFrame> Frames, MediaProtocolDecodeError? Error);

/// <summary>
/// Incremental decoder for one connection, with the same rules as the TypeScript decoder: feed
/// chunks with any boundaries, get whole frames; bad input yields a typed error, never an
/// exception, and spends the decoder. Decoded payloads are copies.
/// </summary>
public sealed class MediaFrameDecoder
{
    private readonly int maxPayloadBytes;
    private byte[] pending = new byte[4096];
    private int pendingLength;
    private long consumedBytes;
    private uint? expectedSequence;

    /// <summary>Creates a decoder.</summary>
    /// <param name="maxPayloadBytes">Largest accepted payload; a bigger declared length is oversized.</param>
    /// <param name="expectedSequence">When set, sequenced frames must carry exactly this number and then the next ones.</param>
    public MediaFrameDecoder(int maxPayloadBytes = MediaProtocol.DefaultMaxPayloadBytes, uint? expectedSequence = null)
    {
        this.maxPayloadBytes = maxPayloadBytes;
        this.expectedSequence = expectedSequence;
    }

    /// <summary>The error that spent this decoder, if any.</summary>
    public MediaProtocolDecodeError? Error { get; private set; }

    /// <summary>Bytes received but not yet part of a whole frame.</summary>
    public int BufferedBytes => pendingLength;

    /// <summary>Decodes what <paramref name="chunk"/> completes.</summary>
    public DecodeResult Push(ReadOnlySpan<byte> chunk)
    {
        var frames = new List<MediaFrame>();
        if (Error is not null) return new DecodeResult(frames, Error);
        Append(chunk);
        var offset = 0;
        while (pendingLength - offset >= MediaProtocol.HeaderBytes)
        {
            var data = pending.AsSpan(offset, pendingLength - offset);
            var (frame, length, error) = DecodeOne(data, consumedBytes + offset);
            if (error is not null)
            {
                Error = error;
                pendingLength = 0;
                return new DecodeResult(frames, error);
            }
            if (frame is null) break;
            frames.Add(frame);
            offset += length;
        }
        consumedBytes += offset;
        pending.AsSpan(offset, pendingLength - offset).CopyTo(pending);
        pendingLength -= offset;
        return new DecodeResult(frames, null);
    }

    /// <summary>Call when the connection ends: a partial frame left over is truncated.</summary>
    public MediaProtocolDecodeError? End()
    {
        if (Error is null && pendingLength > 0)
            Error = new MediaProtocolDecodeError(MediaProtocolErrorKind.Truncated, $"connection ended inside a frame ({pendingLength} bytes pending)", consumedBytes);
        return Error;
    }

    /// <summary>Decodes a buffer that holds exactly whole frames.</summary>
    public static DecodeResult DecodeAll(ReadOnlySpan<byte> bytes)
    {
        var decoder = new MediaFrameDecoder();
        var result = decoder.Push(bytes);
        if (result.Error is not null) return result;
        return new DecodeResult(result.Frames, decoder.End());
    }

    private void Append(ReadOnlySpan<byte> chunk)
    {
        if (pendingLength + chunk.Length > pending.Length)
            Array.Resize(ref pending, Math.Max(pending.Length * 2, pendingLength + chunk.Length));
        chunk.CopyTo(pending.AsSpan(pendingLength));
        pendingLength += chunk.Length;
    }

    private (MediaFrame? Frame, int Length, MediaProtocolDecodeError? Error) DecodeOne(ReadOnlySpan<byte> data, long at)
    {
        (MediaFrame?, int, MediaProtocolDecodeError?) Fail(MediaProtocolErrorKind kind, string message) => (null, 0, new MediaProtocolDecodeError(kind, message, at));

        if (BinaryPrimitives.ReadUInt16LittleEndian(data) != MediaProtocol.Magic) return Fail(MediaProtocolErrorKind.BadMagic, "frame does not start with the magic bytes");
        var version = data[2];
        if (version != MediaProtocol.Version) return Fail(MediaProtocolErrorKind.UnsupportedVersion, $"protocol version {version} is not supported");
        var type = (FrameType)data[3];
        if (!Enum.IsDefined(type)) return Fail(MediaProtocolErrorKind.UnknownFrameType, $"frame type 0x{data[3]:x} is unknown");
        var flags = BinaryPrimitives.ReadUInt16LittleEndian(data[4..]);
        var format = (PayloadFormat)BinaryPrimitives.ReadUInt16LittleEndian(data[6..]);
        if (!Enum.IsDefined(format)) return Fail(MediaProtocolErrorKind.Malformed, $"payload format {(ushort)format} is unknown");
        var payloadLength = BinaryPrimitives.ReadUInt32LittleEndian(data[40..]);
        if (payloadLength > maxPayloadBytes) return Fail(MediaProtocolErrorKind.Oversized, $"payload of {payloadLength} bytes exceeds the limit of {maxPayloadBytes}");
        var total = MediaProtocol.HeaderBytes + (int)payloadLength;
        if (total > data.Length) return (null, 0, null);
        var sessionId = new Guid(data.Slice(8, 16), bigEndian: true);
        var msi = BinaryPrimitives.ReadUInt32LittleEndian(data[24..]);
        var sequence = BinaryPrimitives.ReadUInt32LittleEndian(data[28..]);
        var timestamp = BinaryPrimitives.ReadUInt64LittleEndian(data[32..]);
        var body = data.Slice(MediaProtocol.HeaderBytes, (int)payloadLength);
        var (frame, problem) = DecodeBody(type, sessionId, msi, sequence, timestamp, flags, format, body);
        if (frame is null) return Fail(MediaProtocolErrorKind.Malformed, problem!);
        if (frame.IsSequenced)
        {
            if (expectedSequence is { } expected)
            {
                if (sequence != expected) return Fail(MediaProtocolErrorKind.OutOfOrder, $"frame sequence {sequence} where {expected} was expected");
                expectedSequence = expected + 1;
            }
        }
        else if (sequence != 0)
        {
            return Fail(MediaProtocolErrorKind.Malformed, $"{type} frame must carry sequence 0");
        }
        return (frame, total, null);
    }

    private static (MediaFrame? Frame, string? Problem) DecodeBody(
        FrameType type, Guid sessionId, uint msi, uint sequence, ulong timestamp, ushort flags, PayloadFormat format, ReadOnlySpan<byte> body)
    {
        switch (type)
        {
            case FrameType.Hello:
                if (body.Length is 0 or > MediaProtocol.MaxTokenBytes) return (null, "hello token must be 1 to 1024 bytes");
                return (new HelloFrame(sessionId, Encoding.UTF8.GetString(body)), null);
            case FrameType.AudioMixed:
                return (new AudioMixedFrame(sessionId, sequence, timestamp, format, body.ToArray()), null);
            case FrameType.AudioUnmixed:
                return DecodeUnmixed(sessionId, sequence, timestamp, format, body);
            case FrameType.Video:
            case FrameType.Vbss:
                if (body.Length < 4) return (null, "video payload shorter than its size header");
                return (new VideoFrame(
                    sessionId, sequence, timestamp, msi, type == FrameType.Vbss, format, (flags & MediaProtocol.KeyFrameFlag) != 0,
                    BinaryPrimitives.ReadUInt16LittleEndian(body), BinaryPrimitives.ReadUInt16LittleEndian(body[2..]), body[4..].ToArray()), null);
            case FrameType.DominantSpeaker:
                if (body.Length != 4) return (null, "dominant speaker payload must be 4 bytes");
                return (new DominantSpeakerFrame(sessionId, sequence, timestamp, BinaryPrimitives.ReadUInt32LittleEndian(body)), null);
            case FrameType.ActiveSpeakers:
                if (body.Length < 1) return (null, "active speakers payload is empty");
                if (body.Length != 1 + (4 * body[0])) return (null, "active speakers payload length does not match its count");
                var msis = new uint[body[0]];
                for (var i = 0; i < msis.Length; i++) msis[i] = BinaryPrimitives.ReadUInt32LittleEndian(body[(1 + (4 * i))..]);
                return (new ActiveSpeakersFrame(sessionId, sequence, timestamp, msis), null);
            case FrameType.StreamState:
                return DecodeStreamState(sessionId, sequence, timestamp, msi, body);
            case FrameType.End:
                if (body.Length != 0) return (null, "end frame carries no payload");
                return (new EndFrame(sessionId, sequence, timestamp), null);
            case FrameType.Ack:
                if (body.Length != 8) return (null, "ack payload must be 8 bytes");
                return (new AckFrame(sessionId, BinaryPrimitives.ReadUInt32LittleEndian(body), BinaryPrimitives.ReadUInt32LittleEndian(body[4..])), null);
            case FrameType.Error:
                if (body.Length < 2 || body.Length > 2 + MediaProtocol.MaxErrorMessageBytes) return (null, "error payload length out of range");
                return (new ErrorFrame(sessionId, (MediaProtocolErrorCode)BinaryPrimitives.ReadUInt16LittleEndian(body), Encoding.UTF8.GetString(body[2..])), null);
            default:
                return (null, "unknown frame type");
        }
    }

    private static (MediaFrame? Frame, string? Problem) DecodeUnmixed(Guid sessionId, uint sequence, ulong timestamp, PayloadFormat format, ReadOnlySpan<byte> body)
    {
        if (body.Length < 4) return (null, "unmixed audio payload shorter than its count");
        var count = body[0];
        if (count > MediaProtocol.MaxUnmixedBuffers) return (null, "unmixed audio declares more than 4 buffers");
        var buffers = new List<UnmixedAudioBuffer>(count);
        var offset = 4;
        for (var i = 0; i < count; i++)
        {
            if (offset + 16 > body.Length) return (null, "unmixed audio buffer header truncated");
            var msi = BinaryPrimitives.ReadUInt32LittleEndian(body[offset..]);
            var original = BinaryPrimitives.ReadUInt64LittleEndian(body[(offset + 4)..]);
            var length = BinaryPrimitives.ReadUInt32LittleEndian(body[(offset + 12)..]);
            offset += 16;
            if (offset + (long)length > body.Length) return (null, "unmixed audio buffer longer than the payload");
            buffers.Add(new UnmixedAudioBuffer(msi, original, body.Slice(offset, (int)length).ToArray()));
            offset += (int)length;
        }
        if (offset != body.Length) return (null, "unmixed audio payload has trailing bytes");
        return (new AudioUnmixedFrame(sessionId, sequence, timestamp, format, buffers), null);
    }

    private static (MediaFrame? Frame, string? Problem) DecodeStreamState(Guid sessionId, uint sequence, ulong timestamp, uint msi, ReadOnlySpan<byte> body)
    {
        if (body.Length is not (MediaProtocol.StreamStateBytes or MediaProtocol.StreamGapBytes)) return (null, "stream state payload must be 2 or 16 bytes");
        var kind = body[0];
        var state = body[1];
        if (body.Length == MediaProtocol.StreamStateBytes)
        {
            if (kind > 2 || state > 1) return (null, "stream state payload has unknown values");
            return (new StreamStateFrame(sessionId, sequence, timestamp, msi, (StreamStateKind)kind, state == 1), null);
        }
        var reason = (StreamGapReason)body[2];
        if (kind > 3 || state != 0 || !Enum.IsDefined(reason) || body[3] != 0) return (null, "stream gap payload has unknown values");
        var gap = new StreamGap(reason, BinaryPrimitives.ReadUInt32LittleEndian(body[4..]), BinaryPrimitives.ReadUInt64LittleEndian(body[8..]));
        return (new StreamStateFrame(sessionId, sequence, timestamp, msi, (StreamStateKind)kind, false, gap), null);
    }
}
