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
import {
  FRAME_DURATION_IN_100NS,
  FRAME_DURATION_IN_MS,
  synthesizeAudioFrame,
} from './synthetic-media';
import { cameraClip, screenClip } from './clips';

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
  /** Successful reconnects after the media connection dropped. */
  reconnects: number;
  /** Frames dropped from the resend buffer before the host acknowledged them. */
  framesDroppedUnacked: number;
  error?: string;
  isEnded: boolean;
}

export function parseMediaConfigBlob(blob: string): MediaConfigBlob | undefined {
  try {
    const parsed = JSON.parse(blob) as Partial<MediaConfigBlob>;
    if (
      parsed.v !== 1 ||
      typeof parsed.endpoint !== 'string' ||
      typeof parsed.sessionId !== 'string' ||
      typeof parsed.token !== 'string'
    ) {
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
  readonly stats: MediaStreamerStats = {
    framesSent: 0,
    audioFrames: 0,
    videoFrames: 0,
    vbssFrames: 0,
    lastAckedSequence: 0,
    reconnects: 0,
    framesDroppedUnacked: 0,
    isEnded: false,
  };
  readonly #options: MediaStreamerOptions;
  #socket: TLSSocket | undefined;
  #sequence = 1;
  #frameIndex: number;
  #dominant = NO_DOMINANT_SPEAKER;
  #unacked: { sequence: number; bytes: Buffer }[] = [];
  #lastSentSequence = 0;
  #ackWaiter: ((nextSequence: number) => void) | undefined;
  #resuming: Promise<void> | undefined;
  #isFinishing = false;
  #stopping: Promise<void> | undefined;
  #done: Promise<void> | undefined;

  constructor(options: MediaStreamerOptions) {
    this.#options = options;
    this.#frameIndex = Math.ceil(options.startOffsetInMs / FRAME_DURATION_IN_MS);
  }

  /** Connects, says hello, and streams in the background; resolves once connected. */
  async start(): Promise<void> {
    this.#socket = await this.#connect();
    // A new session starts at sequence 1: the first ack is not awaited, so media starts at once.
    await writeBytes(
      this.#socket,
      encodeFrame({
        type: 'hello',
        sessionId: this.#options.blob.sessionId,
        sequence: 0,
        timestamp100ns: 0n,
        msi: 0,
        token: this.#options.blob.token,
      }),
    );
    this.#done = this.#run().catch((err: unknown) => {
      this.stats.error ??= err instanceof Error ? err.message : 'media streaming failed';
      this.#options.log('warn', 'media streaming failed', { callId: this.#options.callId });
    });
  }

  async #connect(): Promise<TLSSocket> {
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
    const decoder = new MediaFrameDecoder();
    socket.on('data', (chunk: Buffer) => {
      const result = decoder.push(chunk);
      for (const frame of result.frames) {
        if (frame.type === 'ack') this.#onAck(frame.ackedSequence, frame.nextSequence);
        if (frame.type === 'error') this.stats.error = `media host error ${frame.errorCode}`;
      }
    });
    // A dropped connection shows up as a failed or destroyed write; the stream then resumes.
    socket.on('error', () => undefined);
    return socket;
  }

  #onAck(ackedSequence: number, nextSequence: number): void {
    this.stats.lastAckedSequence = Math.max(this.stats.lastAckedSequence, ackedSequence);
    // Frames the host made durable are never resent.
    while (this.#unacked.length > 0 && (this.#unacked[0]?.sequence ?? 0) <= ackedSequence)
      this.#unacked.shift();
    const waiter = this.#ackWaiter;
    this.#ackWaiter = undefined;
    waiter?.(nextSequence);
  }

  /** Sends hello and waits (bounded) for the host's ack; returns the sequence to resume from. */
  async #hello(socket: TLSSocket): Promise<number | undefined> {
    const acked = new Promise<number | undefined>((resolve) => {
      this.#ackWaiter = resolve;
      setTimeout(() => resolve(undefined), ACK_TIMEOUT_IN_MS).unref();
    });
    await writeBytes(
      socket,
      encodeFrame({
        type: 'hello',
        sessionId: this.#options.blob.sessionId,
        sequence: 0,
        timestamp100ns: 0n,
        msi: 0,
        token: this.#options.blob.token,
      }),
    );
    return acked;
  }

  /** Reconnects with the same token and resends every frame the host has not acknowledged. */
  #resume(): Promise<void> {
    this.#resuming ??= (async () => {
      for (let attempt = 0; attempt < RESUME_ATTEMPTS; attempt += 1) {
        if (this.stats.isEnded && this.#isFinishing === false) return;
        try {
          const socket = await this.#connect();
          this.#socket = socket;
          const next = (await this.#hello(socket)) ?? this.#unacked[0]?.sequence ?? this.#sequence;
          this.stats.reconnects += 1;
          this.#options.log('info', 'media connection resumed', {
            callId: this.#options.callId,
            nextSequence: next,
          });
          for (const frame of [...this.#unacked]) {
            if (frame.sequence < next) continue;
            await writeBytes(socket, frame.bytes);
            this.#lastSentSequence = Math.max(this.#lastSentSequence, frame.sequence);
          }
          return;
        } catch {
          await new Promise((resolve) => setTimeout(resolve, RESUME_BACKOFF_IN_MS * 2 ** attempt));
        }
      }
      throw new Error('media connection lost and could not be resumed');
    })().finally(() => {
      this.#resuming = undefined;
    });
    return this.#resuming;
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
    if (this.#socket === undefined || this.stats.isEnded) return;
    this.stats.isEnded = true;
    this.#isFinishing = true;
    try {
      if (this.stats.error === undefined) {
        await this.#writeMedia({
          type: 'end',
          sessionId: this.#options.blob.sessionId,
          sequence: 0,
          timestamp100ns: this.#timestamp(this.#frameIndex),
          msi: 0,
        });
      }
    } catch {
      // the media host is gone and did not come back: nothing more to send
    }
    this.#isFinishing = false;
    if (this.#socket) await closeSocket(this.#socket);
  }

  #timestamp(frameIndex: number): bigint {
    return this.#options.callStart100ns + BigInt(frameIndex) * FRAME_DURATION_IN_100NS;
  }

  async #run(): Promise<void> {
    const startedAtRealMs = Date.now();
    const firstFrame = this.#frameIndex;
    while (!this.stats.isEnded && this.stats.error === undefined) {
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
      await this.#writeMedia({
        type: 'dominantSpeaker',
        sessionId: blob.sessionId,
        sequence: 0,
        timestamp100ns,
        msi: 0,
        dominantMsi: dominant,
      });
    }
    await this.#writeMedia({
      type: 'audioUnmixed',
      sessionId: blob.sessionId,
      sequence: 0,
      timestamp100ns,
      msi: 0,
      format: PayloadFormat.pcm16k,
      buffers: speakers.map((msi) => ({
        msi,
        originalSenderTimestamp100ns: timestamp100ns,
        payload: synthesizeAudioFrame(msi, frameIndex),
      })),
    });
    this.stats.audioFrames += 1;
    if (this.#options.withVideo === false) return;
    // Video at 15 fps (a frame whenever the 15 fps tick changes): the camera clip, looped (its
    // key frames fall every 2 s); every camera shows the same clip.
    const videoTick = Math.floor((frameIndex * 15) / 50);
    if (frameIndex === 0 || Math.floor(((frameIndex - 1) * 15) / 50) !== videoTick) {
      const camera = cameraClip();
      const picture = camera.frames[videoTick % camera.frames.length]!;
      for (const msi of script.videosAt(offsetInMs)) {
        await this.#writeMedia({
          type: 'video',
          sessionId: blob.sessionId,
          sequence: 0,
          timestamp100ns,
          msi,
          format: PayloadFormat.h264,
          isKeyFrame: picture.isKeyFrame,
          width: camera.width,
          height: camera.height,
          payload: picture.payload,
        });
        this.stats.videoFrames += 1;
      }
    }
    // Screen share at 1.875 fps: the screen clip's slides, looped, every one a key frame.
    const sharer = script.sharerAt(offsetInMs);
    const shareTick = Math.floor((frameIndex * 1.875) / 50);
    if (
      sharer !== undefined &&
      (frameIndex === 0 || Math.floor(((frameIndex - 1) * 1.875) / 50) !== shareTick)
    ) {
      const screen = screenClip();
      const slide = screen.frames[shareTick % screen.frames.length]!;
      await this.#writeMedia({
        type: 'vbss',
        sessionId: blob.sessionId,
        sequence: 0,
        timestamp100ns,
        msi: sharer,
        format: PayloadFormat.h264,
        isKeyFrame: slide.isKeyFrame,
        width: screen.width,
        height: screen.height,
        payload: slide.payload,
      });
      this.stats.vbssFrames += 1;
    }
  }

  async #writeMedia(frame: MediaProtocolFrame): Promise<void> {
    // Nothing may follow `end`: frames still being produced when the call ends are dropped.
    if (this.stats.isEnded && frame.type !== 'end') return;
    const sequence = this.#sequence;
    this.#sequence += 1;
    const bytes = encodeFrame({ ...frame, sequence });
    this.#unacked.push({ sequence, bytes });
    if (this.#unacked.length > MAX_UNACKED_FRAMES) {
      this.#unacked.shift();
      this.stats.framesDroppedUnacked += 1;
    }
    this.stats.framesSent += 1;
    const socket = this.#socket;
    if (this.#resuming === undefined && socket !== undefined && !socket.destroyed) {
      try {
        await writeBytes(socket, bytes);
        this.#lastSentSequence = Math.max(this.#lastSentSequence, sequence);
        return;
      } catch {
        // fall through to resume
      }
    }
    await this.#resume();
    // A frame queued while the resume was already resending may have missed it.
    if (sequence > this.#lastSentSequence && this.#socket) {
      await writeBytes(this.#socket, bytes);
      this.#lastSentSequence = sequence;
    }
  }
}

const ACK_TIMEOUT_IN_MS = 5000;
const RESUME_ATTEMPTS = 5;
const RESUME_BACKOFF_IN_MS = 100;
/** Frames kept for resending until the host acknowledges them (5 minutes of audio). */
const MAX_UNACKED_FRAMES = 15_000;

function writeBytes(socket: TLSSocket, bytes: Buffer): Promise<void> {
  if (socket.destroyed) return Promise.reject(new Error('media connection closed'));
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
