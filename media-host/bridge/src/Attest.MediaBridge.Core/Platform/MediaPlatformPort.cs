namespace Attest.MediaBridge.Platform;

/// <summary>
/// The only door to Microsoft's real-time media platform. The production adapter
/// (src/Attest.MediaBridge, over Microsoft.Skype.Bots.Media) is thin: it maps these calls and
/// types one to one onto the SDK. Everything else in the bridge works against this port and is
/// tested with a fake.
/// </summary>
public interface IMediaPlatform
{
    /// <summary>Version of the media library in use (logged at start, shown in health).</summary>
    string SdkVersion { get; }

    /// <summary>Most video sockets one call may have on this library version.</summary>
    int MaxVideoSocketsPerCall { get; }

    /// <summary>Whether <see cref="Initialize"/> succeeded.</summary>
    bool IsInitialized { get; }

    /// <summary>The platform's own load state (normal, heavilyLoaded, overloaded; notInitialized before).</summary>
    string HealthStatus { get; }

    /// <summary>
    /// The platform's load state changed (the SDK's <c>MediaPlatformHealthChanged</c>). Raised on
    /// the platform's thread after <see cref="HealthStatus"/> has the new state; handlers must not block.
    /// </summary>
    event EventHandler<PlatformHealthChangedEventArgs>? HealthChanged;

    /// <summary>The platform's clock, in the 100 ns units of its buffers' timestamps.</summary>
    long GetCurrentTimestamp100Ns();

    /// <summary>Initializes the platform once per process. Throws when the platform refuses.</summary>
    void Initialize(MediaPlatformOptions options);

    /// <summary>
    /// Creates a call's sockets as <paramref name="plan"/> says and the media configuration for
    /// them. The platform calls <paramref name="events"/> on its own threads from then on.
    /// </summary>
    ICallMedia CreateCallMedia(CallSocketPlan plan, ICallMediaEvents events);
}

/// <summary>A change of the platform's load state, by the names <see cref="IMediaPlatform.HealthStatus"/> uses.</summary>
/// <param name="previous">The state before.</param>
/// <param name="current">The state now.</param>
public sealed class PlatformHealthChangedEventArgs(string previous, string current) : EventArgs
{
    /// <summary>The state before.</summary>
    public string Previous { get; } = previous;

    /// <summary>The state now.</summary>
    public string Current { get; } = current;
}

/// <summary>What the platform is initialized with (validated configuration).</summary>
/// <param name="ApplicationId">The bot's Entra application (client) id.</param>
/// <param name="CertificateThumbprint">Thumbprint of the media certificate in LocalMachine\My.</param>
/// <param name="InstanceInternalPort">Port the platform listens on, on this machine.</param>
/// <param name="InstancePublicPort">Port Teams reaches, on the public address.</param>
/// <param name="PublicIpAddress">This instance's public IP address.</param>
/// <param name="ServiceFqdn">DNS name on the certificate that resolves to the public address.</param>
public sealed record MediaPlatformOptions(
    string ApplicationId,
    string CertificateThumbprint,
    int InstanceInternalPort,
    int InstancePublicPort,
    System.Net.IPAddress PublicIpAddress,
    string ServiceFqdn);

/// <summary>Receive direction and format of one socket, as the adapter creates it.</summary>
/// <param name="Kind">Audio, video (multiview) or screen share.</param>
/// <param name="IsReceiveOnly">Always true: the recorder never sends media.</param>
/// <param name="Format">PCM 16 kHz for audio, H.264 for video and screen share.</param>
/// <param name="ReceiveUnmixedMeetingAudio">Audio only: one buffer per speaker.</param>
public sealed record SocketPlan(SocketKind Kind, bool IsReceiveOnly, SocketFormat Format, bool ReceiveUnmixedMeetingAudio);

/// <summary>Kinds of sockets a call has.</summary>
public enum SocketKind { Audio, Video, ScreenShare }

/// <summary>Formats the bridge receives.</summary>
public enum SocketFormat { Pcm16K, H264 }

/// <summary>Every socket of one call: one audio, N multiview video, one screen share.</summary>
/// <param name="CorrelationId">The media session id, given to the SDK as the call id for its logs.</param>
/// <param name="Audio">The audio socket.</param>
/// <param name="Video">The multiview video sockets, in order (socket index = position).</param>
/// <param name="ScreenShare">The screen share socket.</param>
public sealed record CallSocketPlan(string CorrelationId, SocketPlan Audio, IReadOnlyList<SocketPlan> Video, SocketPlan ScreenShare)
{
    /// <summary>The plan every recorded call uses: receive only, unmixed 16 kHz audio, H.264 video.</summary>
    public static CallSocketPlan ForRecording(string correlationId, int videoSocketCount) => new(
        correlationId,
        new SocketPlan(SocketKind.Audio, true, SocketFormat.Pcm16K, true),
        Enumerable.Range(0, videoSocketCount).Select(_ => new SocketPlan(SocketKind.Video, true, SocketFormat.H264, false)).ToArray(),
        new SocketPlan(SocketKind.ScreenShare, true, SocketFormat.H264, false));
}

