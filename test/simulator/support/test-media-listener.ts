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
  /** Hellos received per session (1 + reconnects). */
  readonly hellos: Map<string, number>;
  /** When set, the next connection is cut after this many media frames (to test resume). */
  dropNextConnectionAfterFrames: number | undefined;
  close(): Promise<void>;
}

export async function startTestMediaListener(caDir?: string): Promise<TestMediaListener> {
  const ca = ensureLocalCa(caDir);
  const frames = new Map<string, MediaProtocolFrame[]>();
  const tokens = new Map<string, string>();
  const decodeErrors: string[] = [];
  const hellos = new Map<string, number>();
  const highest = new Map<string, number>();
  const sockets = new Set<TLSSocket>();
  let isClosed = false;
  const server: Server = createServer(
    { cert: ca.serverCertPem, key: ca.serverKeyPem },
    (socket) => {
      if (isClosed) {
        socket.destroy();
        return;
      }
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => undefined);
      const decoder = new MediaFrameDecoder();
      const cutAfter = listener.dropNextConnectionAfterFrames;
      listener.dropNextConnectionAfterFrames = undefined;
      let mediaFrames = 0;
      socket.on('data', (chunk: Buffer) => {
        if (socket.destroyed) return;
        const result = decoder.push(Buffer.from(chunk));
        for (const frame of result.frames) {
          const list = frames.get(frame.sessionId) ?? [];
          list.push(frame);
          frames.set(frame.sessionId, list);
          if (frame.type === 'hello') {
            tokens.set(frame.sessionId, frame.token);
            hellos.set(frame.sessionId, (hellos.get(frame.sessionId) ?? 0) + 1);
            const last = highest.get(frame.sessionId) ?? 0;
            socket.write(
              encodeFrame({
                type: 'ack',
                sessionId: frame.sessionId,
                sequence: 0,
                timestamp100ns: 0n,
                msi: 0,
                ackedSequence: last,
                nextSequence: last + 1,
              }),
            );
            continue;
          }
          highest.set(frame.sessionId, frame.sequence);
          mediaFrames += 1;
          if (cutAfter !== undefined && mediaFrames >= cutAfter) {
            socket.destroy();
            return;
          }
        }
        if (result.error) decodeErrors.push(`${result.error.kind}: ${result.error.message}`);
      });
    },
  );
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  const listener: TestMediaListener = {
    endpoint: `tls://127.0.0.1:${port}`,
    frames,
    tokens,
    decodeErrors,
    hellos,
    dropNextConnectionAfterFrames: undefined,
    async close() {
      isClosed = true;
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return listener;
}
