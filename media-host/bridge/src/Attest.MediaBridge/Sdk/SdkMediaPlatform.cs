using System.Reflection;
using Attest.MediaBridge.Platform;
using Microsoft.Skype.Bots.Media;
using IMediaPlatform = Attest.MediaBridge.Platform.IMediaPlatform;

namespace Attest.MediaBridge.Sdk;

/// <summary>
/// The thin adapter over Microsoft.Skype.Bots.Media: maps <see cref="IMediaPlatform"/> one to one
/// onto the SDK's static <see cref="MediaPlatform"/>. No decisions live here; they are in the core
/// project, where they are tested.
/// </summary>
public sealed class SdkMediaPlatform : IMediaPlatform
{
    /// <summary>
    /// Video sockets per call that media library 1.33 accepts (its release notes raised the limit to 25).
    /// Check this again when moving to another version.
    /// </summary>
    public const int SdkMaxVideoSocketsPerCall = 25;

    private volatile bool isInitialized;

    /// <inheritdoc />
    public string SdkVersion { get; } =
        typeof(MediaPlatform).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? typeof(MediaPlatform).Assembly.GetName().Version?.ToString()
        ?? "unknown";

    /// <inheritdoc />
    public int MaxVideoSocketsPerCall => SdkMaxVideoSocketsPerCall;

    /// <inheritdoc />
    public bool IsInitialized => isInitialized;

    private string healthStatus = "notInitialized";

    /// <inheritdoc />
    public string HealthStatus => Volatile.Read(ref healthStatus);

    /// <inheritdoc />
    public event EventHandler<PlatformHealthChangedEventArgs>? HealthChanged;

    /// <inheritdoc />
    public long GetCurrentTimestamp100Ns() => MediaPlatform.GetCurrentTimestamp();

    /// <inheritdoc />
    public void Initialize(MediaPlatformOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        MediaPlatform.Initialize(new MediaPlatformSettings
        {
            ApplicationId = options.ApplicationId,
            MediaPlatformInstanceSettings = new MediaPlatformInstanceSettings
            {
                CertificateThumbprint = options.CertificateThumbprint,
                InstanceInternalPort = options.InstanceInternalPort,
                InstancePublicPort = options.InstancePublicPort,
                InstancePublicIPAddress = options.PublicIpAddress,
                ServiceFqdn = options.ServiceFqdn,
            },
        });
        // Subscribed before the current state is read, so no change falls between the two.
        MediaPlatform.MediaPlatformHealthChanged += OnSdkHealthChanged;
        Volatile.Write(ref healthStatus, NameOf(MediaPlatform.CurrentHealth));
        isInitialized = true;
    }

    /// <summary>The SDK's health states by the names the bridge reports.</summary>
    public static string NameOf(MediaPlatformHealthStatus status) => status switch
    {
        MediaPlatformHealthStatus.Normal => "normal",
        MediaPlatformHealthStatus.HeavilyLoaded => "heavilyLoaded",
        MediaPlatformHealthStatus.Overloaded => "overloaded",
        _ => status.ToString(),
    };

    private void OnSdkHealthChanged(object? sender, MediaPlatformHealthChangedEventArgs change)
    {
        var current = NameOf(change.CurrentHealth);
        Volatile.Write(ref healthStatus, current);
        HealthChanged?.Invoke(this, new PlatformHealthChangedEventArgs(NameOf(change.PreviousHealth), current));
    }

    /// <inheritdoc />
    public ICallMedia CreateCallMedia(CallSocketPlan plan, ICallMediaEvents events) => new SdkCallMedia(plan, events);
}
