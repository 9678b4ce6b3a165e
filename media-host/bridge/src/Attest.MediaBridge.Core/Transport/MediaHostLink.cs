using Attest.MediaBridge.Forwarding;
using Attest.MediaBridge.Protocol;
using Microsoft.Extensions.Logging;

namespace Attest.MediaBridge.Transport;

/// <summary>Flow limits of one call's link to the media host.</summary>
/// <param name="MaxUnackedFrames">Most frames sent and not yet acknowledged; past it the link stops taking from the queue.</param>
/// <param name="MaxUnackedBytes">Most bytes sent and not yet acknowledged.</param>
/// <param name="ReconnectDelay">Pause before connecting again after a failure.</param>
public sealed record MediaHostLinkOptions(int MaxUnackedFrames, long MaxUnackedBytes, TimeSpan ReconnectDelay);

/// <summary>Counters of one link (a snapshot).</summary>
public readonly record struct MediaHostLinkCounters(long FramesSent, long BytesSent, uint AckedSequence, int UnackedFrames, long Connects, bool IsConnected);

/// <summary>
/// Sends one call's queued frames to the media host over the media protocol: hello with the
/// session token, sequence numbers as frames leave, every frame kept until the host acknowledges
/// it, and after a lost connection a reconnect that resends from the host's <c>nextSequence</c>.
/// When the host stops acknowledging, the link stops taking frames, the queue fills and overflows
/// into reported gaps: the platform's callbacks never wait.
/// </summary>
public sealed class MediaHostLink
{
    private const int WriteBufferBytes = 64 * 1024;
    private readonly Guid sessionId;
    private readonly string token;
    private readonly CallFrameQueue queue;
    private readonly IMediaHostConnector connector;
    private readonly MediaHostLinkOptions options;
    private readonly ILogger logger;
    private readonly object gate = new();
    private readonly LinkedList<OutboundFrame> unacked = new();
    private long unackedBytes;
    private uint nextSequence = 1;
    private uint ackedSequence;
    private long framesSent;
    private long bytesSent;
    private long connects;
    private bool isConnected;
    private bool isEndSent;

    /// <summary>Creates the link of session <paramref name="sessionId"/>.</summary>
    public MediaHostLink(Guid sessionId, string token, CallFrameQueue queue, IMediaHostConnector connector, MediaHostLinkOptions options, ILogger logger)
    {
        this.sessionId = sessionId;
        this.token = token;
        this.queue = queue;
        this.connector = connector;
        this.options = options;
        this.logger = logger;
    }

    /// <summary>A snapshot of the counters.</summary>
    public MediaHostLinkCounters Counters
    {
        get { lock (gate) return new MediaHostLinkCounters(framesSent, bytesSent, ackedSequence, unacked.Count, connects, isConnected); }
    }

    /// <summary>
    /// Runs until the end frame is sent and acknowledged, the host refuses the session, or
    /// <paramref name="cancellationToken"/> fires. Reconnects after connection failures.
    /// </summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                try
                {
                    if (await RunConnectionAsync(cancellationToken).ConfigureAwait(false)) return;
                }
                catch (Exception error) when (error is IOException or System.Net.Sockets.SocketException or MediaHostLinkException { IsRetryable: true })
                {
                    logger.LogWarning("media host connection lost; reconnecting {SessionId} {Reason}", sessionId, error.Message);
                }
                finally
                {
                    lock (gate) isConnected = false;
                }
                await Task.Delay(options.ReconnectDelay, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        finally
        {
            lock (gate)
            {
                foreach (var frame in unacked) frame.Release();
                unacked.Clear();
                unackedBytes = 0;
            }
        }
    }

