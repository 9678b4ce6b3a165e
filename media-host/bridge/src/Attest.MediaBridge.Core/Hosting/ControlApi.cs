using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Attest.MediaBridge.Calls;
using Attest.MediaBridge.Subscriptions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Attest.MediaBridge.Hosting;

/// <summary>Body of POST /v1/calls.</summary>
public sealed record CreateCallBody(string? SessionId, string? Token, string? IngestEndpoint);

/// <summary>Answer of POST /v1/calls: the SDK's media configuration for Graph's answer.</summary>
public sealed record CreateCallAnswer(string SessionId, string MediaConfigBlob, string SdkVersion, bool IsExisting);

/// <summary>One roster entry as the media host sends it (MSIs as decimal text, like Graph).</summary>
public sealed record RosterEntryBody(string? Msi, string? ParticipantId, string? Kind);

/// <summary>Body of PUT /v1/calls/{sessionId}/roster: the whole current map.</summary>
public sealed record RosterBody(IReadOnlyList<RosterEntryBody>? Participants);

/// <summary>A problem answer, as the media host's own API writes them.</summary>
public sealed record ProblemBody(string Code, string Message);

/// <summary>
/// The bridge's control API, on loopback only, for the media host on the same machine:
/// POST /v1/calls, PUT /v1/calls/{id}/roster, DELETE /v1/calls/{id} (bearer key), GET /v1/health.
/// </summary>
public static class ControlApi
{
    /// <summary>How long DELETE waits for the media host to acknowledge a call's last frames.</summary>
    public static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(10);

    /// <summary>Maps the endpoints.</summary>
    public static void Map(WebApplication app, CallRegistry registry, BridgeHealth health, string controlKey)
    {
        ArgumentNullException.ThrowIfNull(app);
        var expected = Encoding.UTF8.GetBytes($"Bearer {controlKey}");
        bool IsAuthorized(HttpRequest request) =>
            CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(request.Headers.Authorization.ToString()), expected);
        IResult Unauthorized() => Results.Json(new ProblemBody("ATT_UNAUTHORIZED", "the bridge control key is missing or wrong"), statusCode: 401);
        IResult BadRequest(string message) => Results.Json(new ProblemBody("ATT_BAD_REQUEST", message), statusCode: 400);

        app.MapGet("/v1/health", () => Results.Json(health.Report()));

        app.MapPost("/v1/calls", (HttpRequest request, CreateCallBody? body) =>
        {
            if (!IsAuthorized(request)) return Unauthorized();
            if (body is null) return BadRequest("body must be JSON with sessionId, token and ingestEndpoint");
            if (!Guid.TryParse(body.SessionId, out var sessionId)) return BadRequest("sessionId must be a UUID");
            if (string.IsNullOrEmpty(body.Token) || Encoding.UTF8.GetByteCount(body.Token) > 1024) return BadRequest("token must be 1 to 1024 bytes");
            if (!Uri.TryCreate(body.IngestEndpoint, UriKind.Absolute, out var endpoint) || endpoint.Scheme != "tcp" || !endpoint.IsLoopback || endpoint.Port <= 0)
                return BadRequest("ingestEndpoint must be tcp://127.0.0.1:port (the media host's loopback listener)");
            var (outcome, call) = registry.Create(new CreateCallRequest(sessionId, body.Token, endpoint));
            if (outcome == CreateCallOutcome.PlatformNotReady)
                return Results.Json(new ProblemBody("ATT_MEDIA_PLATFORM_UNAVAILABLE", "the media platform is not initialized"), statusCode: 503);
            return Results.Json(
                new CreateCallAnswer(sessionId.ToString(), call!.MediaConfigurationBlob, health.Report().SdkVersion, outcome == CreateCallOutcome.Existing),
                statusCode: outcome == CreateCallOutcome.Existing ? 200 : 201);
        });

        app.MapPut("/v1/calls/{sessionId}/roster", (HttpRequest request, string sessionId, RosterBody? body) =>
        {
            if (!IsAuthorized(request)) return Unauthorized();
            if (!Guid.TryParse(sessionId, out var id)) return BadRequest("sessionId must be a UUID");
            if (body?.Participants is null) return BadRequest("body must be JSON with participants");
            var entries = new List<RosterEntry>();
            foreach (var p in body.Participants)
            {
                if (!uint.TryParse(p.Msi, NumberStyles.None, CultureInfo.InvariantCulture, out var msi)) return BadRequest("every participant msi must be a uint32 in decimal");
                if (string.IsNullOrEmpty(p.ParticipantId)) return BadRequest("every participant needs a participantId");
                RosterStreamKind? kind = p.Kind?.ToUpperInvariant() switch { "AUDIO" => RosterStreamKind.Audio, "VIDEO" => RosterStreamKind.Video, "VBSS" => RosterStreamKind.Vbss, _ => null };
                if (kind is null) return BadRequest("every participant kind must be audio, video or vbss");
                entries.Add(new RosterEntry(msi, p.ParticipantId, kind.Value));
            }
            return registry.UpdateRoster(id, entries)
                ? Results.NoContent()
                : Results.Json(new ProblemBody("ATT_NOT_FOUND", "no call with this session id"), statusCode: 404);
        });

        app.MapDelete("/v1/calls/{sessionId}", async (HttpRequest request, string sessionId) =>
        {
            if (!IsAuthorized(request)) return Unauthorized();
            if (!Guid.TryParse(sessionId, out var id)) return BadRequest("sessionId must be a UUID");
            await registry.EndAsync(id, DrainTimeout).ConfigureAwait(false);
            return Results.NoContent();
        });
    }
}
