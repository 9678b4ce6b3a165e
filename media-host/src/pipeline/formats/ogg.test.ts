import { buildOggPage, lacingValuesOf, oggCrc32, paginate, readOggPages } from './ogg';

describe('Ogg pages', () => {
  it('computes the Ogg CRC-32 (poly 0x04c11db7, init 0, no reflection) of the standard check string', () => {
    expect(oggCrc32(Buffer.from('123456789', 'latin1')).toString(16)).toBe('89a1897f');
  });

  it('laces a 510-byte packet as 255, 255, 0 so the reader sees where it ends', () => {
    expect(lacingValuesOf(510)).toEqual([255, 255, 0]);
    expect(lacingValuesOf(0)).toEqual([0]);
  });

  it('round-trips packets of awkward sizes through a page', () => {
    const packets = [
      Buffer.alloc(0),
      Buffer.alloc(255, 1),
      Buffer.alloc(300, 2),
      Buffer.alloc(7, 3),
    ];
    const page = buildOggPage({
      serialNumber: 9,
      sequenceNumber: 4,
      granulePosition: 960n,
      headerType: 0,
      packets,
    });
    const [read] = readOggPages(page);
    expect(read).toMatchObject({
      serialNumber: 9,
      sequenceNumber: 4,
      granulePosition: 960n,
      isChecksumValid: true,
    });
    expect(read!.packets).toEqual(packets);
  });

  it('detects a flipped byte through the checksum', () => {
    const page = buildOggPage({
      serialNumber: 1,
      sequenceNumber: 0,
      granulePosition: 0n,
      headerType: 2,
      packets: [Buffer.from('hello')],
    });
    page[page.length - 1] = (page[page.length - 1] ?? 0) ^ 0xff;
    expect(readOggPages(page)[0]!.isChecksumValid).toBe(false);
  });

  it('starts a new page rather than exceed 255 lacing values', () => {
    const packets = Array.from({ length: 100 }, () => Buffer.alloc(600));
    const pages = paginate(packets, {
      serialNumber: 1,
      firstSequenceNumber: 5,
      granuleAfter: (i) => BigInt(i + 1),
      isEndOfStream: true,
    });
    const read = readOggPages(Buffer.concat(pages));
    expect(read.map((p) => p.packets.length)).toEqual([85, 15]);
    expect(read.map((p) => p.granulePosition)).toEqual([85n, 100n]);
    expect(read.map((p) => p.headerType)).toEqual([0, 4]);
    expect(read.map((p) => p.sequenceNumber)).toEqual([5, 6]);
  });

  it('names the byte offset of a truncated page', () => {
    const page = buildOggPage({
      serialNumber: 1,
      sequenceNumber: 0,
      granulePosition: 0n,
      headerType: 0,
      packets: [Buffer.alloc(40)],
    });
    expect(() => readOggPages(Buffer.concat([page, page.subarray(0, 30)]))).toThrow(
      `truncated Ogg page at byte ${page.length}`,
    );
  });
});
