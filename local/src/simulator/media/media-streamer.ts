/**
 * Streams a call's synthetic media to the endpoint of a recorder's media config blob over the
 * Attest media protocol (docs/media-protocol.md): hello with the session token, then unmixed
 * audio (≤ 4 speakers per 20 ms frame), dominant speaker changes, video and screen-share frames,
 * and `end` when the call ends. Pacing is real time, or as fast as the socket drains for tests.
 */
import { isIP } from 'node:net';
import { connect, type TLSSocket } from 'node:tls';
import {
  encodeFrame,
  MAX_UNMIXED_BUFFERS,
  MediaFrameDecoder,
  NO_DOMINANT_SPEAKER,
  PayloadFormat,
  type MediaConfigBlob,
  type MediaProtocolFrame,
} from '@attest/core';
import type { SimLogger } from '../util/http';
import { FRAME_DURATION_IN_100NS, FRAME_DURATION_IN_MS, synthesizeAudioFrame, syntheticH264AccessUnit } from './synthetic-media';

/** What is audible and visible at a moment of the call (offset in ms from the call's start). */
export interface MediaScript {
  /** MSIs of audible speakers, loudest first. */
  speakersAt(offsetInMs: number): readonly number[];
  /** Video MSIs with camera on. */
  videosAt(offsetInMs: number): readonly number[];
  /** The screen sharer's VBSS MSI, if any. */
  sharerAt(offsetInMs: number): number | undefined;
  /** Offset at which the call ends, once known. */
  endOffsetInMs(): number | undefined;
}

export interface MediaStreamerOptions {
  readonly callId: string;
  readonly blob: MediaConfigBlob;
  readonly script: MediaScript;
  /** Call offset where media starts (recording confirmed). */
  readonly startOffsetInMs: number;
  /** Platform time of the call start in 100 ns units. */
  readonly callStart100ns: bigint;
  readonly pacing: 'realtime' | 'fast';
  readonly log: SimLogger;
  /** Extra CA certificates to trust for the media endpoint (the local CA). */
  readonly ca?: string;
  readonly withVideo?: boolean;
}

export interface MediaStreamerStats {
  framesSent: number;
  audioFrames: number;
  videoFrames: number;
  vbssFrames: number;
  lastAckedSequence: number;
  error?: string;
  isEnded: boolean;
}

export function parseMediaConfigBlob(blob: string): MediaConfigBlob | undefined {
  try {
    const parsed = JSON.parse(blob) as Partial<MediaConfigBlob>;
    if (parsed.v !== 1 || typeof parsed.endpoint !== 'string' || typeof parsed.sessionId !== 'string' || typeof parsed.token !== 'string') {
      return undefined;
    }
    const url = new URL(parsed.endpoint);
    if (url.protocol !== 'tls:' || url.port === '') return undefined;
    return parsed as MediaConfigBlob;
  } catch {
    return undefined;
  }
}

export class MediaStreamer {
  readonly stats: MediaStreamerStats = { framesSent: 0, audioFrames: 0, videoFrames: 0, vbssFrames: 0, lastAckedSequence: 0, isEnded: false };
  readonly #options: MediaStreamerOptions;
  #socket: TLSSocket | undefined;
  #sequence = 1;
  #frameIndex: number;
  #dominant = NO_DOMINANT_SPEAKER;
  #stopping: Promise<void> | undefined;
  #done: Promise<void> | undefined;

  constructor(options: MediaStreamerOptions) {
    this.#options = options;
    this.#frameIndex = Math.ceil(options.startOffsetInMs / FRAME_DURATION_IN_MS);
  }

  /** Connects, says hello, and streams in the background; resolves once connected. */
  async start(): Promise<void> {
    const endpoint = new URL(this.#options.blob.endpoint);
    const host = endpoint.hostname.replace(/^\[|\]$/g, '');
    const socket = await new Promise<TLSSocket>((resolve, reject) => {
      const s = connect({
        host,
        port: Number(endpoint.port),
        ...(isIP(host) === 0 ? { servername: host } : {}),
        ...(this.#options.ca ? { ca: this.#options.ca } : {}),
      });
      s.once('secureConnect', () => resolve(s));
      s.once('error', reject);
    });
    this.#socket = socket;
    const decoder = new MediaFrameDecoder();
    socket.on('data', (chunk: Buffer) => {
      const result = decoder.push(chunk);
      for (const frame of result.frames) {
        if (frame.type === 'ack') this.stats.lastAckedSequence = frame.ackedSequence;
        if (frame.type === 'error') this.stats.error = `media host error ${frame.errorCode}`;
      }
    });
    socket.on('error', (err: Error) => {
      this.stats.error ??= err.message;
    });
    await this.#write({ type: 'hello', sessionId: this.#options.blob.sessionId, sequence: 0, timestamp100ns: 0n, msi: 0, token: this.#options.blob.token });
    this.#done = this.#run().catch((err: unknown) => {
      this.stats.error ??= err instanceof Error ? err.message : 'media streaming failed';
      this.#options.log('warn', 'media streaming failed', { callId: this.#options.callId });
    });
  }

  /** Resolves when the stream has ended (call over, stopped, or failed). */
  get done(): Promise<void> {
    return this.#done ?? Promise.resolve();
  }

