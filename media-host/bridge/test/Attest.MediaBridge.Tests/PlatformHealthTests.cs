using System.Text.Json;
using Attest.MediaBridge.Calls;
using Attest.MediaBridge.Configuration;
using Attest.MediaBridge.FakeHost;
using Attest.MediaBridge.Platform;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Attest.MediaBridge.Tests;

/// <summary>The platform's health event reaches the bridge's health report (and its log).</summary>
public sealed class PlatformHealthTests
{
    private static readonly DateTimeOffset Start = new(2026, 12, 7, 6, 0, 0, TimeSpan.Zero);

    private static (FakeMediaPlatform Platform, PlatformHealthMonitor Monitor, BridgeHealth Health, ManualClock Clock, ListLogger Log) Create()
    {
        var platform = new FakeMediaPlatform();
        var settings = new BridgeSettings(
            new MediaPlatformOptions("app", "AB", 8445, 20445, System.Net.IPAddress.Loopback, "media.example.com"),
            9441, new string('k', 40), 1, 100, 1 << 20, 100, 1 << 20, Start.AddDays(30));
        platform.Initialize(settings.Platform);
        var clock = new ManualClock(Start);
        var log = new ListLogger();
        var monitor = new PlatformHealthMonitor(platform, clock, log);
        var registry = new CallRegistry(platform, settings, _ => new RefusingConnector(), NullLogger<CallRegistry>.Instance);
        return (platform, monitor, new BridgeHealth(platform, monitor, registry, settings.CertificateExpiresAt, clock), clock, log);
    }

    [Fact]
    public void ReportsNormalWithNoChangeUntilThePlatformRaisesOne()
    {
        var (_, monitor, health, _, log) = Create();
        var report = health.Report();
        Assert.Equal("normal", report.PlatformHealth);
        Assert.Null(report.PlatformHealthChangedAt);
        Assert.Equal(0, report.PlatformHealthChanges);
        Assert.Empty(log.Lines);
        monitor.Dispose();
    }

    [Fact]
    public void FollowsEachChangeWithItsTimeAndLogsItWarningWhileLoaded()
    {
        var (platform, monitor, health, clock, log) = Create();
        clock.Now = Start.AddMinutes(1);
        platform.ChangeHealth("heavilyLoaded");
        var loaded = health.Report();
        Assert.Equal("heavilyLoaded", loaded.PlatformHealth);
        Assert.Equal(Start.AddMinutes(1), loaded.PlatformHealthChangedAt);
        Assert.Equal(1, loaded.PlatformHealthChanges);

        clock.Now = Start.AddMinutes(2);
        platform.ChangeHealth("overloaded");
        clock.Now = Start.AddMinutes(5);
        platform.ChangeHealth("normal");
        var recovered = health.Report();
        Assert.Equal("normal", recovered.PlatformHealth);
        Assert.Equal(Start.AddMinutes(5), recovered.PlatformHealthChangedAt);
        Assert.Equal(3, recovered.PlatformHealthChanges);
        Assert.Equal(
            [
                (LogLevel.Warning, "normal", "heavilyLoaded"),
                (LogLevel.Warning, "heavilyLoaded", "overloaded"),
                (LogLevel.Information, "overloaded", "normal"),
            ],
            log.Lines);

        // After Dispose the monitor no longer follows the platform.
        monitor.Dispose();
        platform.ChangeHealth("overloaded");
        Assert.Equal("normal", health.Report().PlatformHealth);
    }

    [Fact]
    public void ServesTheChangeInTheHealthJsonTheMediaHostReads()
    {
        var (platform, monitor, health, clock, _) = Create();
        clock.Now = Start.AddSeconds(30);
        platform.ChangeHealth("overloaded");
        // The control API answers GET /v1/health with Results.Json: the web (camelCase) defaults.
        var json = JsonDocument.Parse(JsonSerializer.Serialize(health.Report(), JsonSerializerOptions.Web)).RootElement;
        Assert.Equal("overloaded", json.GetProperty("platformHealth").GetString());
        Assert.Equal(Start.AddSeconds(30), json.GetProperty("platformHealthChangedAt").GetDateTimeOffset());
        Assert.Equal(1, json.GetProperty("platformHealthChanges").GetInt64());
        monitor.Dispose();
    }

    private sealed class ManualClock(DateTimeOffset now) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = now;

        public override DateTimeOffset GetUtcNow() => Now;
    }

    /// <summary>Keeps each log line's level and its PreviousHealth and PlatformHealth values.</summary>
    private sealed class ListLogger : ILogger
    {
        private readonly List<(LogLevel, string, string)> lines = [];

        public IReadOnlyList<(LogLevel Level, string Previous, string Current)> Lines
        {
            get { lock (lines) return [.. lines]; }
        }

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var values = state as IReadOnlyList<KeyValuePair<string, object?>> ?? [];
            string Value(string key) => values.FirstOrDefault(v => v.Key == key).Value?.ToString() ?? "";
            lock (lines) lines.Add((logLevel, Value("PreviousHealth"), Value("PlatformHealth")));
        }
    }
}
