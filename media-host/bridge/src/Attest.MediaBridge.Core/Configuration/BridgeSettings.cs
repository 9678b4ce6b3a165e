using System.Globalization;
using System.Net;
using Attest.MediaBridge.Platform;
using Microsoft.Extensions.Configuration;

namespace Attest.MediaBridge.Configuration;

/// <summary>The bridge's validated settings (names as in the environment and the VM's app settings).</summary>
public sealed record BridgeSettings(
    MediaPlatformOptions Platform,
    int ControlPort,
    string ControlKey,
    int VideoSocketCount,
    int QueueMaxFrames,
    long QueueMaxBytes,
    int UnackedMaxFrames,
    long UnackedMaxBytes,
    DateTimeOffset CertificateExpiresAt)
{
    /// <summary>Setting names, one place.</summary>
    public static class Keys
    {
        public const string AppId = "ATTEST_BRIDGE_APP_ID";
        public const string CertificateThumbprint = "ATTEST_BRIDGE_CERTIFICATE_THUMBPRINT";
        public const string MediaInternalPort = "ATTEST_BRIDGE_MEDIA_INTERNAL_PORT";
        public const string MediaPublicPort = "ATTEST_BRIDGE_MEDIA_PUBLIC_PORT";
        public const string PublicIp = "ATTEST_BRIDGE_PUBLIC_IP";
        public const string ServiceFqdn = "ATTEST_BRIDGE_SERVICE_FQDN";
        public const string ControlPort = "ATTEST_BRIDGE_CONTROL_PORT";
        public const string ControlKey = "ATTEST_BRIDGE_CONTROL_KEY";
        public const string VideoSockets = "ATTEST_BRIDGE_VIDEO_SOCKETS";
        public const string QueueMaxFrames = "ATTEST_BRIDGE_QUEUE_MAX_FRAMES";
        public const string QueueMaxBytes = "ATTEST_BRIDGE_QUEUE_MAX_BYTES";
        public const string UnackedMaxFrames = "ATTEST_BRIDGE_UNACKED_MAX_FRAMES";
        public const string UnackedMaxBytes = "ATTEST_BRIDGE_UNACKED_MAX_BYTES";
    }

    /// <summary>Default control port on loopback.</summary>
    public const int DefaultControlPort = 9441;

    /// <summary>Default multiview video sockets per call.</summary>
    public const int DefaultVideoSockets = 4;

    /// <summary>
    /// Reads and validates every setting. Returns the settings, or every problem at once (each names
    /// its setting; no value is echoed).
    /// </summary>
    /// <param name="configuration">Environment and optional appsettings.json.</param>
    /// <param name="certificates">Where the certificate is looked up by thumbprint.</param>
    /// <param name="maxVideoSocketsPerCall">The media library's limit.</param>
    /// <param name="now">The current time, for the certificate's validity.</param>
    public static (BridgeSettings? Settings, IReadOnlyList<string> Errors) Load(
        IConfiguration configuration, ICertificateSource certificates, int maxVideoSocketsPerCall, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(certificates);
        var errors = new List<string>();
        string? Required(string key)
        {
            var value = configuration[key];
            if (string.IsNullOrWhiteSpace(value))
            {
                errors.Add($"{key} is missing");
                return null;
            }
            return value.Trim();
        }
        int Integer(string key, int? fallback, int min, int max)
        {
            var text = configuration[key];
            if (string.IsNullOrWhiteSpace(text))
            {
                if (fallback is { } value) return value;
                errors.Add($"{key} is missing");
                return 0;
            }
            if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) || parsed < min || parsed > max)
            {
                errors.Add($"{key} must be a whole number from {min} to {max}");
                return 0;
            }
            return parsed;
        }

        var appId = Required(Keys.AppId);
        if (appId is not null && !Guid.TryParse(appId, out _)) errors.Add($"{Keys.AppId} must be the bot's application (client) id, a GUID");
        var thumbprint = Required(Keys.CertificateThumbprint);
        var expiresAt = DateTimeOffset.MinValue;
        if (thumbprint is not null)
        {
            if (thumbprint.Length != 40 || !thumbprint.All(Uri.IsHexDigit))
            {
                errors.Add($"{Keys.CertificateThumbprint} must be 40 hexadecimal characters (the SHA-1 thumbprint)");
            }
            else if (certificates.FindExpiry(thumbprint) is not { } expiry)
            {
                errors.Add($"{Keys.CertificateThumbprint} names no certificate with a private key in {certificates.StoreName}");
            }
            else if (expiry <= now)
            {
                errors.Add($"{Keys.CertificateThumbprint} names a certificate that expired on {expiry:yyyy-MM-dd}");
            }
            else
            {
                expiresAt = expiry;
            }
        }
        var internalPort = Integer(Keys.MediaInternalPort, null, 1, 65535);
        var publicPort = Integer(Keys.MediaPublicPort, null, 1, 65535);
        var publicIpText = Required(Keys.PublicIp);
        IPAddress? publicIp = null;
        if (publicIpText is not null && !IPAddress.TryParse(publicIpText, out publicIp)) errors.Add($"{Keys.PublicIp} must be an IP address");
        var fqdn = Required(Keys.ServiceFqdn);
        if (fqdn is not null && Uri.CheckHostName(fqdn) != UriHostNameType.Dns) errors.Add($"{Keys.ServiceFqdn} must be a DNS name (the one on the certificate)");
        var controlPort = Integer(Keys.ControlPort, DefaultControlPort, 1, 65535);
        var controlKey = Required(Keys.ControlKey);
        if (controlKey is not null && controlKey.Length < 32) errors.Add($"{Keys.ControlKey} must be at least 32 characters");
        var videoSockets = Integer(Keys.VideoSockets, DefaultVideoSockets, 0, maxVideoSocketsPerCall);
        var queueFrames = Integer(Keys.QueueMaxFrames, 1500, 16, 1_000_000);
        var queueBytes = Integer(Keys.QueueMaxBytes, 32 * 1024 * 1024, 64 * 1024, int.MaxValue);
        var unackedFrames = Integer(Keys.UnackedMaxFrames, 3000, 16, 1_000_000);
        var unackedBytes = Integer(Keys.UnackedMaxBytes, 64 * 1024 * 1024, 64 * 1024, int.MaxValue);
        if (internalPort != 0 && internalPort == controlPort) errors.Add($"{Keys.ControlPort} must differ from {Keys.MediaInternalPort}");

        if (errors.Count > 0) return (null, errors);
        return (new BridgeSettings(
            new MediaPlatformOptions(appId!, thumbprint!.ToUpperInvariant(), internalPort, publicPort, publicIp!, fqdn!),
            controlPort, controlKey!, videoSockets, queueFrames, queueBytes, unackedFrames, unackedBytes, expiresAt), errors);
    }
}