    /// <summary>One connection; returns true when the session is finished.</summary>
    private async Task<bool> RunConnectionAsync(CancellationToken cancellationToken)
    {
        using var connectionEnd = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var stream = await connector.ConnectAsync(cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            await stream.WriteAsync(MediaFrameEncoder.Encode(new HelloFrame(sessionId, token)), cancellationToken).ConfigureAwait(false);
            var decoder = new MediaFrameDecoder();
            var first = await ReadAckAsync(stream, decoder, cancellationToken).ConfigureAwait(false);
            lock (gate)
            {
                connects++;
                isConnected = true;
            }
            var resend = Acknowledge(first.AckedSequence, first.NextSequence);
            using var acks = new SemaphoreSlim(0);
            var reader = ReadAcksAsync(stream, decoder, acks, connectionEnd.Token);
            try
            {
                return await SendAsync(stream, resend, acks, reader, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                await connectionEnd.CancelAsync().ConfigureAwait(false);
                try
                {
                    await reader.ConfigureAwait(false);
                }
                catch (Exception) when (connectionEnd.IsCancellationRequested)
                {
                    // The reader ends with the connection; its failure, if any, is already handled.
                }
            }
        }
    }

    private async Task<bool> SendAsync(Stream stream, List<OutboundFrame> resend, SemaphoreSlim acks, Task reader, CancellationToken cancellationToken)
    {
        var buffer = new byte[WriteBufferBytes];
        var buffered = 0;
        async Task FlushAsync()
        {
            if (buffered == 0) return;
            await stream.WriteAsync(buffer.AsMemory(0, buffered), cancellationToken).ConfigureAwait(false);
            buffered = 0;
        }
        async Task WriteAsync(OutboundFrame frame)
        {
            if (frame.Length > buffer.Length - buffered) await FlushAsync().ConfigureAwait(false);
            if (frame.Length > buffer.Length)
            {
                await stream.WriteAsync(frame.Memory, cancellationToken).ConfigureAwait(false);
                return;
            }
            frame.Span.CopyTo(buffer.AsSpan(buffered));
            buffered += frame.Length;
        }

        foreach (var frame in resend) await WriteAsync(frame).ConfigureAwait(false);
        await FlushAsync().ConfigureAwait(false);
        // Frames leave the queue in batches: one lock of the queue and one of the link per batch,
        // and a frame that fits the write buffer is copied without an await.
        var batch = new List<OutboundFrame>(64);
        while (true)
        {
            if (reader.IsCompleted)
            {
                await reader.ConfigureAwait(false);
                throw new MediaHostLinkException("media host closed the connection", isRetryable: true);
            }
            bool isFinished;
            bool isWindowFull;
            int roomFrames;
            long roomBytes;
            lock (gate)
            {
                isFinished = isEndSent && unacked.Count == 0;
                isWindowFull = unacked.Count >= options.MaxUnackedFrames || unackedBytes >= options.MaxUnackedBytes;
                roomFrames = Math.Min(options.MaxUnackedFrames - unacked.Count, 256);
                roomBytes = options.MaxUnackedBytes - unackedBytes;
            }
            if (isFinished) return true;
            if (isWindowFull || isEndSent)
            {
                await FlushAsync().ConfigureAwait(false);
                await Task.WhenAny(acks.WaitAsync(cancellationToken), reader).ConfigureAwait(false);
                continue;
            }
            if (queue.TryDequeueBatch(batch, roomFrames, roomBytes) == 0)
            {
                await FlushAsync().ConfigureAwait(false);
                await Task.WhenAny(queue.WaitAsync(cancellationToken), reader).ConfigureAwait(false);
                cancellationToken.ThrowIfCancellationRequested();
                continue;
            }
            lock (gate)
            {
                foreach (var next in batch)
                {
                    next.Sequence = nextSequence++;
                    MediaFrameEncoder.PatchSequence(next.Span, next.Sequence);
                    unacked.AddLast(next);
                    unackedBytes += next.Length;
                    framesSent++;
                    bytesSent += next.Length;
                    if (next.Span[3] == (byte)FrameType.End) isEndSent = true;
                }
            }
            foreach (var next in batch)
            {
                if (next.Length <= buffer.Length - buffered)
                {
                    next.Span.CopyTo(buffer.AsSpan(buffered));
                    buffered += next.Length;
                }
                else
                {
                    await WriteAsync(next).ConfigureAwait(false);
                }
            }
            batch.Clear();
        }
    }

    /// <summary>Forgets frames the host has made durable; returns those it wants again, in order.</summary>
    private List<OutboundFrame> Acknowledge(uint acked, uint next)
    {
        lock (gate)
        {
            ReleaseThrough(Math.Max(acked, next - 1));
            if (unacked.First is { } firstKept && firstKept.Value.Sequence != next)
                throw new MediaHostLinkException($"media host expects sequence {next} but the link kept {firstKept.Value.Sequence}", isRetryable: false);
            if (unacked.Count == 0) nextSequence = Math.Max(nextSequence, next);
            return [.. unacked];
        }
    }

    private void ReleaseThrough(uint sequence)
    {
        ackedSequence = Math.Max(ackedSequence, sequence);
        while (unacked.First is { } oldest && oldest.Value.Sequence <= sequence)
        {
            unackedBytes -= oldest.Value.Length;
            oldest.Value.Release();
            unacked.RemoveFirst();
        }
    }

    private static async Task<AckFrame> ReadAckAsync(Stream stream, MediaFrameDecoder decoder, CancellationToken cancellationToken)
    {
        var buffer = new byte[512];
        while (true)
        {
            var read = await stream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            if (read == 0) throw new MediaHostLinkException("media host closed the connection before acknowledging hello", isRetryable: true);
            var result = decoder.Push(buffer.AsSpan(0, read));
            if (result.Error is not null) throw new MediaHostLinkException($"media host sent bad frames: {result.Error.Kind}", isRetryable: true);
            foreach (var frame in result.Frames)
            {
                if (frame is AckFrame ack) return ack;
                if (frame is ErrorFrame error) throw FromError(error);
            }
        }
    }

    private async Task ReadAcksAsync(Stream stream, MediaFrameDecoder decoder, SemaphoreSlim acks, CancellationToken cancellationToken)
    {
        var buffer = new byte[4096];
        while (true)
        {
            var read = await stream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            if (read == 0) throw new MediaHostLinkException("media host closed the connection", isRetryable: true);
            var result = decoder.Push(buffer.AsSpan(0, read));
            foreach (var frame in result.Frames)
            {
                if (frame is AckFrame ack)
                {
                    lock (gate) ReleaseThrough(ack.AckedSequence);
                    acks.Release();
                }
                else if (frame is ErrorFrame error)
                {
                    throw FromError(error);
                }
            }
            if (result.Error is not null) throw new MediaHostLinkException($"media host sent bad frames: {result.Error.Kind}", isRetryable: true);
        }
    }

    private static MediaHostLinkException FromError(ErrorFrame error) => new(
        $"media host ended the connection: {error.Code}",
        isRetryable: error.Code is not (MediaProtocolErrorCode.Unauthorized or MediaProtocolErrorCode.SessionClosed or MediaProtocolErrorCode.ProtocolViolation));
}

/// <summary>A failure of the link; <see cref="IsRetryable"/> says whether to reconnect.</summary>
public sealed class MediaHostLinkException : Exception
{
    /// <summary>Creates the exception.</summary>
    public MediaHostLinkException(string message, bool isRetryable) : base(message) => IsRetryable = isRetryable;

    /// <summary>Required by the analyzers.</summary>
    public MediaHostLinkException() { }

    /// <summary>Required by the analyzers.</summary>
    public MediaHostLinkException(string message) : base(message) { }

    /// <summary>Required by the analyzers.</summary>
    public MediaHostLinkException(string message, Exception inner) : base(message, inner) { }

    /// <summary>Whether connecting again may help.</summary>
    public bool IsRetryable { get; }
}
