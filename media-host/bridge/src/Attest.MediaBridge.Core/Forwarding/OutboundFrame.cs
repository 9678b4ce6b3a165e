using System.Buffers;

namespace Attest.MediaBridge.Forwarding;

/// <summary>
/// One encoded frame waiting to be sent, in a pooled array. Its sequence number is written when
/// it is sent (dropped frames never take a number). <see cref="Release"/> returns the array once.
/// </summary>
public sealed class OutboundFrame
{
    private byte[]? buffer;

    private OutboundFrame(byte[] buffer, int length, long timestamp100Ns)
    {
        this.buffer = buffer;
        Length = length;
        Timestamp100Ns = timestamp100Ns;
    }

    /// <summary>Encoded bytes of the frame.</summary>
    public int Length { get; }

    /// <summary>The frame's platform timestamp (for gap reports).</summary>
    public long Timestamp100Ns { get; }

    /// <summary>The sequence number it was sent with (0 until sent).</summary>
    public uint Sequence { get; set; }

    /// <summary>The encoded bytes.</summary>
    public Span<byte> Span => (buffer ?? throw new ObjectDisposedException(nameof(OutboundFrame))).AsSpan(0, Length);

    /// <summary>The encoded bytes as memory (for stream writes).</summary>
    public ReadOnlyMemory<byte> Memory => (buffer ?? throw new ObjectDisposedException(nameof(OutboundFrame))).AsMemory(0, Length);

    /// <summary>Rents an array of at least <paramref name="length"/> bytes.</summary>
    public static OutboundFrame Rent(int length, long timestamp100Ns) => new(ArrayPool<byte>.Shared.Rent(length), length, timestamp100Ns);

    /// <summary>Wraps bytes that are already encoded (copied into a pooled array).</summary>
    public static OutboundFrame FromEncoded(ReadOnlySpan<byte> encoded, long timestamp100Ns)
    {
        var frame = Rent(encoded.Length, timestamp100Ns);
        encoded.CopyTo(frame.Span);
        return frame;
    }

    /// <summary>Gives the array back to the pool; later calls do nothing.</summary>
    public void Release()
    {
        var rented = Interlocked.Exchange(ref buffer, null);
        if (rented is not null) ArrayPool<byte>.Shared.Return(rented);
    }
}