  /** Sends `end` (if still connected) and closes; idempotent. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      await this.#finish();
    })();
    return this.#stopping;
  }

  async #finish(): Promise<void> {
    const socket = this.#socket;
    if (socket === undefined || this.stats.isEnded) return;
    this.stats.isEnded = true;
    try {
      if (!socket.destroyed) {
        await this.#writeMedia({ type: 'end', sessionId: this.#options.blob.sessionId, sequence: 0, timestamp100ns: this.#timestamp(this.#frameIndex), msi: 0 });
      }
    } catch {
      // the media host may already have closed the connection
    }
    await closeSocket(socket);
  }

  #timestamp(frameIndex: number): bigint {
    return this.#options.callStart100ns + BigInt(frameIndex) * FRAME_DURATION_IN_100NS;
  }

  async #run(): Promise<void> {
    const startedAtRealMs = Date.now();
    const firstFrame = this.#frameIndex;
    while (!this.stats.isEnded && this.stats.error === undefined && this.#socket?.destroyed === false) {
      const offset = this.#frameIndex * FRAME_DURATION_IN_MS;
      const end = this.#options.script.endOffsetInMs();
      if (end !== undefined && offset >= end) break;
      if (this.#options.pacing === 'realtime') {
        const due = startedAtRealMs + (this.#frameIndex - firstFrame) * FRAME_DURATION_IN_MS;
        const wait = due - Date.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      } else if (end === undefined) {
        // Fast pacing needs a known end; until then advance in real time.
        await new Promise((resolve) => setTimeout(resolve, FRAME_DURATION_IN_MS));
        continue;
      }
      await this.#sendFrameAt(this.#frameIndex, offset);
      this.#frameIndex += 1;
    }
    await this.stop();
  }

  async #sendFrameAt(frameIndex: number, offsetInMs: number): Promise<void> {
    const { script, blob } = this.#options;
    const timestamp100ns = this.#timestamp(frameIndex);
    const speakers = script.speakersAt(offsetInMs).slice(0, MAX_UNMIXED_BUFFERS);
    const dominant = speakers[0] ?? NO_DOMINANT_SPEAKER;
    if (dominant !== this.#dominant && speakers.length > 0) {
      this.#dominant = dominant;
      await this.#writeMedia({ type: 'dominantSpeaker', sessionId: blob.sessionId, sequence: 0, timestamp100ns, msi: 0, dominantMsi: dominant });
    }
    await this.#writeMedia({
      type: 'audioUnmixed',
      sessionId: blob.sessionId,
      sequence: 0,
      timestamp100ns,
      msi: 0,
      format: PayloadFormat.pcm16k,
      buffers: speakers.map((msi) => ({ msi, originalSenderTimestamp100ns: timestamp100ns, payload: synthesizeAudioFrame(msi, frameIndex) })),
    });
    this.stats.audioFrames += 1;
    if (this.#options.withVideo === false) return;
    // Video at 15 fps (a frame whenever the 15 fps tick changes), key frame every 2 s.
    const videoTick = Math.floor((frameIndex * 15) / 50);
    if (frameIndex === 0 || Math.floor(((frameIndex - 1) * 15) / 50) !== videoTick) {
      for (const msi of script.videosAt(offsetInMs)) {
        const isKeyFrame = videoTick % 30 === 0;
        await this.#writeMedia({ type: 'video', sessionId: blob.sessionId, sequence: 0, timestamp100ns, msi, format: PayloadFormat.h264, isKeyFrame, width: 640, height: 360, payload: syntheticH264AccessUnit(isKeyFrame, msi, videoTick) });
        this.stats.videoFrames += 1;
      }
    }
    // Screen share at 1.875 fps, every frame a key frame.
    const sharer = script.sharerAt(offsetInMs);
    const shareTick = Math.floor((frameIndex * 1.875) / 50);
    if (sharer !== undefined && (frameIndex === 0 || Math.floor(((frameIndex - 1) * 1.875) / 50) !== shareTick)) {
      await this.#writeMedia({ type: 'vbss', sessionId: blob.sessionId, sequence: 0, timestamp100ns, msi: sharer, format: PayloadFormat.h264, isKeyFrame: true, width: 1920, height: 1080, payload: syntheticH264AccessUnit(true, sharer, shareTick) });
      this.stats.vbssFrames += 1;
    }
  }

  #writeMedia(frame: MediaProtocolFrame): Promise<void> {
    // Nothing may follow `end`: frames still being produced when the call ends are dropped.
    if (this.stats.isEnded && frame.type !== 'end') return Promise.resolve();
    const sequenced = { ...frame, sequence: this.#sequence } as MediaProtocolFrame;
    this.#sequence += 1;
    return this.#write(sequenced);
  }

  #write(frame: MediaProtocolFrame): Promise<void> {
    const socket = this.#socket;
    if (socket === undefined || socket.destroyed) return Promise.reject(new Error('media connection closed'));
    const bytes = encodeFrame(frame);
    this.stats.framesSent += frame.type === 'hello' ? 0 : 1;
    return new Promise<void>((resolve, reject) => {
      const isFlushed = socket.write(bytes, (err) => (err ? reject(err) : undefined));
      if (isFlushed) {
        resolve();
        return;
      }
      // Wait for drain, but never forever: a closed socket never drains.
      const onDrain = (): void => {
        socket.off('close', onClose);
        resolve();
      };
      const onClose = (): void => {
        socket.off('drain', onDrain);
        reject(new Error('media connection closed'));
      };
      socket.once('drain', onDrain);
      socket.once('close', onClose);
    });
  }
}

const SOCKET_CLOSE_TIMEOUT_IN_MS = 2000;

/** Ends the TLS connection gracefully, destroying it if the peer does not close in time. */
async function closeSocket(socket: TLSSocket): Promise<void> {
  if (socket.destroyed) return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      socket.destroy();
      resolve();
    }, SOCKET_CLOSE_TIMEOUT_IN_MS);
    timer.unref();
    socket.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    socket.end();
  });
}
