/**
 * ISO base media file format boxes (ISO/IEC 14496-12) for fragmented MP4 with one H.264 track:
 * the init segment (`ftyp` + `moov` with `mvex`) and media fragments (`moof` + `mdat`).
 * Pure builders over `Buffer`, and a reader used by the tests and by offline verification.
 */
import { hasHighProfileExtension, type SpsInfo } from './annex-b';

/** Media timescale of the video track: 10,000,000 ticks per second, Teams' 100 ns timestamps unchanged. */
export const VIDEO_TIMESCALE = 10_000_000;
export const VIDEO_TRACK_ID = 1;

/** `sample_flags` of a key frame: depends on no other sample, sync sample. */
export const SYNC_SAMPLE_FLAGS = 0x02000000;
/** `sample_flags` of a predicted frame: depends on others, not a sync sample. */
export const NON_SYNC_SAMPLE_FLAGS = 0x01010000;

export function box(type: string, ...payload: Buffer[]): Buffer {
  const size = 8 + payload.reduce((sum, part) => sum + part.length, 0);
  const head = Buffer.alloc(8);
  head.writeUInt32BE(size, 0);
  head.write(type, 4, 'latin1');
  return Buffer.concat([head, ...payload]);
}

export function fullBox(
  type: string,
  version: number,
  flags: number,
  ...payload: Buffer[]
): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt32BE((((version & 0xff) << 24) | (flags & 0xffffff)) >>> 0, 0);
  return box(type, head, ...payload);
}

function u8(...values: number[]): Buffer {
  return Buffer.from(values);
}
function u16(...values: number[]): Buffer {
  const b = Buffer.alloc(2 * values.length);
  values.forEach((v, i) => b.writeUInt16BE(v, 2 * i));
  return b;
}
function u32(...values: number[]): Buffer {
  const b = Buffer.alloc(4 * values.length);
  values.forEach((v, i) => b.writeUInt32BE(v >>> 0, 4 * i));
  return b;
}
function u64(value: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(value, 0);
  return b;
}

const UNITY_MATRIX = u32(0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000);

/** `avcC`: AVCDecoderConfigurationRecord with one SPS and one PPS, 4-byte NAL lengths. */
export function avcC(sps: Buffer, pps: Buffer, info: SpsInfo): Buffer {
  const parts = [
    u8(1, sps[1] ?? 0, sps[2] ?? 0, sps[3] ?? 0, 0xfc | 3, 0xe0 | 1),
    u16(sps.length),
    sps,
    u8(1),
    u16(pps.length),
    pps,
  ];
  if (hasHighProfileExtension(info.profileIdc)) {
    parts.push(
      u8(
        0xfc | info.chromaFormatIdc,
        0xf8 | info.bitDepthLumaMinus8,
        0xf8 | info.bitDepthChromaMinus8,
        0,
      ),
    );
  }
  return box('avcC', ...parts);
}

export interface InitSegmentInput {
  readonly width: number;
  readonly height: number;
  readonly sps: Buffer;
  readonly pps: Buffer;
  readonly spsInfo: SpsInfo;
}

/** `ftyp` + `moov` (with `mvex`/`trex`) for one H.264 video track and no samples. */
export function buildInitSegment(input: InitSegmentInput): Buffer {
  const ftyp = box(
    'ftyp',
    Buffer.from('isom', 'latin1'),
    u32(0x200),
    Buffer.from('isomiso5iso6avc1mp41', 'latin1'),
  );
  const mvhd = fullBox(
    'mvhd',
    0,
    0,
    u32(0, 0, 1000, 0), // creation, modification, timescale (ms), duration unknown
    u32(0x00010000),
    u16(0x0100, 0),
    u32(0, 0), // rate 1.0, volume 1.0, reserved
    UNITY_MATRIX,
    u32(0, 0, 0, 0, 0, 0),
    u32(VIDEO_TRACK_ID + 1),
  );
  const tkhd = fullBox(
    'tkhd',
    0,
    0x000003, // enabled, in movie
    u32(0, 0, VIDEO_TRACK_ID, 0, 0),
    u32(0, 0),
    u16(0, 0, 0, 0), // times, id, reserved, duration; reserved; layer, group, volume, reserved
    UNITY_MATRIX,
    u32(input.width * 0x10000, input.height * 0x10000),
  );
  const mdhd = fullBox('mdhd', 0, 0, u32(0, 0, VIDEO_TIMESCALE, 0), u16(0x55c4, 0)); // language 'und'
  const hdlr = fullBox(
    'hdlr',
    0,
    0,
    u32(0),
    Buffer.from('vide', 'latin1'),
    u32(0, 0, 0),
    Buffer.from('VideoHandler\0', 'latin1'),
  );
  const vmhd = fullBox('vmhd', 0, 1, u16(0, 0, 0, 0));
  const dinf = box('dinf', fullBox('dref', 0, 0, u32(1), fullBox('url ', 0, 1)));
  const avc1 = box(
    'avc1',
    u8(0, 0, 0, 0, 0, 0),
    u16(1), // reserved, data_reference_index
    u16(0, 0),
    u32(0, 0, 0), // pre_defined, reserved, pre_defined
    u16(input.width, input.height),
    u32(0x00480000, 0x00480000, 0),
    u16(1), // resolution 72 dpi, reserved, frame count
    Buffer.alloc(32),
    u16(0x0018, 0xffff), // compressor name, depth, pre_defined -1
    avcC(input.sps, input.pps, input.spsInfo),
  );
  const stbl = box(
    'stbl',
    fullBox('stsd', 0, 0, u32(1), avc1),
    fullBox('stts', 0, 0, u32(0)),
    fullBox('stsc', 0, 0, u32(0)),
    fullBox('stsz', 0, 0, u32(0, 0)),
    fullBox('stco', 0, 0, u32(0)),
  );
  const trak = box('trak', tkhd, box('mdia', mdhd, hdlr, box('minf', vmhd, dinf, stbl)));
  const mvex = box('mvex', fullBox('trex', 0, 0, u32(VIDEO_TRACK_ID, 1, 0, 0, 0)));
  return Buffer.concat([ftyp, box('moov', mvhd, trak, mvex)]);
}

