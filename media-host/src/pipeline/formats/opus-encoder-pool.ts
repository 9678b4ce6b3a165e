/**
 * A small pool of worker threads that encode 16 kHz mono PCM to Opus with `opusscript` (libopus
 * compiled to WebAssembly), off the event loop that reads the media sockets. One pool serves every
 * stream of the host. Each stream is pinned to one worker for its life, because an Opus encoder is
 * stateful; a worker handles its messages in order, so a stream's packets come back in order.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { ErrorCode, RecorderError } from '@attest/core';

export const OPUS_INPUT_SAMPLE_RATE_IN_HZ = 16_000;
/** 20 ms of 16 kHz mono audio. */
export const PCM_SAMPLES_PER_FRAME = 320;
export const PCM_BYTES_PER_FRAME = PCM_SAMPLES_PER_FRAME * 2;
export const DEFAULT_OPUS_COMPLEXITY = 3;
export const DEFAULT_OPUS_BITRATE_IN_BITS_PER_SECOND = 24_000;

export interface OpusEncoderSettings {
  /** Target bitrate. Default 24,000 bit/s (clear wideband speech). */
  readonly bitrateInBitsPerSecond?: number;
  /**
   * libopus complexity 0 to 10. Default 3: SILK speech stays clear while encoding runs well above
   * 150x real time per core (see `bench/results/opus.json` for the measured sweep).
   */
  readonly complexity?: number;
}

export interface OpusEncoderPoolOptions {
  /** Worker threads. Default: available cores minus one, at least 1, at most 4. */
  readonly workerCount?: number;
  /** Encode jobs handed to workers and not yet finished, across all streams. Default 256. */
  readonly maxInFlightJobs?: number;
  /** Jobs waiting for a free slot before `encode` rejects with a retryable error. Default 4096. */
  readonly maxWaitingJobs?: number;
}

/** One stream's encoder inside the pool. Not re-entrant across streams; `close()` is idempotent. */
export interface OpusStreamEncoder {
  /**
   * Encodes whole 20 ms frames (a multiple of 640 bytes of PCM) and resolves with one Opus packet
   * per frame, in order. Rejects with `ATT_MEDIA_HOST_UNAVAILABLE` (retryable) when the pool is
   * saturated, `ATT_INTERNAL` when its worker died.
   */
  encode(pcm: Buffer): Promise<Buffer[]>;
  close(): Promise<void>;
}

// The worker is plain JavaScript evaluated from a string, so the same code runs from the compiled
// `dist/` and under the test transformer, with no separate build artifact to locate.
const workerSource = `
const { parentPort, workerData } = require('node:worker_threads');
const OpusScript = require(workerData.opusscriptPath);
const encoders = new Map();
parentPort.on('message', (message) => {
  try {
    if (message.op === 'open') {
      const encoder = new OpusScript(16000, 1, OpusScript.Application.VOIP);
      encoder.setBitrate(message.bitrate);
      encoder.encoderCTL(4010, message.complexity);
      encoders.set(message.streamId, encoder);
      return;
    }
    if (message.op === 'close') {
      const encoder = encoders.get(message.streamId);
      if (encoder) encoder.delete();
      encoders.delete(message.streamId);
      return;
    }
    const encoder = encoders.get(message.streamId);
    if (!encoder) throw new Error('unknown stream');
    const pcm = Buffer.from(message.pcm.buffer, message.pcm.byteOffset, message.pcm.byteLength);
    const packets = [];
    for (let offset = 0; offset < pcm.length; offset += 640) {
      packets.push(encoder.encode(pcm.subarray(offset, offset + 640), 320));
    }
    const lengths = packets.map((p) => p.length);
    const joined = Buffer.concat(packets);
    const out = new Uint8Array(joined.length);
    out.set(joined);
    parentPort.postMessage({ jobId: message.jobId, lengths, bytes: out }, [out.buffer]);
  } catch (error) {
    if (message.jobId !== undefined) parentPort.postMessage({ jobId: message.jobId, error: String(error && error.message || error) });
  }
});
`;

interface Job {
  readonly resolve: (packets: Buffer[]) => void;
  readonly reject: (error: Error) => void;
}

interface WorkerSlot {
  readonly worker: Worker;
  readonly jobs: Map<number, Job>;
  streams: number;
  isDead: boolean;
}

type WorkerReply =
  { jobId: number; lengths: number[]; bytes: Uint8Array } | { jobId: number; error: string };

export class OpusEncoderPool {
  readonly #slots: WorkerSlot[] = [];
  readonly #opusscriptPath: string;
  readonly #maxInFlightJobs: number;
  readonly #maxWaitingJobs: number;
  readonly #waiting: (() => void)[] = [];
  #inFlight = 0;
  #nextJobId = 1;
  #nextStreamId = 1;
  #isClosed = false;

  constructor(options: OpusEncoderPoolOptions = {}) {
    const workerCount = options.workerCount ?? Math.min(4, Math.max(1, availableParallelism() - 1));
    this.#maxInFlightJobs = options.maxInFlightJobs ?? 256;
    this.#maxWaitingJobs = options.maxWaitingJobs ?? 4096;
    this.#opusscriptPath = require.resolve('opusscript');
    for (let i = 0; i < workerCount; i += 1) this.#slots.push(this.#startWorker());
  }

  get workerCount(): number {
    return this.#slots.length;
  }

  /** Jobs running or waiting, for the spool/metrics view of encoder load. */
  get queuedJobs(): number {
    return this.#inFlight + this.#waiting.length;
  }

