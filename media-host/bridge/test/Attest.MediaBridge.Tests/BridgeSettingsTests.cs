using Attest.MediaBridge.Configuration;
using Attest.MediaBridge.FakeHost;
using Microsoft.Extensions.Configuration;

namespace Attest.MediaBridge.Tests;

public sealed class BridgeSettingsTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 1, 0, 0, 0, TimeSpan.Zero);

    private static Dictionary<string, string?> Valid() => new()
    {
        [BridgeSettings.Keys.AppId] = "8f2c9a52-4f5e-4d6b-9a51-2b7d0c6e1f30",
        [BridgeSettings.Keys.CertificateThumbprint] = "ab12cd34ef56ab12cd34ef56ab12cd34ef56ab12",
        [BridgeSettings.Keys.MediaInternalPort] = "8445",
        [BridgeSettings.Keys.MediaPublicPort] = "20445",
        [BridgeSettings.Keys.PublicIp] = "20.30.40.50",
        [BridgeSettings.Keys.ServiceFqdn] = "media-0.attest.example.com",
        [BridgeSettings.Keys.ControlKey] = new string('k', 40),
    };

    private static (BridgeSettings? Settings, IReadOnlyList<string> Errors) Load(Dictionary<string, string?> values, DateTimeOffset? certificateExpiry = null) =>
        BridgeSettings.Load(new ConfigurationBuilder().AddInMemoryCollection(values).Build(), new FakeCertificateSource(certificateExpiry ?? Now.AddDays(60)), 25, Now);

    [Fact]
    public void ReadsAValidConfigurationWithDefaults()
    {
        var (settings, errors) = Load(Valid());
        Assert.Empty(errors);
        Assert.Equal(8445, settings!.Platform.InstanceInternalPort);
        Assert.Equal("AB12CD34EF56AB12CD34EF56AB12CD34EF56AB12", settings.Platform.CertificateThumbprint);
        Assert.Equal(BridgeSettings.DefaultVideoSockets, settings.VideoSocketCount);
        Assert.Equal(BridgeSettings.DefaultControlPort, settings.ControlPort);
        Assert.Equal(Now.AddDays(60), settings.CertificateExpiresAt);
    }

    [Fact]
    public void NamesEveryMissingSettingAtOnce()
    {
        var (settings, errors) = Load([]);
        Assert.Null(settings);
        Assert.Equal(
            [
                $"{BridgeSettings.Keys.AppId} is missing",
                $"{BridgeSettings.Keys.CertificateThumbprint} is missing",
                $"{BridgeSettings.Keys.MediaInternalPort} is missing",
                $"{BridgeSettings.Keys.MediaPublicPort} is missing",
                $"{BridgeSettings.Keys.PublicIp} is missing",
                $"{BridgeSettings.Keys.ServiceFqdn} is missing",
                $"{BridgeSettings.Keys.ControlKey} is missing",
            ],
            errors);
    }

    [Fact]
    public void NamesEveryInvalidSettingWithoutEchoingItsValue()
    {
        var values = Valid();
        values[BridgeSettings.Keys.AppId] = "not-a-guid";
        values[BridgeSettings.Keys.CertificateThumbprint] = "xyz";
        values[BridgeSettings.Keys.MediaInternalPort] = "70000";
        values[BridgeSettings.Keys.MediaPublicPort] = "-1";
        values[BridgeSettings.Keys.PublicIp] = "300.1.1.1";
        values[BridgeSettings.Keys.ServiceFqdn] = "not a name";
        values[BridgeSettings.Keys.ControlKey] = "short-secret";
        values[BridgeSettings.Keys.VideoSockets] = "26";
        var (_, errors) = Load(values);
        Assert.Equal(8, errors.Count);
        foreach (var key in new[] { "APP_ID", "THUMBPRINT", "INTERNAL_PORT", "PUBLIC_PORT", "PUBLIC_IP", "SERVICE_FQDN", "CONTROL_KEY", "VIDEO_SOCKETS" })
            Assert.Single(errors, e => e.Contains(key, StringComparison.Ordinal));
        Assert.DoesNotContain(errors, e => e.Contains("short-secret", StringComparison.Ordinal) || e.Contains("not-a-guid", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("from 0 to 25", StringComparison.Ordinal));
    }

    [Fact]
    public void RefusesACertificateThatIsNotInTheStoreOrHasExpired()
    {
        var missing = BridgeSettings.Load(new ConfigurationBuilder().AddInMemoryCollection(Valid()).Build(), new FakeCertificateSource(null), 25, Now);
        Assert.Equal([$"{BridgeSettings.Keys.CertificateThumbprint} names no certificate with a private key in fake store"], missing.Errors);
        var expired = Load(Valid(), Now.AddDays(-1));
        Assert.Equal([$"{BridgeSettings.Keys.CertificateThumbprint} names a certificate that expired on 2026-11-30"], expired.Errors);
    }
}
