using Attest.MediaBridge.Platform;

namespace Attest.MediaBridge.FakeHost;

/// <summary>Counts disposals of fake platform buffers; a second disposal of one buffer is recorded as an error.</summary>
public sealed class DisposalLedger
{
    private long created;
    private long disposed;
    private long disposedTwice;

    public long Created => Interlocked.Read(ref created);

    public long Disposed => Interlocked.Read(ref disposed);

    public long DisposedTwice => Interlocked.Read(ref disposedTwice);

    internal void OnCreated() => Interlocked.Increment(ref created);

    internal void OnDisposed(ref int flag)
    {
        if (Interlocked.Exchange(ref flag, 1) == 1) Interlocked.Increment(ref disposedTwice);
        else Interlocked.Increment(ref disposed);
    }
}

/// <summary>One speaker's PCM in a fake tick.</summary>
public sealed record FakeSpeakerPcm(uint Msi, long OriginalSenderTimestamp100Ns, byte[] Pcm);

/// <summary>An audio tick as the fake platform delivers it.</summary>
public sealed class FakeAudioTick : IAudioTick
{
    private readonly IReadOnlyList<FakeSpeakerPcm> speakers;
    private readonly byte[] mixed;
    private readonly DisposalLedger ledger;
    private int isDisposed;

    public FakeAudioTick(long timestamp100Ns, IReadOnlyList<FakeSpeakerPcm> speakers, DisposalLedger ledger, IReadOnlyList<uint>? activeSpeakers = null, byte[]? mixed = null)
    {
        Timestamp100Ns = timestamp100Ns;
        this.speakers = speakers;
        this.ledger = ledger;
        this.mixed = mixed ?? [];
        Speakers = speakers.Select((s, i) => new UnmixedSpeaker(s.Msi, s.OriginalSenderTimestamp100Ns, i)).ToArray();
        ActiveSpeakers = activeSpeakers ?? speakers.Select(s => s.Msi).ToArray();
        ledger.OnCreated();
    }

    public long Timestamp100Ns { get; }

    public IReadOnlyList<UnmixedSpeaker> Speakers { get; }

    public IReadOnlyList<uint> ActiveSpeakers { get; }

    public ReadOnlySpan<byte> MixedPcm => isDisposed == 0 ? mixed : throw new ObjectDisposedException(nameof(FakeAudioTick));

    public ReadOnlySpan<byte> GetUnmixedPcm(int index) => isDisposed == 0 ? speakers[index].Pcm : throw new ObjectDisposedException(nameof(FakeAudioTick));

    public void Dispose() => ledger.OnDisposed(ref isDisposed);
}

/// <summary>A video frame as the fake platform delivers it.</summary>
public sealed class FakeVideoFrame : IVideoFrameBuffer
{
    private readonly byte[] data;
    private readonly DisposalLedger ledger;
    private int isDisposed;

    public FakeVideoFrame(SocketKind kind, int socketIndex, uint msi, long timestamp100Ns, int width, int height, byte[] data, DisposalLedger ledger)
    {
        Kind = kind;
        SocketIndex = socketIndex;
        Msi = msi;
        Timestamp100Ns = timestamp100Ns;
        Width = width;
        Height = height;
        this.data = data;
        this.ledger = ledger;
        ledger.OnCreated();
    }

    public SocketKind Kind { get; }

    public int SocketIndex { get; }

    public uint Msi { get; }

    public long Timestamp100Ns { get; }

    public int Width { get; }

    public int Height { get; }

    public ReadOnlySpan<byte> Data => isDisposed == 0 ? data : throw new ObjectDisposedException(nameof(FakeVideoFrame));

    public void Dispose() => ledger.OnDisposed(ref isDisposed);
}