/// <summary>One call's sockets. Dispose releases them (idempotent).</summary>
public interface ICallMedia : IDisposable
{
    /// <summary>The SDK's media configuration, serialized: Graph's <c>appHostedMediaConfig.blob</c>.</summary>
    string MediaConfigurationBlob { get; }

    /// <summary>Receive <paramref name="msi"/>'s video on multiview socket <paramref name="socketIndex"/>.</summary>
    void SubscribeVideo(int socketIndex, uint msi);

    /// <summary>Stop receiving on multiview socket <paramref name="socketIndex"/>.</summary>
    void UnsubscribeVideo(int socketIndex);

    /// <summary>Receive <paramref name="msi"/>'s screen share on the screen share socket.</summary>
    void SubscribeScreenShare(uint msi);

    /// <summary>Stop receiving screen share.</summary>
    void UnsubscribeScreenShare();
}

/// <summary>
/// What the platform reports for one call. Called on the platform's threads: implementations
/// must never block. Buffers handed over are owned by the callee, which disposes each exactly once.
/// </summary>
public interface ICallMediaEvents
{
    /// <summary>One 20 ms audio tick (every speaker's buffer).</summary>
    void OnAudio(IAudioTick tick);

    /// <summary>One video or screen-share frame.</summary>
    void OnVideo(IVideoFrameBuffer frame);

    /// <summary>The dominant speaker changed (<c>0xFFFFFFFF</c> = nobody).</summary>
    void OnDominantSpeaker(uint msi, long timestamp100Ns);

    /// <summary>A socket started or stopped receiving media.</summary>
    void OnSocketState(SocketKind kind, int socketIndex, bool isActive, long timestamp100Ns);

    /// <summary>The platform reported a media stream failure on a socket.</summary>
    void OnStreamFailure(SocketKind kind, long timestamp100Ns);
}

/// <summary>One speaker's buffer inside an <see cref="IAudioTick"/>.</summary>
/// <param name="Msi">The speaker's media source id.</param>
/// <param name="OriginalSenderTimestamp100Ns">When the speaker's client sent it (may be 0).</param>
/// <param name="Index">Position in the tick, for <see cref="IAudioTick.GetUnmixedPcm"/>.</param>
public readonly record struct UnmixedSpeaker(uint Msi, long OriginalSenderTimestamp100Ns, int Index);

/// <summary>An SDK audio buffer lent to the bridge: dispose once, after the bytes are copied.</summary>
public interface IAudioTick : IDisposable
{
    /// <summary>Platform timestamp, 100 ns units.</summary>
    long Timestamp100Ns { get; }

    /// <summary>Per-speaker buffers (empty when the platform delivered mixed audio only).</summary>
    IReadOnlyList<UnmixedSpeaker> Speakers { get; }

    /// <summary>Active speakers the platform lists with this tick (may be empty).</summary>
    IReadOnlyList<uint> ActiveSpeakers { get; }

    /// <summary>The mixed PCM (used only when there are no per-speaker buffers).</summary>
    ReadOnlySpan<byte> MixedPcm { get; }

    /// <summary>Speaker <paramref name="index"/>'s PCM.</summary>
    ReadOnlySpan<byte> GetUnmixedPcm(int index);
}

/// <summary>An SDK video buffer lent to the bridge: dispose once, after the bytes are copied.</summary>
public interface IVideoFrameBuffer : IDisposable
{
    /// <summary>Video (multiview) or screen share.</summary>
    SocketKind Kind { get; }

    /// <summary>The socket it arrived on.</summary>
    int SocketIndex { get; }

    /// <summary>The source's media source id.</summary>
    uint Msi { get; }

    /// <summary>Platform timestamp, 100 ns units.</summary>
    long Timestamp100Ns { get; }

    /// <summary>Picture width in pixels.</summary>
    int Width { get; }

    /// <summary>Picture height in pixels.</summary>
    int Height { get; }

    /// <summary>One whole H.264 Annex-B access unit.</summary>
    ReadOnlySpan<byte> Data { get; }
}
