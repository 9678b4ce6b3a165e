using System.Net;
using Attest.MediaBridge.Calls;
using Attest.MediaBridge.Configuration;
using Attest.MediaBridge.Platform;
using Attest.MediaBridge.Transport;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Attest.MediaBridge.Hosting;

/// <summary>
/// The bridge process: validates the configuration (every problem listed at once, exit code 2),
/// initializes the media platform once and logs its version, serves the control API on loopback,
/// and ends every call when the service stops. A Windows service on the VM, a console app elsewhere.
/// </summary>
public static class BridgeApp
{
    /// <summary>Exit code when the configuration is invalid.</summary>
    public const int ConfigurationErrorExitCode = 2;

    /// <summary>Exit code when the media platform cannot be initialized.</summary>
    public const int PlatformErrorExitCode = 3;

    /// <summary>Runs the bridge with <paramref name="platform"/> until the host stops; returns the exit code.</summary>
    /// <param name="args">Command line (configuration overrides).</param>
    /// <param name="platform">The media platform adapter.</param>
    /// <param name="certificates">Where the media certificate is found.</param>
    /// <param name="configure">Development hosts add endpoints here (the fake host's playback); the service passes nothing.</param>
    public static async Task<int> RunAsync(string[] args, IMediaPlatform platform, ICertificateSource certificates, Action<WebApplication, CallRegistry>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(platform);
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        builder.Host.UseWindowsService(o => o.ServiceName = "Attest.MediaBridge");
        builder.Logging.ClearProviders();
        builder.Logging.AddJsonConsole(o => o.UseUtcTimestamp = true);
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);

        using var startupLogs = LoggerFactory.Create(l => l.AddJsonConsole(o => o.UseUtcTimestamp = true));
        var startupLog = startupLogs.CreateLogger("Attest.MediaBridge");
        var (settings, errors) = BridgeSettings.Load(builder.Configuration, certificates, platform.MaxVideoSocketsPerCall, DateTimeOffset.UtcNow);
        if (settings is null)
        {
            startupLog.LogCritical("bridge configuration is invalid {Problems}", string.Join("; ", errors));
            await Console.Error.WriteLineAsync($"[ATT_CONFIG_INVALID] bridge configuration is invalid: {string.Join("; ", errors)}").ConfigureAwait(false);
            return ConfigurationErrorExitCode;
        }
        try
        {
            platform.Initialize(settings.Platform);
        }
        catch (Exception error)
        {
            startupLog.LogCritical("media platform failed to initialize {SdkVersion} {Reason}", platform.SdkVersion, error.Message);
            return PlatformErrorExitCode;
        }
        startupLog.LogInformation("media platform initialized {SdkVersion} {CertificateExpiresAt}", platform.SdkVersion, settings.CertificateExpiresAt);

        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, settings.ControlPort));
        builder.Services.AddSingleton(platform);
        builder.Services.AddSingleton(settings);
        builder.Services.AddSingleton<Func<Uri, IMediaHostConnector>>(_ => endpoint => new TcpMediaHostConnector(endpoint));
        builder.Services.AddSingleton<CallRegistry>();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton(sp => new PlatformHealthMonitor(platform, sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILoggerFactory>().CreateLogger("Attest.MediaBridge.Platform")));
        builder.Services.AddSingleton(sp => new BridgeHealth(platform, sp.GetRequiredService<PlatformHealthMonitor>(), sp.GetRequiredService<CallRegistry>(), settings.CertificateExpiresAt, sp.GetRequiredService<TimeProvider>()));

        await using var app = builder.Build();
        var registry = app.Services.GetRequiredService<CallRegistry>();
        ControlApi.Map(app, registry, app.Services.GetRequiredService<BridgeHealth>(), settings.ControlKey);
        configure?.Invoke(app, registry);
        app.Lifetime.ApplicationStopping.Register(() => registry.EndAllAsync(ControlApi.DrainTimeout).GetAwaiter().GetResult());
        await app.RunAsync().ConfigureAwait(false);
        return 0;
    }
}
