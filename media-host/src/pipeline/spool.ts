/**
 * The host's crash journal: every frame allowed to be stored goes here before anything else, in
 * append-only segment files shared by all sessions, written and fsynced in batches. A frame is
 * acknowledged to the media source only after the fsync that covers it. After a crash,
 * {@link Spool.open} replays what is still on disk in order; segments are deleted once every
 * session in them has committed its frames to storage ({@link Spool.release}).
 *
 * Record layout (little-endian): length u32 (of what follows the CRC) | crc32 u32 | kind u8 |
 * 3 reserved | session id 16 bytes | sequence u32 | body. Kind 1 = one media protocol frame as
 * encoded on the wire (body), sequence = its sequence; kind 2 = "sequences up to this one
 * consumed without storing" (frames dropped because persistence was off), no body; kind 3 = one
 * or more consecutive media protocol frames exactly as received on the wire (one socket read of
 * one session), sequence = the last frame's. Kind 3 is what the host writes: the bytes a read
 * delivered go to disk as they are, behind a 32-byte head, without encoding the frames again.
 */
import { mkdirSync, readdirSync } from 'node:fs';
import { open, readFile, rm, stat, truncate, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';

export const SpoolRecordKind = { frame: 1, sequenceMark: 2, frames: 3 } as const;
export type SpoolRecordKind = (typeof SpoolRecordKind)[keyof typeof SpoolRecordKind];

const RECORD_HEAD_BYTES = 8;
const RECORD_FIXED_BYTES = 24;
const SLAB_BYTES = 256 * 1024;

export interface SpoolRecord {
  readonly kind: SpoolRecordKind;
  readonly sessionId: string;
  readonly sequence: number;
  readonly body: Buffer;
}

export interface SpoolOptions {
  readonly dir: string;
  /** Upper bound of bytes on disk plus bytes waiting to be written. */
  readonly limitInBytes: number;
  /** A segment is closed and a new one started past this size. Default 16 MiB. */
  readonly segmentMaxBytes?: number;
}

interface Segment {
  readonly number: number;
  readonly path: string;
  bytes: number;
  /** Highest sequence per session in this segment. */
  readonly maxSequence: Map<string, number>;
}

function sessionIdBytes(sessionId: string): Buffer {
  return Buffer.from(sessionId.replace(/-/g, ''), 'hex');
}

function sessionIdText(bytes: Buffer, offset: number): string {
  const hex = bytes.toString('hex', offset, offset + 16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export function encodeSpoolRecord(
  kind: SpoolRecordKind,
  sessionId: string,
  sequence: number,
  body?: Buffer,
): Buffer {
  const head = encodeSpoolRecordHead(kind, sessionIdBytes(sessionId), sequence, body);
  return body === undefined || body.length === 0 ? head : Buffer.concat([head, body]);
}

/** The 32 bytes in front of a record's body (length, CRC over everything after it, fixed fields). */
function encodeSpoolRecordHead(
  kind: SpoolRecordKind,
  sessionId: Buffer,
  sequence: number,
  body: Buffer | undefined,
): Buffer {
  const bodyLength = body?.length ?? 0;
  const head = Buffer.allocUnsafe(RECORD_HEAD_BYTES + RECORD_FIXED_BYTES);
  head.writeUInt32LE(RECORD_FIXED_BYTES + bodyLength, 0);
  head.writeUInt32LE(kind, 8);
  sessionId.copy(head, 12);
  head.writeUInt32LE(sequence, 28);
  const fixedCrc = crc32(head.subarray(RECORD_HEAD_BYTES));
  head.writeUInt32LE(bodyLength === 0 ? fixedCrc : crc32(body!, fixedCrc), 4);
  return head;
}

/** Parses records; stops at the first torn or corrupt one and reports where. */
export function decodeSpoolRecords(bytes: Buffer): { records: SpoolRecord[]; validBytes: number } {
  const records: SpoolRecord[] = [];
  let offset = 0;
  while (offset + RECORD_HEAD_BYTES + RECORD_FIXED_BYTES <= bytes.length) {
    const length = bytes.readUInt32LE(offset);
    const end = offset + RECORD_HEAD_BYTES + length;
    if (length < RECORD_FIXED_BYTES || end > bytes.length) break;
    const content = bytes.subarray(offset + RECORD_HEAD_BYTES, end);
    if (crc32(content) !== bytes.readUInt32LE(offset + 4)) break;
    const kind = content.readUInt8(0);
    if (
      kind !== SpoolRecordKind.frame &&
      kind !== SpoolRecordKind.sequenceMark &&
      kind !== SpoolRecordKind.frames
    )
      break;
    records.push({
      kind,
      sessionId: sessionIdText(content, 4),
      sequence: content.readUInt32LE(20),
      body: content.subarray(RECORD_FIXED_BYTES),
    });
    offset = end;
  }
  return { records, validBytes: offset };
}

const segmentName = (n: number): string => `segment-${n.toString().padStart(10, '0')}.log`;

export class Spool {
  private readonly dir: string;
  private readonly limitInBytes: number;
  private readonly segmentMaxBytes: number;
  private readonly segments: Segment[] = [];
  private current: { segment: Segment; handle: FileHandle } | undefined;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /**
   * The slab records are being copied into: bytes before `slabStart` are handed to a flush,
   * bytes up to `slabUsed` wait for the next one.
   */
  private slab: Buffer | undefined;
  private slabStart = 0;
  private slabUsed = 0;
  /** Full slabs whose last bytes have not been handed to a flush yet, then written ones to reuse. */
  private retiredSlabs: Buffer[] = [];
  private readonly freeSlabs: Buffer[] = [];
  private pendingMax = new Map<string, number>();
  private diskBytes = 0;
  private readonly released = new Map<string, number>();
  private readonly finished = new Set<string>();
  private readonly sessionIdBytes = new Map<string, Buffer>();
  private flushing: Promise<void> | undefined;
  private isClosed = false;
  private collecting: Promise<void> = Promise.resolve();

  constructor(options: SpoolOptions) {
    this.dir = options.dir;
    this.limitInBytes = options.limitInBytes;
    this.segmentMaxBytes = options.segmentMaxBytes ?? 16 * 1024 * 1024;
    mkdirSync(this.dir, { recursive: true });
  }

  /** Bytes on disk plus bytes waiting for the next flush. */
  get sizeInBytes(): number {
    return this.diskBytes + this.pendingBytes;
  }

  get limit(): number {
    return this.limitInBytes;
  }

  get segmentCount(): number {
    return this.segments.length;
  }

  /**
   * Reads every segment left by a previous run, in order, truncating a torn tail. Call once before
   * appending. `onRecord` sees each record; the segments stay until released.
   */
  async open(onRecord: (record: SpoolRecord) => void): Promise<void> {
    const names = readdirSync(this.dir)
      .filter((n) => /^segment-\d{10}\.log$/.test(n))
      .sort();
    for (const [i, name] of names.entries()) {
      const path = join(this.dir, name);
      const bytes = await readFile(path);
      const { records, validBytes } = decodeSpoolRecords(bytes);
      if (validBytes < bytes.length && i === names.length - 1) await truncate(path, validBytes);
      const segment: Segment = {
        number: Number(name.slice(8, 18)),
        path,
        bytes: validBytes,
        maxSequence: new Map(),
      };
      for (const record of records) {
        segment.maxSequence.set(
          record.sessionId,
          Math.max(segment.maxSequence.get(record.sessionId) ?? 0, record.sequence),
        );
        onRecord(record);
      }
      this.segments.push(segment);
      this.diskBytes += validBytes;
    }
  }

  /**
   * Queues a record for the next flush. Synchronous and never blocks; returns false (and queues
   * nothing) when the bound would be exceeded.
   */
  append(kind: SpoolRecordKind, sessionId: string, sequence: number, body?: Buffer): boolean {
    const bytes = RECORD_HEAD_BYTES + RECORD_FIXED_BYTES + (body?.length ?? 0);
    if (this.isClosed || this.sizeInBytes + bytes > this.limitInBytes) return false;
    let id = this.sessionIdBytes.get(sessionId);
    if (id === undefined) {
      id = sessionIdBytes(sessionId);
      this.sessionIdBytes.set(sessionId, id);
    }
    // Records are copied into 256 KiB slabs, so a flush writes a few big buffers rather than two
    // small ones per record (and a record never pins the socket read it came from).
    if (this.slab === undefined || this.slab.length - this.slabUsed < bytes) {
      this.sealSlab();
      if (this.slab !== undefined) this.retiredSlabs.push(this.slab);
      // Reused slabs: fresh memory would page-fault on every 4 KiB written into it.
      this.slab =
        bytes <= SLAB_BYTES
          ? (this.freeSlabs.pop() ?? Buffer.allocUnsafeSlow(SLAB_BYTES))
          : Buffer.allocUnsafeSlow(bytes);
      this.slabStart = 0;
      this.slabUsed = 0;
    }
    const at = this.slabUsed;
    this.slab.writeUInt32LE(RECORD_FIXED_BYTES + (body?.length ?? 0), at);
    this.slab.writeUInt32LE(kind, at + 8);
    this.slab.set(id, at + 12);
    this.slab.writeUInt32LE(sequence, at + 28);
    if (body !== undefined) this.slab.set(body, at + RECORD_HEAD_BYTES + RECORD_FIXED_BYTES);
    this.slab.writeUInt32LE(crc32(this.slab.subarray(at + RECORD_HEAD_BYTES, at + bytes)), at + 4);
    this.slabUsed = at + bytes;
    this.pendingBytes += bytes;
    const max = this.pendingMax.get(sessionId);
    if (max === undefined || max < sequence) this.pendingMax.set(sessionId, sequence);
    return true;
  }

  /** Writes and fsyncs everything queued so far. Concurrent calls share one flush at a time. */
  async flush(): Promise<void> {
    while (this.flushing !== undefined) await this.flushing;
    this.sealSlab();
    if (this.pending.length === 0) return;
    // Every byte of a slab retired before this point is in this flush or an earlier one.
    const retired = this.retiredSlabs;
    this.retiredSlabs = [];
    this.flushing = this.flushNow().then(() => {
      // Keep about as many as a flush fills, so the pool follows the load instead of a fixed size.
      const keep = Math.max(1, retired.length + 1);
      for (const slab of retired)
        if (slab.length === SLAB_BYTES && this.freeSlabs.length < keep) this.freeSlabs.push(slab);
      if (this.freeSlabs.length > keep) this.freeSlabs.length = keep;
    });
    try {
      await this.flushing;
    } finally {
      this.flushing = undefined;
    }
  }

  /** Moves the bytes of the current slab not yet handed to a flush to the buffers the next flush writes. */
  private sealSlab(): void {
    if (this.slab !== undefined && this.slabUsed > this.slabStart) {
      this.pending.push(this.slab.subarray(this.slabStart, this.slabUsed));
      this.slabStart = this.slabUsed;
    }
  }

  /** Phase timings of the last flush, for diagnostics. */
  lastFlushTimings: { waitInMs: number; writeInMs: number; syncInMs: number; bytes: number } = {
    waitInMs: 0,
    writeInMs: 0,
    syncInMs: 0,
    bytes: 0,
  };

  private async flushNow(): Promise<void> {
    const t0 = Date.now();
    const buffers = this.pending;
    const bytes = this.pendingBytes;
    const maxima = this.pendingMax;
    this.pending = [];
    this.pendingBytes = 0;
    this.pendingMax = new Map();
    const current = await this.writable();
    const t1 = Date.now();
    let written = 0;
    while (written < buffers.length) {
      // writev takes at most IOV_MAX (1024) buffers per call on Linux.
      const slice = buffers.slice(written, written + 1024);
      await current.handle.writev(slice);
      written += slice.length;
    }
    const t2 = Date.now();
    await current.handle.datasync();
    this.lastFlushTimings = {
      waitInMs: t1 - t0,
      writeInMs: t2 - t1,
      syncInMs: Date.now() - t2,
      bytes,
    };
    current.segment.bytes += bytes;
    this.diskBytes += bytes;
    for (const [sessionId, sequence] of maxima) {
      current.segment.maxSequence.set(
        sessionId,
        Math.max(current.segment.maxSequence.get(sessionId) ?? 0, sequence),
      );
    }
    if (current.segment.bytes >= this.segmentMaxBytes) {
      await current.handle.close();
      this.current = undefined;
    }
  }

  private async writable(): Promise<{ segment: Segment; handle: FileHandle }> {
    if (this.current !== undefined) return this.current;
    const number = (this.segments.at(-1)?.number ?? 0) + 1;
    const path = join(this.dir, segmentName(number));
    const handle = await open(path, 'a');
    const segment: Segment = {
      number,
      path,
      bytes: (await stat(path)).size,
      maxSequence: new Map(),
    };
    this.segments.push(segment);
    this.current = { segment, handle };
    return this.current;
  }

  /** Everything of `sessionId` up to `sequence` is in storage; closed segments may go. */
  async release(sessionId: string, sequence: number): Promise<void> {
    this.released.set(sessionId, Math.max(this.released.get(sessionId) ?? 0, sequence));
    await this.collect();
  }

  /** The session is sealed or aborted: none of its records are needed any more. */
  async forget(sessionId: string): Promise<void> {
    this.finished.add(sessionId);
    this.sessionIdBytes.delete(sessionId);
    await this.collect();
  }

  private collect(): Promise<void> {
    // One collection at a time: two would race to delete the same segment.
    this.collecting = this.collecting.then(() => this.collectNow()).catch(() => undefined);
    return this.collecting;
  }

  private async collectNow(): Promise<void> {
    while (this.flushing !== undefined) await this.flushing;
    for (const segment of [...this.segments]) {
      const isNeeded = [...segment.maxSequence].some(
        ([sessionId, max]) =>
          !this.finished.has(sessionId) && (this.released.get(sessionId) ?? 0) < max,
      );
      if (isNeeded) continue;
      if (segment === this.current?.segment) {
        // Detach synchronously so the next flush opens a new segment, then close this one.
        const handle = this.current.handle;
        this.current = undefined;
        await handle.close();
      }
      await rm(segment.path, { force: true });
      this.segments.splice(this.segments.indexOf(segment), 1);
      this.diskBytes -= segment.bytes;
    }
  }

  /** Flushes what is queued and closes the file; idempotent. */
  async close(): Promise<void> {
    if (this.isClosed) return;
    await this.flush();
    this.isClosed = true;
    const current = this.current;
    this.current = undefined;
    await current?.handle.close();
  }
}
