namespace Attest.MediaBridge.Subscriptions;

/// <summary>Kinds of media source in the roster the media host forwards.</summary>
public enum RosterStreamKind { Audio, Video, Vbss }

/// <summary>One media source of a participant (Graph's <c>mediaStreams[].sourceId</c>).</summary>
/// <param name="Msi">The media source id.</param>
/// <param name="ParticipantId">The participant it belongs to (opaque).</param>
/// <param name="Kind">What it carries.</param>
public sealed record RosterEntry(uint Msi, string ParticipantId, RosterStreamKind Kind);

/// <summary>Which source each socket should receive: one entry per multiview socket, and the screen share.</summary>
/// <param name="Video">Per multiview socket, the video MSI to receive, or null.</param>
/// <param name="ScreenShare">The screen share MSI to receive, or null when nobody shares.</param>
public sealed record SubscriptionPlan(IReadOnlyList<uint?> Video, uint? ScreenShare);

/// <summary>
/// Decides video subscriptions from the roster and who spoke last: the most recent speakers'
/// videos first, then the rest in roster order, as many as there are sockets. A source already on
/// a socket stays on it while it remains chosen, so a speaker change moves at most one socket.
/// Pure and single-threaded: the caller serializes calls.
/// </summary>
public sealed class VideoSubscriptionPlanner
{
    private readonly int socketCount;
    private readonly uint?[] assigned;
    private IReadOnlyList<RosterEntry> roster = [];
    private readonly Dictionary<string, long> lastSpokeAt = new(StringComparer.Ordinal);
    private long speakerOrder;

    /// <summary>Creates a planner for <paramref name="socketCount"/> multiview sockets.</summary>
    public VideoSubscriptionPlanner(int socketCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(socketCount);
        this.socketCount = socketCount;
        assigned = new uint?[socketCount];
    }

    /// <summary>Replaces the roster (the media host always sends the whole map).</summary>
    public void UpdateRoster(IEnumerable<RosterEntry> entries) => roster = [.. entries];

    /// <summary>Notes that the participant owning audio source <paramref name="audioMsi"/> spoke last.</summary>
    public void OnDominantSpeaker(uint audioMsi)
    {
        var speaker = roster.FirstOrDefault(e => e.Kind == RosterStreamKind.Audio && e.Msi == audioMsi);
        if (speaker is not null) lastSpokeAt[speaker.ParticipantId] = ++speakerOrder;
    }

    /// <summary>The plan for the current roster and speaker history.</summary>
    public SubscriptionPlan Plan()
    {
        var videos = roster.Where(e => e.Kind == RosterStreamKind.Video).ToList();
        var chosen = videos
            .Select((entry, position) => (entry, position, spoke: lastSpokeAt.GetValueOrDefault(entry.ParticipantId)))
            .OrderByDescending(c => c.spoke)
            .ThenBy(c => c.position)
            .Take(socketCount)
            .Select(c => c.entry.Msi)
            .ToHashSet();
        for (var i = 0; i < socketCount; i++)
        {
            if (assigned[i] is { } msi && !chosen.Contains(msi)) assigned[i] = null;
        }
        foreach (var msi in chosen.Where(m => !assigned.Contains(m)).OrderBy(m => videos.FindIndex(v => v.Msi == m)))
        {
            var free = Array.IndexOf(assigned, null);
            assigned[free] = msi;
        }
        var screenShare = roster
            .Where(e => e.Kind == RosterStreamKind.Vbss)
            .OrderByDescending(e => lastSpokeAt.GetValueOrDefault(e.ParticipantId))
            .Select(e => (uint?)e.Msi)
            .FirstOrDefault();
        return new SubscriptionPlan([.. assigned], screenShare);
    }
}
