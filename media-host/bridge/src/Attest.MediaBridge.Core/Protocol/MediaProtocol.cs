namespace Attest.MediaBridge.Protocol;

/// <summary>
/// Constants of the Attest media protocol, version 1 (docs/media-protocol.md). The TypeScript
/// codec in core/src/media-protocol/ is the other implementation; golden frames shared by both
/// test suites keep the two identical.
/// </summary>
public static class MediaProtocol
{
    /// <summary>Protocol version written and accepted.</summary>
    public const byte Version = 1;

    /// <summary><c>A</c>, <c>M</c>: the first two bytes of every frame (little-endian 0x4D41).</summary>
    public const ushort Magic = 0x4D41;

    /// <summary>Bytes of the fixed header before the payload.</summary>
    public const int HeaderBytes = 44;

    /// <summary>Default upper bound of one frame's payload.</summary>
    public const int DefaultMaxPayloadBytes = 4 * 1024 * 1024;

    /// <summary>Unmixed audio carries at most this many per-speaker buffers per frame.</summary>
    public const int MaxUnmixedBuffers = 4;

    /// <summary>Dominant speaker value meaning nobody.</summary>
    public const uint NoDominantSpeaker = 0xFFFFFFFF;

    /// <summary>Longest session token in a hello frame, in bytes.</summary>
    public const int MaxTokenBytes = 1024;

    /// <summary>Longest reason in an error frame, in bytes.</summary>
    public const int MaxErrorMessageBytes = 1024;

    /// <summary>Header offset of the sequence number (patched when a queued frame is sent).</summary>
    public const int SequenceOffset = 28;

    /// <summary>Header flag: the video frame is a key frame.</summary>
    public const ushort KeyFrameFlag = 0x0001;

    /// <summary>Payload bytes of a stream-state frame that reports a source state.</summary>
    public const int StreamStateBytes = 2;

    /// <summary>Payload bytes of a stream-state frame that reports a gap.</summary>
    public const int StreamGapBytes = 16;
}

/// <summary>Frame type codes.</summary>
public enum FrameType : byte
{
    Hello = 0x01,
    AudioMixed = 0x02,
    AudioUnmixed = 0x03,
    Video = 0x04,
    Vbss = 0x05,
    DominantSpeaker = 0x06,
    ActiveSpeakers = 0x07,
    StreamState = 0x08,
    End = 0x09,
    Ack = 0x81,
    Error = 0x82,
}

/// <summary>Payload format codes.</summary>
public enum PayloadFormat : ushort
{
    None = 0,
    Pcm16K = 1,
    Pcm44KStereo = 2,
    H264 = 3,
    Nv12 = 4,
}

/// <summary>What a stream-state frame is about.</summary>
public enum StreamStateKind : byte
{
    Audio = 0,
    Video = 1,
    Vbss = 2,

    /// <summary>Every stream of the session (only in a gap report: the source's queue is per call).</summary>
    Session = 3,
}

/// <summary>Why a source reports a gap.</summary>
public enum StreamGapReason : byte
{
    /// <summary>The source's bounded queue was full: the media host did not take frames fast enough.</summary>
    SourceQueueOverflow = 1,
}

/// <summary>Error codes carried by an error frame.</summary>
public enum MediaProtocolErrorCode : ushort
{
    ProtocolViolation = 1,
    Unauthorized = 2,
    SessionClosed = 3,
    Overloaded = 4,
    Internal = 5,
}

/// <summary>What the decoder reports on bad input.</summary>
public enum MediaProtocolErrorKind
{
    BadMagic,
    UnsupportedVersion,
    UnknownFrameType,
    Oversized,
    Malformed,
    OutOfOrder,
    Truncated,
}
