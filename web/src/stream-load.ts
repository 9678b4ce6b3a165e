/**
 * Fetches one stream of a sealed recording by HTTP Range, about a second of media per request,
 * and verifies it in the browser (its hash chain, the SHA-256 of every stored and played block)
 * before handing its played bytes to the player as an object URL.
 */
import { ApiError, type Api } from './api';
import type { Coverage } from './components/CaptureCoverage';
import type { Lane } from './components/Player';
import type { Manifest, ManifestStream } from './types';
import { verifyBlocks, verifyChain } from './verify';

/** Blocks fetched per Range request (about a second of media each). */
const BLOCKS_PER_REQUEST = 8;

async function fetchInRanges(
  api: Api,
  path: string,
  stream: ManifestStream,
  form: 'stored' | 'plain',
): Promise<{ bytes: Uint8Array; checked: number; problems: string[] }> {
  const size = form === 'stored' ? stream.storedBytes : stream.plaintextBytes;
  const out = new Uint8Array(size);
  let checked = 0;
  const problems: string[] = [];
  for (let i = 0; i < stream.blocks.length; i += BLOCKS_PER_REQUEST) {
    const first = stream.blocks[i]!;
    const last = stream.blocks[Math.min(i + BLOCKS_PER_REQUEST, stream.blocks.length) - 1]!;
    const start = form === 'stored' ? first.storedOffset : first.offset;
    const end =
      form === 'stored' ? last.storedOffset + last.storedLength - 1 : last.offset + last.length - 1;
    const part = await api.bytes(path, { start, end });
    out.set(part.subarray(0, Math.min(part.length, size - start)), start);
    const result = await verifyBlocks(stream, part, start, form);
    checked += result.checked;
    problems.push(...result.problems);
  }
  return { bytes: out, checked, problems };
}

export interface LoadedStream {
  /** Object URL of the verified played bytes; undefined when they failed or could not be fetched. */
  readonly url: string | undefined;
  readonly problems: readonly string[];
  readonly blocksChecked: number;
  /** Where the stream sits on a timeline that starts at `timelineStartInMs` (ms since the epoch). */
  readonly offsetInMs: number;
  readonly durationInMs: number;
  readonly spanInMs: number;
  readonly timeline: readonly { readonly mediaInMs: number; readonly atInMs: number }[];
}

/**
 * Verifies and loads `stream` of the recording at `base` (`/api/archive/interactions/{t}/{id}`,
 * whose manifest lists it under `interactionId`).
 */
export async function loadStream(
  api: Api,
  base: string,
  interactionId: string,
  stream: ManifestStream,
  timelineStartInMs: number,
): Promise<LoadedStream> {
  const problems = [...(await verifyChain(interactionId, stream))];
  const streamPath = `${base}/streams/${encodeURIComponent(stream.streamId)}`;
  const stored = await fetchInRanges(api, `${streamPath}/stored`, stream, 'stored');
  problems.push(...stored.problems);
  let url: string | undefined;
  let checked = stored.checked;
  try {
    const plain = await fetchInRanges(api, streamPath, stream, 'plain');
    problems.push(...plain.problems);
    checked += plain.checked;
    if (plain.problems.length === 0)
      url = URL.createObjectURL(
        new Blob([plain.bytes as Uint8Array<ArrayBuffer>], { type: stream.contentType }),
      );
  } catch (error) {
    problems.push(
      `${stream.streamId}: the server could not return playable bytes (${error instanceof ApiError ? error.status : 'error'})`,
    );
  }
  const sinceFirst = (ts: string) =>
    Number(BigInt(ts) - BigInt(stream.firstTimestamp100ns)) / 10_000;
  return {
    url,
    problems,
    blocksChecked: checked,
    offsetInMs: Date.parse(stream.startedAt) - timelineStartInMs,
    durationInMs: stream.durationInMs,
    spanInMs: Math.max(stream.durationInMs, sinceFirst(stream.lastTimestamp100ns)),
    timeline: (stream.timeline ?? []).map((t) => ({
      mediaInMs: t.mediaInMs,
      atInMs: sinceFirst(t.timestamp100ns),
    })),
  };
}

export interface StreamCheck {
  readonly state: 'checking' | 'verified' | 'failed';
  readonly problems: readonly string[];
  readonly blocksChecked: number;
}

/** What the interaction page shows while and after it verifies: a row per stream checked. */
/** One stream of the integrity table: its key, its ids in words, and whose media it is. */
export interface StreamRow {
  readonly key: string;
  /** The stream's ids (`{captureId}/{streamId}` across captures), shown as secondary text. */
  readonly label: string;
  readonly kind: 'audio' | 'video' | 'vbss';
  readonly participantId?: string;
  readonly msi?: string;
}

export interface Verified {
  /** The recording's manifest; for an interaction of captures, a view of it (times, people, gaps). */
  readonly manifest: Manifest;
  readonly signatureProblems: readonly string[];
  /** Stream rows by key (the stream id; `{captureId}/{streamId}` across captures). */
  readonly streams: readonly StreamRow[];
  readonly checks: Readonly<Record<string, StreamCheck>>;
  readonly lanes: readonly Lane[];
  /** An interaction of several captures: which capture covers which interval (signed timeline). */
  readonly coverage?: Coverage;
}
