using System.Security.Cryptography;
using Attest.MediaBridge.Platform;

namespace Attest.MediaBridge.FakeHost;

/// <summary>What to play into a fake call.</summary>
/// <param name="Speakers">Speakers talking at once (1–4); speaker i has audio MSI 101+i.</param>
/// <param name="Ticks">20 ms audio ticks to play.</param>
/// <param name="H264File">Annex-B file whose access units play on video socket 0 (every 3rd tick), or null.</param>
/// <param name="VideoMsi">The video source's MSI.</param>
public sealed record PlayRequest(int Speakers, int Ticks, string? H264File, uint VideoMsi);

/// <summary>The load state the fake platform reports next (normal, heavilyLoaded, overloaded).</summary>
/// <param name="Status">The new state.</param>
public sealed record FakeHealthRequest(string Status);

/// <summary>What was played, per MSI: frames and the SHA-256 of their bytes concatenated.</summary>
public sealed record PlayedStream(string Kind, uint Msi, int Frames, string Sha256, long Bytes);

/// <summary>Plays deterministic media into a fake call through its event sink, as the platform would.</summary>
public static class Player
{
    public static IReadOnlyList<PlayedStream> Play(FakeMediaPlatform platform, FakeCallMedia call, PlayRequest request, DisposalLedger ledger)
    {
        ArgumentNullException.ThrowIfNull(platform);
        ArgumentNullException.ThrowIfNull(call);
        ArgumentNullException.ThrowIfNull(request);
        var events = call.Events;
        var units = request.H264File is null ? [] : MediaSources.AccessUnits(File.ReadAllBytes(request.H264File));
        var audio = Enumerable.Range(0, request.Speakers).Select(_ => IncrementalHash.CreateHash(HashAlgorithmName.SHA256)).ToArray();
        var audioBytes = new long[request.Speakers];
        using var video = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        long videoBytes = 0;
        var videoFrames = 0;
        events.OnSocketState(SocketKind.Video, 0, true, platform.GetCurrentTimestamp100Ns());
        for (var tick = 0; tick < request.Ticks; tick++)
        {
            var now = platform.Advance(200_000);
            if (tick % 50 == 0) events.OnDominantSpeaker((uint)(101 + ((tick / 50) % request.Speakers)), now);
            var speakers = new List<FakeSpeakerPcm>();
            for (var s = 0; s < request.Speakers; s++)
            {
                var pcm = MediaSources.Tone(s, tick);
                audio[s].AppendData(pcm);
                audioBytes[s] += pcm.Length;
                speakers.Add(new FakeSpeakerPcm((uint)(101 + s), now - 1_000_000, pcm));
            }
            events.OnAudio(new FakeAudioTick(now, speakers, ledger));
            if (tick % 3 == 0 && videoFrames < units.Count)
            {
                var unit = units[videoFrames++];
                video.AppendData(unit);
                videoBytes += unit.Length;
                events.OnVideo(new FakeVideoFrame(SocketKind.Video, 0, request.VideoMsi, now, 320, 180, unit, ledger));
            }
        }
        var played = audio.Select((h, s) => new PlayedStream("audio", (uint)(101 + s), request.Ticks, Convert.ToHexString(h.GetHashAndReset()).ToLowerInvariant(), audioBytes[s])).ToList();
        foreach (var h in audio) h.Dispose();
        if (videoFrames > 0) played.Add(new PlayedStream("video", request.VideoMsi, videoFrames, Convert.ToHexString(video.GetHashAndReset()).ToLowerInvariant(), videoBytes));
        return played;
    }
}
