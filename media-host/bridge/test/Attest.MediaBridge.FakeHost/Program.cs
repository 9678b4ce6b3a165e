using Attest.MediaBridge.FakeHost;
using Attest.MediaBridge.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

// The bridge with a fake media platform.
//   serve [config overrides]  the bridge's control API plus POST /_fake/calls/{sessionId}/play
//                             and POST /_fake/platform/health {"status": "heavilyLoaded"} (the SDK's health event)
//   bench [--ticks N]         the bridge benchmark: cost per forwarded frame
if (args.Length > 0 && args[0] == "bench") return await BridgeBench.RunAsync(args[1..]).ConfigureAwait(false);

var platform = new FakeMediaPlatform();
var ledger = new DisposalLedger();
return await BridgeApp.RunAsync(
    args.Length > 0 && args[0] == "serve" ? args[1..] : args,
    platform,
    new FakeCertificateSource(DateTimeOffset.UtcNow.AddDays(90)),
    (app, _) =>
    {
        app.MapPost("/_fake/calls/{sessionId}/play", (string sessionId, PlayRequest request) =>
        {
            if (!platform.Calls.TryGetValue(sessionId, out var call)) return Results.NotFound();
            var played = Player.Play(platform, call, request, ledger);
            return Results.Json(new { played, buffersCreated = ledger.Created, buffersDisposed = ledger.Disposed, buffersDisposedTwice = ledger.DisposedTwice });
        });
        app.MapPost("/_fake/platform/health", (FakeHealthRequest request) =>
        {
            platform.ChangeHealth(request.Status);
            return Results.NoContent();
        });
        app.MapGet("/_fake/calls/{sessionId}", (string sessionId) =>
            platform.Calls.TryGetValue(sessionId, out var call)
                ? Results.Json(new { operations = call.Operations, isDisposed = call.IsDisposed, videoSockets = call.Plan.Video.Count })
                : Results.NotFound());
    }).ConfigureAwait(false);
