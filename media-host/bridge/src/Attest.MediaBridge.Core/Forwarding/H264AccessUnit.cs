namespace Attest.MediaBridge.Forwarding;

/// <summary>Reads what the forwarder needs from an H.264 Annex-B access unit.</summary>
public static class H264AccessUnit
{
    /// <summary>Whether the access unit holds an IDR slice (NAL unit type 5): a key frame.</summary>
    public static bool IsKeyFrame(ReadOnlySpan<byte> accessUnit)
    {
        for (var i = 0; i + 3 < accessUnit.Length; i++)
        {
            if (accessUnit[i] != 0 || accessUnit[i + 1] != 0) continue;
            int header;
            if (accessUnit[i + 2] == 1) header = i + 3;
            else if (accessUnit[i + 2] == 0 && accessUnit[i + 3] == 1 && i + 4 < accessUnit.Length) header = i + 4;
            else continue;
            var nalType = accessUnit[header] & 0x1F;
            if (nalType == 5) return true;
            if (nalType == 1) return false;
            i = header;
        }
        return false;
    }
}
