/**
 * A TCP proxy on loopback in front of one port, which a scenario can cut (every connection
 * destroyed, new ones dropped at once: the service is unreachable) and restore. Used to make
 * storage unavailable to one process without stopping Azurite (an in-memory Azurite loses its
 * data when stopped).
 */
import { createConnection, createServer, type Socket } from 'node:net';

export interface CuttableProxy {
  readonly port: number;
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}

export async function startCuttableProxy(targetPort: number): Promise<CuttableProxy> {
  const sockets = new Set<Socket>();
  let isCut = false;
  const track = (socket: Socket): void => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
  };
  const server = createServer((client) => {
    track(client);
    if (isCut) {
      client.destroy();
      return;
    }
    const upstream = createConnection({ host: '127.0.0.1', port: targetPort });
    track(upstream);
    client.pipe(upstream).pipe(client);
    client.once('close', () => upstream.destroy());
    upstream.once('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('proxy has no port');
  return {
    port: address.port,
    cut() {
      isCut = true;
      for (const socket of sockets) socket.destroy();
    },
    restore() {
      isCut = false;
    },
    close() {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** The connection string with its blob endpoint sent through `port` on loopback. */
export function throughProxy(connectionString: string, port: number): string {
  return connectionString.replace(
    /(BlobEndpoint=https?:\/\/)([^/;:]+):(\d+)/i,
    (_all, scheme: string) => `${scheme}127.0.0.1:${port}`,
  );
}

/** The blob endpoint's port of a connection string. */
export function blobPortOf(connectionString: string): number {
  const match = /BlobEndpoint=https?:\/\/[^/;:]+:(\d+)/i.exec(connectionString);
  if (match === null) throw new Error('the connection string names no blob endpoint port');
  return Number(match[1]);
}
