/**
 * Plays a live listen-in stream in the browser: the media host's WebSocket sends one binary
 * message per 20 ms (8 bytes platform timestamp, uint64 LE in 100 ns, then 640 bytes of 16 kHz
 * 16-bit LE mono PCM; docs/media-formats.md). The PCM goes to an AudioWorklet that plays it from
 * a small queue: when the queue grows past {@link MAX_QUEUE_IN_MS} (the network delivered a
 * burst) the oldest audio is dropped, so what is heard stays within a second of the call.
 * An AnalyserNode after the player measures the level actually played.
 */
export const SAMPLE_RATE_IN_HZ = 16_000;
const HEADER_BYTES = 8;
const FRAME_PCM_BYTES = 640;
/** Audio queued in the player beyond this is dropped (oldest first). */
export const MAX_QUEUE_IN_MS = 300;

const WORKLET = `
class AttestPcmPlayer extends AudioWorkletProcessor {
  constructor() {
    super();
    this.chunks = [];
    this.offset = 0;
    this.queued = 0;
    this.max = ${Math.round((SAMPLE_RATE_IN_HZ * MAX_QUEUE_IN_MS) / 1000)};
    this.dropped = 0;
    this.port.onmessage = (e) => {
      this.chunks.push(e.data);
      this.queued += e.data.length;
      while (this.queued - this.offset > this.max && this.chunks.length > 1) {
        const old = this.chunks.shift();
        this.queued -= old.length;
        this.dropped += old.length - this.offset;
        this.offset = 0;
      }
    };
  }
  process(_inputs, outputs) {
    const out = outputs[0][0];
    let i = 0;
    while (i < out.length && this.chunks.length > 0) {
      const chunk = this.chunks[0];
      const n = Math.min(out.length - i, chunk.length - this.offset);
      out.set(chunk.subarray(this.offset, this.offset + n), i);
      i += n;
      this.offset += n;
      if (this.offset >= chunk.length) {
        this.chunks.shift();
        this.queued -= chunk.length;
        this.offset = 0;
      }
    }
    out.fill(0, i);
    this.port.postMessage({ queuedSamples: this.queued - this.offset, droppedSamples: this.dropped });
    return true;
  }
}
registerProcessor('attest-pcm-player', AttestPcmPlayer);
`;

/** What the page shows while listening. */
export interface ListenStats {
  readonly framesReceived: number;
  /** RMS (0..1) of the PCM received in the last frame. */
  readonly receivedLevel: number;
  /** RMS (0..1) of what the player output in the last analyser window. */
  readonly playedLevel: number;
  /** Audio waiting in the player plus the output's own latency, in ms. */
  readonly delayInMs: number;
  readonly droppedInMs: number;
}

/** 16-bit LE PCM to floats in [-1, 1); returns the samples and their RMS. */
export function pcm16ToFloat(bytes: ArrayBuffer, byteOffset: number, byteLength: number) {
  const view = new DataView(bytes, byteOffset, byteLength);
  const samples = new Float32Array(byteLength / 2);
  let sum = 0;
  for (let i = 0; i < samples.length; i += 1) {
    const s = view.getInt16(i * 2, true) / 32768;
    samples[i] = s;
    sum += s * s;
  }
  return { samples, rms: samples.length === 0 ? 0 : Math.sqrt(sum / samples.length) };
}

export interface LivePlayer {
  /** Feeds one binary message of the listen stream. */
  push(message: ArrayBuffer): void;
  stats(): ListenStats;
  close(): Promise<void>;
}

export async function createLivePlayer(): Promise<LivePlayer> {
  const context = new AudioContext({ sampleRate: SAMPLE_RATE_IN_HZ, latencyHint: 'interactive' });
  const moduleUrl = URL.createObjectURL(new Blob([WORKLET], { type: 'text/javascript' }));
  try {
    await context.audioWorklet.addModule(moduleUrl);
  } finally {
    URL.revokeObjectURL(moduleUrl);
  }
  const player = new AudioWorkletNode(context, 'attest-pcm-player', {
    numberOfInputs: 0,
    outputChannelCount: [1],
  });
  const analyser = new AnalyserNode(context, { fftSize: 1024 });
  player.connect(analyser);
  analyser.connect(context.destination);
  let queuedSamples = 0;
  let droppedSamples = 0;
  player.port.onmessage = (e: MessageEvent<{ queuedSamples: number; droppedSamples: number }>) => {
    queuedSamples = e.data.queuedSamples;
    droppedSamples = e.data.droppedSamples;
  };
  await context.resume();
  let framesReceived = 0;
  let receivedLevel = 0;
  const window = new Float32Array(analyser.fftSize);
  return {
    push(message) {
      if (message.byteLength < HEADER_BYTES + 2) return;
      const length = Math.min(FRAME_PCM_BYTES, message.byteLength - HEADER_BYTES) & ~1;
      const { samples, rms } = pcm16ToFloat(message, HEADER_BYTES, length);
      framesReceived += 1;
      receivedLevel = rms;
      player.port.postMessage(samples, [samples.buffer]);
    },
    stats() {
      analyser.getFloatTimeDomainData(window);
      let sum = 0;
      for (const s of window) sum += s * s;
      const outputLatencyInMs = ((context.outputLatency || 0) + (context.baseLatency || 0)) * 1000;
      return {
        framesReceived,
        receivedLevel,
        playedLevel: Math.sqrt(sum / window.length),
        delayInMs: Math.round((queuedSamples / SAMPLE_RATE_IN_HZ) * 1000 + outputLatencyInMs),
        droppedInMs: Math.round((droppedSamples / SAMPLE_RATE_IN_HZ) * 1000),
      };
    },
    async close() {
      player.disconnect();
      analyser.disconnect();
      await context.close();
    },
  };
}
