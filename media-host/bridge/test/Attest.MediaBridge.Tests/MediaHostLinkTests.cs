using System.Net;
using System.Net.Sockets;
using Attest.MediaBridge.Forwarding;
using Attest.MediaBridge.Protocol;
using Attest.MediaBridge.Transport;
using Microsoft.Extensions.Logging.Abstractions;

namespace Attest.MediaBridge.Tests;

/// <summary>The link against a scripted media host on loopback TCP.</summary>
public sealed class MediaHostLinkTests
{
    private static readonly MediaHostLinkOptions Options = new(1000, 1 << 24, TimeSpan.FromMilliseconds(10));

    [Fact]
    public async Task SendsHelloThenNumberedFramesAndFinishesWhenTheEndIsAcknowledged()
    {
        using var host = new ScriptedHost();
        var queue = new CallFrameQueue(TestFrames.Session, new FrameQueueLimits(100, 1 << 20));
        for (var t = 1; t <= 3; t++) queue.TryEnqueue(TestFrames.Media(t));
        queue.Complete(4);
        var link = new MediaHostLink(TestFrames.Session, "secret-token", queue, host.Connector, Options, NullLogger.Instance);
        var run = link.RunAsync(CancellationToken.None);

        var connection = await host.AcceptAsync();
        var hello = Assert.IsType<HelloFrame>(await connection.ReadFrameAsync());
        Assert.Equal("secret-token", hello.Token);
        await connection.SendAsync(new AckFrame(TestFrames.Session, 0, 1));
        var frames = new List<MediaFrame>();
        for (var i = 0; i < 4; i++) frames.Add(await connection.ReadFrameAsync());
        Assert.Equal([1U, 2U, 3U, 4U], frames.Select(f => f.Sequence));
        Assert.IsType<EndFrame>(frames[3]);
        Assert.False(run.IsCompleted);
        await connection.SendAsync(new AckFrame(TestFrames.Session, 4, 5));
        await run.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(0, link.Counters.UnackedFrames);
    }

    [Fact]
    public async Task ResendsUnacknowledgedFramesFromTheHostsNextSequenceAfterAReconnect()
    {
        using var host = new ScriptedHost();
        var queue = new CallFrameQueue(TestFrames.Session, new FrameQueueLimits(100, 1 << 20));
        for (var t = 1; t <= 4; t++) queue.TryEnqueue(TestFrames.Media(t * 10));
        var link = new MediaHostLink(TestFrames.Session, "secret-token", queue, host.Connector, Options, NullLogger.Instance);
        using var stop = new CancellationTokenSource();
        var run = link.RunAsync(stop.Token);

        var first = await host.AcceptAsync();
        await first.ReadFrameAsync();
        await first.SendAsync(new AckFrame(TestFrames.Session, 0, 1));
        for (var i = 0; i < 4; i++) await first.ReadFrameAsync();
        await first.SendAsync(new AckFrame(TestFrames.Session, 2, 3));
        first.Dispose();

        var second = await host.AcceptAsync();
        Assert.IsType<HelloFrame>(await second.ReadFrameAsync());
        await second.SendAsync(new AckFrame(TestFrames.Session, 2, 3));
        var resent = new[] { await second.ReadFrameAsync(), await second.ReadFrameAsync() };
        Assert.Equal([(3U, 30UL), (4U, 40UL)], resent.Select(f => (f.Sequence, f.Timestamp100Ns)));
        queue.TryEnqueue(TestFrames.Media(50));
        Assert.Equal(5U, (await second.ReadFrameAsync()).Sequence);
        Assert.Equal(2, link.Counters.Connects);
        await stop.CancelAsync();
        await run;
    }