/// <summary>Finds the media certificate (LocalMachine\My on the VM; a fake in tests).</summary>
public interface ICertificateSource
{
    /// <summary>Where it looks, for error messages.</summary>
    string StoreName { get; }

    /// <summary>The expiry of the certificate with this thumbprint and a private key, or null when there is none.</summary>
    DateTimeOffset? FindExpiry(string thumbprint);
}

/// <summary>The machine's certificate store, <c>LocalMachine\My</c>.</summary>
public sealed class MachineCertificateSource : ICertificateSource
{
    /// <inheritdoc />
    public string StoreName => @"LocalMachine\My";

    /// <inheritdoc />
    public DateTimeOffset? FindExpiry(string thumbprint)
    {
        using var store = new System.Security.Cryptography.X509Certificates.X509Store(
            System.Security.Cryptography.X509Certificates.StoreName.My, System.Security.Cryptography.X509Certificates.StoreLocation.LocalMachine);
        store.Open(System.Security.Cryptography.X509Certificates.OpenFlags.ReadOnly);
        var found = store.Certificates.Find(System.Security.Cryptography.X509Certificates.X509FindType.FindByThumbprint, thumbprint, validOnly: false);
        try
        {
            var certificate = found.FirstOrDefault(c => c.HasPrivateKey);
            return certificate is null ? null : new DateTimeOffset(certificate.NotAfter.ToUniversalTime(), TimeSpan.Zero);
        }
        finally
        {
            foreach (var certificate in found) certificate.Dispose();
        }
    }
}
