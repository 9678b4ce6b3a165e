namespace Attest.MediaBridge.FakeHost;

/// <summary>Deterministic media for the fake platform: speakers' tones and an H.264 test stream's access units.</summary>
public static class MediaSources
{
    /// <summary>Bytes of one 20 ms tick of 16 kHz 16-bit mono PCM.</summary>
    public const int TickBytes = 640;

    /// <summary>One tick of speaker <paramref name="speaker"/>'s tone (200 Hz + 110 Hz per speaker), tick <paramref name="tick"/>.</summary>
    public static byte[] Tone(int speaker, int tick)
    {
        var pcm = new byte[TickBytes];
        var frequency = 200.0 + (110.0 * speaker);
        for (var i = 0; i < TickBytes / 2; i++)
        {
            var t = ((tick * (TickBytes / 2)) + i) / 16000.0;
            var sample = (short)Math.Round(8000 * Math.Sin(2 * Math.PI * frequency * t));
            pcm[2 * i] = (byte)(sample & 0xFF);
            pcm[(2 * i) + 1] = (byte)((sample >> 8) & 0xFF);
        }
        return pcm;
    }

    /// <summary>Splits an H.264 Annex-B byte stream into access units (a new unit starts at an AUD, SPS, PPS or SEI after a slice, or at a slice whose first_mb_in_slice is 0).</summary>
    public static List<byte[]> AccessUnits(byte[] stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var starts = new List<int>();
        for (var i = 0; i + 3 < stream.Length; i++)
        {
            if (stream[i] == 0 && stream[i + 1] == 0 && stream[i + 2] == 1)
            {
                starts.Add(i > 0 && stream[i - 1] == 0 ? i - 1 : i);
                i += 2;
            }
        }
        var units = new List<byte[]>();
        var unitStart = 0;
        var hasSlice = false;
        foreach (var start in starts)
        {
            var header = stream[start] == 0 && stream[start + 2] == 0 ? start + 4 : start + 3;
            var type = stream[header] & 0x1F;
            var isSlice = type is 1 or 5;
            var startsPicture = isSlice && (stream[header + 1] & 0x80) != 0;
            if (hasSlice && (type is 6 or 7 or 8 or 9 || startsPicture))
            {
                units.Add(stream[unitStart..start]);
                unitStart = start;
                hasSlice = false;
            }
            hasSlice |= isSlice;
        }
        if (unitStart < stream.Length) units.Add(stream[unitStart..]);
        return units;
    }
}