  /**
   * Opens an encoder on the least loaded worker. A worker that died is replaced here; the streams
   * it held fail with `ATT_INTERNAL` (their pipeline restarts them from the resume state).
   */
  openStream(settings: OpusEncoderSettings = {}): OpusStreamEncoder {
    if (this.#isClosed) throw new RecorderError(ErrorCode.Internal, 'opus encoder pool is closed');
    this.#slots.forEach((slot, i) => {
      if (slot.isDead) this.#slots[i] = this.#startWorker();
    });
    const live = this.#slots.filter((slot) => !slot.isDead);
    const slot = live.sort((a, b) => a.streams - b.streams)[0];
    if (slot === undefined)
      throw new RecorderError(ErrorCode.Internal, 'opus encoder pool has no live worker');
    const streamId = this.#nextStreamId;
    this.#nextStreamId += 1;
    slot.streams += 1;
    slot.worker.postMessage({
      op: 'open',
      streamId,
      bitrate: settings.bitrateInBitsPerSecond ?? DEFAULT_OPUS_BITRATE_IN_BITS_PER_SECOND,
      complexity: settings.complexity ?? DEFAULT_OPUS_COMPLEXITY,
    });
    let isClosed = false;
    return {
      encode: (pcm) => {
        if (isClosed)
          return Promise.reject(
            new RecorderError(ErrorCode.Internal, 'opus stream encoder is closed'),
          );
        return this.#encode(slot, streamId, pcm);
      },
      close: () => {
        if (!isClosed) {
          isClosed = true;
          slot.streams -= 1;
          if (!slot.isDead) slot.worker.postMessage({ op: 'close', streamId });
        }
        return Promise.resolve();
      },
    };
  }

  /** Stops every worker; pending jobs reject. Idempotent. */
  async close(): Promise<void> {
    if (this.#isClosed) return;
    this.#isClosed = true;
    for (const wake of this.#waiting.splice(0)) wake();
    await Promise.all(this.#slots.map((slot) => slot.worker.terminate()));
  }

  async #encode(slot: WorkerSlot, streamId: number, pcm: Buffer): Promise<Buffer[]> {
    if (pcm.length % PCM_BYTES_PER_FRAME !== 0) {
      throw new RecorderError(
        ErrorCode.InvalidRequest,
        'PCM for Opus must be whole 20 ms frames of 640 bytes',
        {
          details: { byteLength: pcm.length },
        },
      );
    }
    if (pcm.length === 0) return [];
    if (this.#inFlight >= this.#maxInFlightJobs) {
      if (this.#waiting.length >= this.#maxWaitingJobs) {
        throw new RecorderError(ErrorCode.MediaHostUnavailable, 'opus encoder pool is overloaded', {
          retryable: true,
          details: { waitingJobs: this.#waiting.length },
        });
      }
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    }
    if (this.#isClosed) throw new RecorderError(ErrorCode.Internal, 'opus encoder pool is closed');
    if (slot.isDead) throw new RecorderError(ErrorCode.Internal, 'opus encoder worker stopped');
    this.#inFlight += 1;
    const jobId = this.#nextJobId;
    this.#nextJobId += 1;
    const copy = new Uint8Array(pcm.length);
    copy.set(pcm);
    try {
      return await new Promise<Buffer[]>((resolve, reject) => {
        slot.jobs.set(jobId, { resolve, reject });
        slot.worker.postMessage({ op: 'encode', streamId, jobId, pcm: copy }, [copy.buffer]);
      });
    } finally {
      this.#inFlight -= 1;
      this.#waiting.shift()?.();
    }
  }

  #startWorker(): WorkerSlot {
    const worker = new Worker(workerSource, {
      eval: true,
      workerData: { opusscriptPath: this.#opusscriptPath },
    });
    // Encoders never keep the process alive on their own; the host closes the pool on shutdown.
    worker.unref();
    const slot: WorkerSlot = { worker, jobs: new Map(), streams: 0, isDead: false };
    worker.on('message', (reply: WorkerReply) => {
      const job = slot.jobs.get(reply.jobId);
      if (job === undefined) return;
      slot.jobs.delete(reply.jobId);
      if ('error' in reply) {
        job.reject(
          new RecorderError(ErrorCode.Internal, 'opus encoding failed', {
            details: { reason: reply.error },
          }),
        );
        return;
      }
      const bytes = Buffer.from(reply.bytes.buffer, reply.bytes.byteOffset, reply.bytes.byteLength);
      const packets: Buffer[] = [];
      let offset = 0;
      for (const length of reply.lengths) {
        packets.push(bytes.subarray(offset, offset + length));
        offset += length;
      }
      job.resolve(packets);
    });
    const fail = (): void => {
      slot.isDead = true;
      for (const job of slot.jobs.values())
        job.reject(new RecorderError(ErrorCode.Internal, 'opus encoder worker stopped'));
      slot.jobs.clear();
    };
    worker.on('error', fail);
    worker.on('exit', fail);
    return slot;
  }
}

let defaultPool: OpusEncoderPool | undefined;

/** The host-wide pool, created on first use. */
export function getDefaultOpusEncoderPool(): OpusEncoderPool {
  defaultPool ??= new OpusEncoderPool();
  return defaultPool;
}

/** Closes the host-wide pool (at shutdown, after every stream has ended). Idempotent. */
export async function closeDefaultOpusEncoderPool(): Promise<void> {
  const pool = defaultPool;
  defaultPool = undefined;
  await pool?.close();
}