    [Fact]
    public async Task AHostThatStopsAcknowledgingFillsTheQueueIntoOneReportedGap()
    {
        using var host = new ScriptedHost();
        var queue = new CallFrameQueue(TestFrames.Session, new FrameQueueLimits(5, 1 << 20));
        var link = new MediaHostLink(TestFrames.Session, "t", queue, host.Connector, new MediaHostLinkOptions(3, 1 << 24, TimeSpan.FromMilliseconds(10)), NullLogger.Instance);
        using var stop = new CancellationTokenSource();
        var run = link.RunAsync(stop.Token);
        var connection = await host.AcceptAsync();
        await connection.ReadFrameAsync();
        await connection.SendAsync(new AckFrame(TestFrames.Session, 0, 1));

        // The link takes 3 frames (its window), the queue holds 5 more, the rest are dropped.
        for (var t = 1; t <= 20; t++)
        {
            queue.TryEnqueue(TestFrames.Media(t));
            if (t <= 3) Assert.Equal((uint)t, (await connection.ReadFrameAsync()).Sequence);
        }
        Assert.Equal(12, queue.Counters.Dropped);
        // The host catches up: acknowledges, and the link sends the queue, then the gap report ahead of new frames.
        await connection.SendAsync(new AckFrame(TestFrames.Session, 3, 4));
        var received = new List<MediaFrame>();
        for (var i = 0; i < 3; i++) received.Add(await connection.ReadFrameAsync());
        await connection.SendAsync(new AckFrame(TestFrames.Session, 6, 7));
        for (var i = 0; i < 2; i++) received.Add(await connection.ReadFrameAsync());
        await connection.SendAsync(new AckFrame(TestFrames.Session, 8, 9));
        queue.TryEnqueue(TestFrames.Media(21));
        received.Add(await connection.ReadFrameAsync());
        received.Add(await connection.ReadFrameAsync());
        Assert.Equal([4UL, 5UL, 6UL, 7UL, 8UL], received.Take(5).Select(f => f.Timestamp100Ns));
        var gap = Assert.IsType<StreamStateFrame>(received[5]);
        Assert.Equal(new StreamGap(StreamGapReason.SourceQueueOverflow, 12, 20), gap.Gap);
        Assert.Equal(9UL, gap.Timestamp100Ns);
        Assert.Equal(21UL, received[6].Timestamp100Ns);
        await stop.CancelAsync();
        await run;
    }

    [Fact]
    public async Task StopsWhenTheHostRefusesTheToken()
    {
        using var host = new ScriptedHost();
        var queue = new CallFrameQueue(TestFrames.Session, new FrameQueueLimits(5, 1 << 20));
        var link = new MediaHostLink(TestFrames.Session, "wrong", queue, host.Connector, Options, NullLogger.Instance);
        var run = link.RunAsync(CancellationToken.None);
        var connection = await host.AcceptAsync();
        await connection.ReadFrameAsync();
        await connection.SendAsync(new ErrorFrame(TestFrames.Session, MediaProtocolErrorCode.Unauthorized, "bad token"));
        var error = await Assert.ThrowsAsync<MediaHostLinkException>(() => run.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.False(error.IsRetryable);
    }

    /// <summary>A TCP listener on loopback whose connections the test drives frame by frame.</summary>
    private sealed class ScriptedHost : IDisposable
    {
        private readonly TcpListener listener = new(IPAddress.Loopback, 0);

        public ScriptedHost()
        {
            listener.Start();
            Connector = new TcpMediaHostConnector(new Uri($"tcp://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}"));
        }

        public IMediaHostConnector Connector { get; }

        public async Task<Connection> AcceptAsync() => new(await listener.AcceptTcpClientAsync().WaitAsync(TimeSpan.FromSeconds(10)));

        public void Dispose() => listener.Stop();
    }

    private sealed class Connection(TcpClient client) : IDisposable
    {
        private readonly MediaFrameDecoder decoder = new();
        private readonly Queue<MediaFrame> pending = new();

        public async Task<MediaFrame> ReadFrameAsync()
        {
            var buffer = new byte[8192];
            while (pending.Count == 0)
            {
                var read = await client.GetStream().ReadAsync(buffer).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
                if (read == 0) throw new IOException("closed");
                var result = decoder.Push(buffer.AsSpan(0, read));
                Assert.Null(result.Error);
                foreach (var frame in result.Frames) pending.Enqueue(frame);
            }
            return pending.Dequeue();
        }

        public Task SendAsync(MediaFrame frame) => client.GetStream().WriteAsync(MediaFrameEncoder.Encode(frame)).AsTask();

        public void Dispose() => client.Dispose();
    }
}
