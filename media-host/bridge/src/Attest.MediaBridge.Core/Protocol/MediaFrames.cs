namespace Attest.MediaBridge.Protocol;

/// <summary>Fields every frame carries in its header.</summary>
/// <param name="SessionId">The media session (a UUID, written in text byte order).</param>
/// <param name="Sequence">1, 2, 3, … for media frames; 0 for hello, ack and error.</param>
/// <param name="Timestamp100Ns">Platform time in 100 ns units; 0 when not applicable.</param>
/// <param name="Msi">Source MSI; 0 when not applicable.</param>
public abstract record MediaFrame(Guid SessionId, uint Sequence, ulong Timestamp100Ns, uint Msi)
{
    /// <summary>The frame's type code.</summary>
    public abstract FrameType Type { get; }

    /// <summary>Whether the frame takes a sequence number (every client frame except hello).</summary>
    public bool IsSequenced => Type is not (FrameType.Hello or FrameType.Ack or FrameType.Error);
}

/// <summary>First frame of a connection: the session's one-time token.</summary>
public sealed record HelloFrame(Guid SessionId, string Token) : MediaFrame(SessionId, 0, 0, 0)
{
    /// <inheritdoc />
    public override FrameType Type => FrameType.Hello;
}

/// <summary>Mixed audio as received.</summary>
public sealed record AudioMixedFrame(Guid SessionId, uint Sequence, ulong Timestamp100Ns, PayloadFormat Format, ReadOnlyMemory<byte> Payload)
    : MediaFrame(SessionId, Sequence, Timestamp100Ns, 0)
{
    /// <inheritdoc />
    public override FrameType Type => FrameType.AudioMixed;
}

/// <summary>One speaker's buffer of an unmixed audio tick.</summary>
public sealed record UnmixedAudioBuffer(uint Msi, ulong OriginalSenderTimestamp100Ns, ReadOnlyMemory<byte> Payload);

/// <summary>Every speaker's buffer of one 20 ms tick.</summary>
public sealed record AudioUnmixedFrame(Guid SessionId, uint Sequence, ulong Timestamp100Ns, PayloadFormat Format, IReadOnlyList<UnmixedAudioBuffer> Buffers)
    : MediaFrame(SessionId, Sequence, Timestamp100Ns, 0)
{
    /// <inheritdoc />
    public override FrameType Type => FrameType.AudioUnmixed;
}

/// <summary>One whole video access unit (or NV12 picture) of a video or screen-share source.</summary>
public sealed record VideoFrame(
    Guid SessionId,
    uint Sequence,
    ulong Timestamp100Ns,
    uint Msi,
    bool IsScreenShare,
    PayloadFormat Format,
    bool IsKeyFrame,
    ushort Width,
    ushort Height,
    ReadOnlyMemory<byte> Payload) : MediaFrame(SessionId, Sequence, Timestamp100Ns, Msi)
{
    /// <inheritdoc />
    public override FrameType Type => IsScreenShare ? FrameType.Vbss : FrameType.Video;
}

/// <summary>The dominant speaker changed (<see cref="MediaProtocol.NoDominantSpeaker"/> = nobody).</summary>
public sealed record DominantSpeakerFrame(Guid SessionId, uint Sequence, ulong Timestamp100Ns, uint DominantMsi)
    : MediaFrame(SessionId, Sequence, Timestamp100Ns, 0)
{
    /// <inheritdoc />
    public override FrameType Type => FrameType.DominantSpeaker;
}

/// <summary>The set of active speakers changed.</summary>
public sealed record ActiveSpeakersFrame(Guid SessionId, uint Sequence, ulong Timestamp100Ns, IReadOnlyList<uint> Msis)
    : MediaFrame(SessionId, Sequence, Timestamp100Ns, 0)
{
    /// <inheritdoc />
    public override FrameType Type => FrameType.ActiveSpeakers;
}

/// <summary>A gap the source reports: frames it dropped, from the header's timestamp to <paramref name="LastTimestamp100Ns"/>.</summary>
public sealed record StreamGap(StreamGapReason Reason, uint DroppedFrames, ulong LastTimestamp100Ns);

/// <summary>A source's stream became active or inactive, or (with <see cref="Gap"/>) frames were dropped.</summary>
public sealed record StreamStateFrame(Guid SessionId, uint Sequence, ulong Timestamp100Ns, uint Msi, StreamStateKind Kind, bool IsActive, StreamGap? Gap = null)
    : MediaFrame(SessionId, Sequence, Timestamp100Ns, Msi)
{
    /// <inheritdoc />
    public override FrameType Type => FrameType.StreamState;
}

/// <summary>The source has nothing more.</summary>
public sealed record EndFrame(Guid SessionId, uint Sequence, ulong Timestamp100Ns) : MediaFrame(SessionId, Sequence, Timestamp100Ns, 0)
{
    /// <inheritdoc />
    public override FrameType Type => FrameType.End;
}

/// <summary>Host to source: what is durable and where to resume.</summary>
public sealed record AckFrame(Guid SessionId, uint AckedSequence, uint NextSequence) : MediaFrame(SessionId, 0, 0, 0)
{
    /// <inheritdoc />
    public override FrameType Type => FrameType.Ack;
}

/// <summary>Host to source: why the host ends the connection.</summary>
public sealed record ErrorFrame(Guid SessionId, MediaProtocolErrorCode Code, string Message) : MediaFrame(SessionId, 0, 0, 0)
{
    /// <inheritdoc />
    public override FrameType Type => FrameType.Error;
}

/// <summary>A decoding failure (never thrown by the decoder).</summary>
/// <param name="Kind">The kind of failure.</param>
/// <param name="Message">Log-safe description.</param>
/// <param name="Offset">Byte offset in the connection where the bad frame starts.</param>
public sealed record MediaProtocolDecodeError(MediaProtocolErrorKind Kind, string Message, long Offset);

/// <summary>Thrown by the encoder on values that do not fit the format (a programming error).</summary>
public sealed class MediaProtocolEncodeException : Exception
{
    /// <summary>Creates the exception with the stable code in its message.</summary>
    public MediaProtocolEncodeException(string message) : base($"[ATT_PROTOCOL_VIOLATION] {message}") { }

    /// <summary>Required by the analyzers.</summary>
    public MediaProtocolEncodeException() : base("[ATT_PROTOCOL_VIOLATION]") { }

    /// <summary>Required by the analyzers.</summary>
    public MediaProtocolEncodeException(string message, Exception inner) : base($"[ATT_PROTOCOL_VIOLATION] {message}", inner) { }
}
