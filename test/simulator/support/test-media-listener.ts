/**
 * A tiny media protocol server for simulator tests: TLS with the local CA's server certificate,
 * accepts any session, acks the hello, and keeps every decoded frame per session.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { createServer, type Server, type TLSSocket } from 'node:tls';
import { encodeFrame, MediaFrameDecoder, type MediaProtocolFrame } from '@attest/core';
import { ensureLocalCa } from '../../../local/src/simulator/ca/ensure-ca';

export interface TestMediaListener {
  readonly endpoint: string;
  /** Frames by session id, in arrival order (hello included). */
  readonly frames: Map<string, MediaProtocolFrame[]>;
  readonly tokens: Map<string, string>;
  readonly decodeErrors: string[];
  close(): Promise<void>;
}

export async function startTestMediaListener(caDir?: string): Promise<TestMediaListener> {
  const ca = ensureLocalCa(caDir);
  const frames = new Map<string, MediaProtocolFrame[]>();
  const tokens = new Map<string, string>();
  const decodeErrors: string[] = [];
  const sockets = new Set<TLSSocket>();
  let isClosed = false;
  const server: Server = createServer({ cert: ca.serverCertPem, key: ca.serverKeyPem }, (socket) => {
    if (isClosed) {
      socket.destroy();
      return;
    }
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    const decoder = new MediaFrameDecoder();
    socket.on('data', (chunk: Buffer) => {
      const result = decoder.push(Buffer.from(chunk));
      for (const frame of result.frames) {
        const list = frames.get(frame.sessionId) ?? [];
        list.push(frame);
        frames.set(frame.sessionId, list);
        if (frame.type === 'hello') {
          tokens.set(frame.sessionId, frame.token);
          socket.write(encodeFrame({ type: 'ack', sessionId: frame.sessionId, sequence: 0, timestamp100ns: 0n, msi: 0, ackedSequence: 0, nextSequence: 1 }));
        }
      }
      if (result.error) decodeErrors.push(`${result.error.kind}: ${result.error.message}`);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  return {
    endpoint: `tls://127.0.0.1:${port}`,
    frames,
    tokens,
    decodeErrors,
    async close() {
      isClosed = true;
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
