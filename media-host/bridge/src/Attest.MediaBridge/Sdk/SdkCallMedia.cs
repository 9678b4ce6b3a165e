using Attest.MediaBridge.Platform;
using Microsoft.Skype.Bots.Media;
using UnmixedAudioBuffer = Microsoft.Skype.Bots.Media.UnmixedAudioBuffer;
using Newtonsoft.Json;

namespace Attest.MediaBridge.Sdk;

/// <summary>One call's SDK sockets, created exactly as the <see cref="CallSocketPlan"/> says.</summary>
internal sealed class SdkCallMedia : ICallMedia
{
    private readonly AudioSocket audio;
    private readonly List<VideoSocket> videos;
    private readonly VideoSocket screenShare;
    private int isDisposed;

    public SdkCallMedia(CallSocketPlan plan, ICallMediaEvents events)
    {
        audio = new AudioSocket(new AudioSocketSettings
        {
            StreamDirections = Direction(plan.Audio),
            SupportedAudioFormat = AudioFormat.Pcm16K,
            ReceiveUnmixedMeetingAudio = plan.Audio.ReceiveUnmixedMeetingAudio,
            CallId = plan.CorrelationId,
        });
        videos = plan.Video.Select(v => new VideoSocket(VideoSettings(v, MediaType.Video, plan.CorrelationId))).ToList();
        screenShare = new VideoSocket(VideoSettings(plan.ScreenShare, MediaType.Vbss, plan.CorrelationId));

        // Handlers only wrap and hand over: the forwarder copies, disposes and queues without waiting.
        audio.AudioMediaReceived += (_, e) => events.OnAudio(new SdkAudioTick(e.Buffer));
        audio.DominantSpeakerChanged += (_, e) => events.OnDominantSpeaker(e.CurrentDominantSpeaker, MediaPlatform.GetCurrentTimestamp());
        audio.MediaStreamFailure += (_, _) => events.OnStreamFailure(SocketKind.Audio, MediaPlatform.GetCurrentTimestamp());
        for (var i = 0; i < videos.Count; i++)
        {
            var index = i;
            videos[i].VideoMediaReceived += (_, e) => events.OnVideo(new SdkVideoFrame(e.Buffer, SocketKind.Video, index));
            videos[i].VideoReceiveStatusChanged += (_, e) =>
                events.OnSocketState(SocketKind.Video, index, e.MediaReceiveStatus == MediaReceiveStatus.Active, MediaPlatform.GetCurrentTimestamp());
            videos[i].MediaStreamFailure += (_, _) => events.OnStreamFailure(SocketKind.Video, MediaPlatform.GetCurrentTimestamp());
        }
        screenShare.VideoMediaReceived += (_, e) => events.OnVideo(new SdkVideoFrame(e.Buffer, SocketKind.ScreenShare, 0));
        screenShare.VideoReceiveStatusChanged += (_, e) =>
            events.OnSocketState(SocketKind.ScreenShare, 0, e.MediaReceiveStatus == MediaReceiveStatus.Active, MediaPlatform.GetCurrentTimestamp());
        screenShare.MediaStreamFailure += (_, _) => events.OnStreamFailure(SocketKind.ScreenShare, MediaPlatform.GetCurrentTimestamp());

        MediaConfigurationBlob = MediaPlatform
            .CreateMediaConfiguration(audio, videos.Cast<IVideoSocket>().ToList(), screenShare)
            .ToString(Formatting.None);
    }

    public string MediaConfigurationBlob { get; }

    public void SubscribeVideo(int socketIndex, uint msi) => videos[socketIndex].Subscribe(VideoResolution.HD1080p, msi);

    public void UnsubscribeVideo(int socketIndex) => videos[socketIndex].Unsubscribe();

    public void SubscribeScreenShare(uint msi) => screenShare.Subscribe(VideoResolution.HD1080p, msi);

    public void UnsubscribeScreenShare() => screenShare.Unsubscribe();

    public void Dispose()
    {
        if (Interlocked.Exchange(ref isDisposed, 1) == 1) return;
        audio.Dispose();
        foreach (var video in videos) video.Dispose();
        screenShare.Dispose();
    }

    private static StreamDirection Direction(SocketPlan plan) => plan.IsReceiveOnly ? StreamDirection.Recvonly : StreamDirection.Sendrecv;

    private static VideoSocketSettings VideoSettings(SocketPlan plan, MediaType mediaType, string callId) => new()
    {
        StreamDirections = Direction(plan),
        ReceiveColorFormat = plan.Format == SocketFormat.H264 ? VideoColorFormat.H264 : VideoColorFormat.NV12,
        MediaType = mediaType,
        CallId = callId,
    };
}

/// <summary>An SDK audio buffer seen through <see cref="IAudioTick"/>; disposing it disposes the SDK buffer.</summary>
internal sealed unsafe class SdkAudioTick : IAudioTick
{
    private readonly AudioMediaBuffer buffer;
    private readonly UnmixedAudioBuffer[] unmixed;

    public SdkAudioTick(AudioMediaBuffer buffer)
    {
        this.buffer = buffer;
        unmixed = buffer.UnmixedAudioBuffers ?? [];
        Speakers = unmixed.Select((u, i) => new UnmixedSpeaker(u.ActiveSpeakerId, u.OriginalSenderTimestamp, i)).ToArray();
        ActiveSpeakers = buffer.ActiveSpeakers ?? [];
    }

    public long Timestamp100Ns => buffer.Timestamp;

    public IReadOnlyList<UnmixedSpeaker> Speakers { get; }

    public IReadOnlyList<uint> ActiveSpeakers { get; }

    public ReadOnlySpan<byte> MixedPcm => new((void*)buffer.Data, (int)buffer.Length);

    public ReadOnlySpan<byte> GetUnmixedPcm(int index) => new((void*)unmixed[index].Data, (int)unmixed[index].Length);

    public void Dispose() => buffer.Dispose();
}

/// <summary>An SDK video buffer seen through <see cref="IVideoFrameBuffer"/>; disposing it disposes the SDK buffer.</summary>
internal sealed unsafe class SdkVideoFrame(VideoMediaBuffer buffer, SocketKind kind, int socketIndex) : IVideoFrameBuffer
{
    public SocketKind Kind => kind;

    public int SocketIndex => socketIndex;

    public uint Msi => buffer.MediaSourceId;

    public long Timestamp100Ns => buffer.Timestamp;

    public int Width => buffer.VideoFormat.Width;

    public int Height => buffer.VideoFormat.Height;

    public ReadOnlySpan<byte> Data => new((void*)buffer.Data, (int)buffer.Length);

    public void Dispose() => buffer.Dispose();
}
