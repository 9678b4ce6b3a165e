/**
 * Ogg pages (RFC 3533): the framing of the Opus-in-Ogg audio blobs. Pure functions over `Buffer`.
 * The writer never splits a packet across pages, so every page holds whole packets only.
 */

/** `OggS`, the capture pattern at the start of every page. */
export const OGG_CAPTURE_PATTERN = Buffer.from('OggS', 'latin1');
const PAGE_HEADER_BYTES = 27;
/** Most lacing values one page can hold (its segment table has one byte of count). */
export const MAX_SEGMENTS_PER_PAGE = 255;

export const OggHeaderType = { continued: 0x01, beginOfStream: 0x02, endOfStream: 0x04 } as const;

const crcTable = ((): Uint32Array => {
  // Ogg's CRC-32: polynomial 0x04c11db7, MSB first, initial value 0, no final XOR (RFC 3533 §6).
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i += 1) {
    let r = i << 24;
    for (let bit = 0; bit < 8; bit += 1) r = r & 0x80000000 ? (r << 1) ^ 0x04c11db7 : r << 1;
    table[i] = r >>> 0;
  }
  return table;
})();

/** The Ogg page checksum of `bytes` (the page with its checksum field zeroed). */
export function oggCrc32(bytes: Uint8Array): number {
  let crc = 0;
  for (let i = 0; i < bytes.length; i += 1) {
    crc = ((crc << 8) ^ (crcTable[((crc >>> 24) ^ (bytes[i] ?? 0)) & 0xff] ?? 0)) >>> 0;
  }
  return crc >>> 0;
}

/** Lacing values of one packet: 255 for every full 255 bytes, then the remainder (possibly 0). */
export function lacingValuesOf(packetLength: number): number[] {
  const values: number[] = [];
  let rest = packetLength;
  while (rest >= 255) {
    values.push(255);
    rest -= 255;
  }
  values.push(rest);
  return values;
}

export interface OggPageInput {
  readonly serialNumber: number;
  readonly sequenceNumber: number;
  /** Codec-defined position after the last packet that ends on this page; -1 when none ends. */
  readonly granulePosition: bigint;
  readonly headerType: number;
  /** Whole packets; their lacing values must fit in one page. */
  readonly packets: readonly Buffer[];
}

/** Builds one page with its checksum. Throws a RangeError when the packets need > 255 lacing values. */
export function buildOggPage(input: OggPageInput): Buffer {
  const lacing = input.packets.flatMap((packet) => lacingValuesOf(packet.length));
  if (lacing.length > MAX_SEGMENTS_PER_PAGE)
    throw new RangeError('packets do not fit in one Ogg page');
  const bodyBytes = input.packets.reduce((sum, packet) => sum + packet.length, 0);
  const page = Buffer.alloc(PAGE_HEADER_BYTES + lacing.length + bodyBytes);
  OGG_CAPTURE_PATTERN.copy(page, 0);
  page.writeUInt8(0, 4); // stream structure version
  page.writeUInt8(input.headerType, 5);
  page.writeBigInt64LE(input.granulePosition, 6);
  page.writeUInt32LE(input.serialNumber >>> 0, 14);
  page.writeUInt32LE(input.sequenceNumber >>> 0, 18);
  page.writeUInt32LE(0, 22);
  page.writeUInt8(lacing.length, 26);
  Buffer.from(lacing).copy(page, PAGE_HEADER_BYTES);
  let offset = PAGE_HEADER_BYTES + lacing.length;
  for (const packet of input.packets) {
    packet.copy(page, offset);
    offset += packet.length;
  }
  page.writeUInt32LE(oggCrc32(page), 22);
  return page;
}

/**
 * Groups packets into pages of at most 255 lacing values, never splitting a packet. The granule of
 * each page is `granuleAfter(index of its last packet)`. `isLastGroup` sets end-of-stream on the
 * final page.
 */
export function paginate(
  packets: readonly Buffer[],
  options: {
    readonly serialNumber: number;
    readonly firstSequenceNumber: number;
    readonly granuleAfter: (packetIndex: number) => bigint;
    readonly isEndOfStream: boolean;
  },
): Buffer[] {
  const pages: Buffer[] = [];
  let group: Buffer[] = [];
  let groupSegments = 0;
  let sequence = options.firstSequenceNumber;
  const flush = (lastIndex: number, isLast: boolean): void => {
    pages.push(
      buildOggPage({
        serialNumber: options.serialNumber,
        sequenceNumber: sequence,
        granulePosition: options.granuleAfter(lastIndex),
        headerType: isLast && options.isEndOfStream ? OggHeaderType.endOfStream : 0,
        packets: group,
      }),
    );
    sequence += 1;
    group = [];
    groupSegments = 0;
  };
  packets.forEach((packet, index) => {
    const segments = lacingValuesOf(packet.length).length;
    if (groupSegments + segments > MAX_SEGMENTS_PER_PAGE) flush(index - 1, false);
    group.push(packet);
    groupSegments += segments;
  });
  if (group.length > 0) flush(packets.length - 1, true);
  return pages;
}

export interface OggPage {
  readonly headerType: number;
  readonly granulePosition: bigint;
  readonly serialNumber: number;
  readonly sequenceNumber: number;
  readonly checksum: number;
  readonly isChecksumValid: boolean;
  /** Packets completed on this page (a packet continued from the previous page is joined). */
  readonly packets: Buffer[];
  readonly byteOffset: number;
  readonly byteLength: number;
}

/**
 * Reads every page of an Ogg bitstream (one logical stream), rejoining packets that span pages.
 * Throws a RangeError naming the byte offset on a missing capture pattern or a truncated page.
 */
export function readOggPages(bytes: Buffer): OggPage[] {
  const pages: OggPage[] = [];
  let offset = 0;
  let carry: Buffer[] = [];
  while (offset < bytes.length) {
    if (
      bytes.length - offset < PAGE_HEADER_BYTES ||
      !bytes.subarray(offset, offset + 4).equals(OGG_CAPTURE_PATTERN)
    ) {
      throw new RangeError(`no Ogg page at byte ${offset}`);
    }
    const segmentCount = bytes.readUInt8(offset + 26);
    const tableEnd = offset + PAGE_HEADER_BYTES + segmentCount;
    if (tableEnd > bytes.length) throw new RangeError(`truncated Ogg page at byte ${offset}`);
    const lacing = [...bytes.subarray(offset + PAGE_HEADER_BYTES, tableEnd)];
    const bodyBytes = lacing.reduce((sum, value) => sum + value, 0);
    const end = tableEnd + bodyBytes;
    if (end > bytes.length) throw new RangeError(`truncated Ogg page at byte ${offset}`);
    const page = Buffer.from(bytes.subarray(offset, end));
    const checksum = page.readUInt32LE(22);
    page.writeUInt32LE(0, 22);
    const packets: Buffer[] = [];
    let cursor = tableEnd;
    let pending = carry;
    for (const value of lacing) {
      pending.push(bytes.subarray(cursor, cursor + value));
      cursor += value;
      if (value < 255) {
        packets.push(Buffer.concat(pending));
        pending = [];
      }
    }
    carry = pending;
    pages.push({
      headerType: bytes.readUInt8(offset + 5),
      granulePosition: bytes.readBigInt64LE(offset + 6),
      serialNumber: bytes.readUInt32LE(offset + 14),
      sequenceNumber: bytes.readUInt32LE(offset + 18),
      checksum,
      isChecksumValid: oggCrc32(page) === checksum,
      packets,
      byteOffset: offset,
      byteLength: end - offset,
    });
    offset = end;
  }
  return pages;
}
