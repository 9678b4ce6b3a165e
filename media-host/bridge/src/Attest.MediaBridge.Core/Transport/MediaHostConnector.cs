using System.Net.Sockets;

namespace Attest.MediaBridge.Transport;

/// <summary>Opens a connection to the media host's ingest listener.</summary>
public interface IMediaHostConnector
{
    /// <summary>Connects; the caller owns (and disposes) the stream.</summary>
    Task<Stream> ConnectAsync(CancellationToken cancellationToken);
}

/// <summary>
/// Plain TCP to the media host's loopback ingest listener (<c>tcp://127.0.0.1:port</c>): both
/// processes are on one machine, so there is no TLS; the session token authenticates the connection.
/// </summary>
public sealed class TcpMediaHostConnector : IMediaHostConnector
{
    private readonly string host;
    private readonly int port;

    /// <summary>Creates a connector for <c>tcp://host:port</c>.</summary>
    public TcpMediaHostConnector(Uri endpoint)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        if (endpoint.Scheme != "tcp" || endpoint.Port <= 0) throw new ArgumentException("media host endpoint must be tcp://host:port", nameof(endpoint));
        if (!endpoint.IsLoopback) throw new ArgumentException("the plain-TCP media host endpoint must be a loopback address", nameof(endpoint));
        host = endpoint.Host;
        port = endpoint.Port;
    }

    /// <inheritdoc />
    public async Task<Stream> ConnectAsync(CancellationToken cancellationToken)
    {
        var client = new TcpClient { NoDelay = true };
        try
        {
            await client.ConnectAsync(host, port, cancellationToken).ConfigureAwait(false);
            return new OwningStream(client);
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    /// <summary>A network stream that also closes its client.</summary>
    private sealed class OwningStream(TcpClient client) : Stream
    {
        private readonly NetworkStream inner = client.GetStream();

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() => inner.Flush();
        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => inner.ReadAsync(buffer, cancellationToken);
        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => inner.WriteAsync(buffer, cancellationToken);
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
                client.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}