export interface FragmentSample {
  /** Length-prefixed NAL units of one access unit. */
  readonly data: Buffer;
  readonly durationInTicks: number;
  readonly isSync: boolean;
}

/** `moof` + `mdat` for one fragment of the video track; `trun` data offset points into the `mdat`. */
export function buildFragment(
  sequenceNumber: number,
  baseDecodeTimeInTicks: bigint,
  samples: readonly FragmentSample[],
): Buffer {
  const trunFlags = 0x000001 | 0x000100 | 0x000200 | 0x000400; // data offset, duration, size, flags
  const entries = samples.map((s) =>
    u32(s.durationInTicks, s.data.length, s.isSync ? SYNC_SAMPLE_FLAGS : NON_SYNC_SAMPLE_FLAGS),
  );
  const build = (dataOffset: number): Buffer =>
    box(
      'moof',
      fullBox('mfhd', 0, 0, u32(sequenceNumber)),
      box(
        'traf',
        fullBox('tfhd', 0, 0x020000, u32(VIDEO_TRACK_ID)), // default-base-is-moof
        fullBox('tfdt', 1, 0, u64(baseDecodeTimeInTicks)),
        fullBox('trun', 0, trunFlags, u32(samples.length, dataOffset), ...entries),
      ),
    );
  const moofSize = build(0).length;
  return Buffer.concat([build(moofSize + 8), box('mdat', ...samples.map((s) => s.data))]);
}

/** Replaces Annex-B start codes with 4-byte big-endian lengths. */
export function toLengthPrefixed(nals: readonly Buffer[]): Buffer {
  return Buffer.concat(nals.flatMap((nal) => [u32(nal.length), nal]));
}

export interface Mp4Box {
  readonly type: string;
  readonly offset: number;
  readonly size: number;
  /** The box's payload (after its 8-byte header). */
  readonly body: Buffer;
  readonly children: Mp4Box[];
}

const containerTypes: ReadonlySet<string> = new Set([
  'moov',
  'trak',
  'mdia',
  'minf',
  'stbl',
  'dinf',
  'mvex',
  'moof',
  'traf',
]);

/** Reads boxes (recursing into plain containers). Throws a RangeError naming the offset of a bad box. */
export function readBoxes(bytes: Buffer, baseOffset = 0): Mp4Box[] {
  const boxes: Mp4Box[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    if (bytes.length - offset < 8)
      throw new RangeError(`truncated box header at byte ${baseOffset + offset}`);
    const size = bytes.readUInt32BE(offset);
    const type = bytes.toString('latin1', offset + 4, offset + 8);
    if (size < 8 || offset + size > bytes.length)
      throw new RangeError(`bad size of box '${type}' at byte ${baseOffset + offset}`);
    const body = bytes.subarray(offset + 8, offset + size);
    const children = containerTypes.has(type) ? readBoxes(body, baseOffset + offset + 8) : [];
    boxes.push({ type, offset: baseOffset + offset, size, body, children });
    offset += size;
  }
  return boxes;
}

/** The first box at the path, for example `findBox(boxes, 'moov', 'trak', 'tkhd')`. */
export function findBox(boxes: readonly Mp4Box[], ...path: string[]): Mp4Box | undefined {
  const [head, ...rest] = path;
  const found = boxes.find((b) => b.type === head);
  if (found === undefined || rest.length === 0) return found;
  return findBox(found.children, ...rest);
}
