/**
 * H.264 Annex-B access units (ITU-T H.264 Annex B): NAL unit splitting, NAL types and the few SPS
 * fields a container needs (profile, level, picture size). Pure functions over `Buffer`.
 */

export const NalType = {
  nonIdrSlice: 1,
  idrSlice: 5,
  sei: 6,
  sps: 7,
  pps: 8,
  accessUnitDelimiter: 9,
} as const;

export function nalTypeOf(nal: Buffer): number {
  return (nal[0] ?? 0) & 0x1f;
}

/**
 * Splits an Annex-B buffer at its 3- or 4-byte start codes. Bytes before the first start code
 * and empty NAL units are dropped; trailing zero bytes of a NAL unit (before the next start code)
 * belong to the start code and are trimmed.
 */
export function splitAnnexB(data: Buffer): Buffer[] {
  const starts: { codeAt: number; nalAt: number }[] = [];
  for (let i = 0; i + 2 < data.length; i += 1) {
    if (data[i] === 0 && data[i + 1] === 0 && data[i + 2] === 1) {
      starts.push({ codeAt: i > 0 && data[i - 1] === 0 ? i - 1 : i, nalAt: i + 3 });
      i += 2;
    }
  }
  const nals: Buffer[] = [];
  starts.forEach((start, k) => {
    let end = starts[k + 1]?.codeAt ?? data.length;
    while (end > start.nalAt && data[end - 1] === 0) end -= 1;
    if (end > start.nalAt) nals.push(data.subarray(start.nalAt, end));
  });
  return nals;
}

/** Removes emulation prevention bytes (`00 00 03` → `00 00`) to get the raw RBSP. */
export function unescapeRbsp(nal: Buffer): Buffer {
  const out: number[] = [];
  let zeros = 0;
  for (const byte of nal) {
    if (zeros >= 2 && byte === 3) {
      zeros = 0;
      continue;
    }
    out.push(byte);
    zeros = byte === 0 ? zeros + 1 : 0;
  }
  return Buffer.from(out);
}

/** Reads bits MSB first, with Exp-Golomb codes. Throws a RangeError past the end. */
export class BitReader {
  #bit = 0;
  constructor(private readonly bytes: Buffer) {}

  u(bits: number): number {
    let value = 0;
    for (let i = 0; i < bits; i += 1) {
      const byte = this.bytes[this.#bit >> 3];
      if (byte === undefined) throw new RangeError('SPS ended early');
      value = value * 2 + ((byte >> (7 - (this.#bit & 7))) & 1);
      this.#bit += 1;
    }
    return value;
  }

  ue(): number {
    let zeros = 0;
    while (this.u(1) === 0) {
      zeros += 1;
      if (zeros > 31) throw new RangeError('Exp-Golomb code too long');
    }
    return 2 ** zeros - 1 + this.u(zeros);
  }

  se(): number {
    const k = this.ue();
    return k % 2 === 1 ? (k + 1) / 2 : -(k / 2);
  }
}

export interface SpsInfo {
  readonly profileIdc: number;
  readonly constraintFlags: number;
  readonly levelIdc: number;
  readonly chromaFormatIdc: number;
  readonly bitDepthLumaMinus8: number;
  readonly bitDepthChromaMinus8: number;
  readonly width: number;
  readonly height: number;
}

const profilesWithChromaInfo: ReadonlySet<number> = new Set([
  100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135,
]);

/** Whether `avcC` needs its high-profile extension for this profile (ISO/IEC 14496-15). */
export function hasHighProfileExtension(profileIdc: number): boolean {
  return profileIdc === 100 || profileIdc === 110 || profileIdc === 122 || profileIdc === 144;
}

function skipScalingList(reader: BitReader, size: number): void {
  let last = 8;
  let next = 8;
  for (let j = 0; j < size; j += 1) {
    if (next !== 0) next = (last + reader.se() + 256) % 256;
    last = next === 0 ? last : next;
  }
}

/** Parses an SPS NAL unit (with its header byte). Throws a RangeError on a truncated or non-SPS unit. */
export function parseSps(nal: Buffer): SpsInfo {
  if (nalTypeOf(nal) !== NalType.sps) throw new RangeError('not an SPS NAL unit');
  const reader = new BitReader(unescapeRbsp(nal.subarray(1)));
  const profileIdc = reader.u(8);
  const constraintFlags = reader.u(8);
  const levelIdc = reader.u(8);
  reader.ue(); // seq_parameter_set_id
  let chromaFormatIdc = 1;
  let bitDepthLumaMinus8 = 0;
  let bitDepthChromaMinus8 = 0;
  if (profilesWithChromaInfo.has(profileIdc)) {
    chromaFormatIdc = reader.ue();
    if (chromaFormatIdc === 3) reader.u(1); // separate_colour_plane_flag
    bitDepthLumaMinus8 = reader.ue();
    bitDepthChromaMinus8 = reader.ue();
    reader.u(1); // qpprime_y_zero_transform_bypass_flag
    if (reader.u(1) === 1) {
      const lists = chromaFormatIdc === 3 ? 12 : 8;
      for (let i = 0; i < lists; i += 1)
        if (reader.u(1) === 1) skipScalingList(reader, i < 6 ? 16 : 64);
    }
  }
  reader.ue(); // log2_max_frame_num_minus4
  const pocType = reader.ue();
  if (pocType === 0) reader.ue();
  else if (pocType === 1) {
    reader.u(1);
    reader.se();
    reader.se();
    const cycle = reader.ue();
    for (let i = 0; i < cycle; i += 1) reader.se();
  }
  reader.ue(); // max_num_ref_frames
  reader.u(1); // gaps_in_frame_num_value_allowed_flag
  const widthInMbs = reader.ue() + 1;
  const heightInMapUnits = reader.ue() + 1;
  const frameMbsOnly = reader.u(1);
  if (frameMbsOnly === 0) reader.u(1); // mb_adaptive_frame_field_flag
  reader.u(1); // direct_8x8_inference_flag
  let crop = { left: 0, right: 0, top: 0, bottom: 0 };
  if (reader.u(1) === 1)
    crop = { left: reader.ue(), right: reader.ue(), top: reader.ue(), bottom: reader.ue() };
  const subWidthC = chromaFormatIdc === 3 ? 1 : 2;
  const subHeightC = chromaFormatIdc === 1 ? 2 : 1;
  const cropUnitX = chromaFormatIdc === 0 ? 1 : subWidthC;
  const cropUnitY = (chromaFormatIdc === 0 ? 1 : subHeightC) * (2 - frameMbsOnly);
  return {
    profileIdc,
    constraintFlags,
    levelIdc,
    chromaFormatIdc,
    bitDepthLumaMinus8,
    bitDepthChromaMinus8,
    width: widthInMbs * 16 - cropUnitX * (crop.left + crop.right),
    height: (2 - frameMbsOnly) * heightInMapUnits * 16 - cropUnitY * (crop.top + crop.bottom),
  };
}

/** RFC 6381 codec string, for example `avc1.42C01E`. */
export function avcCodecString(
  sps: Pick<SpsInfo, 'profileIdc' | 'constraintFlags' | 'levelIdc'>,
): string {
  const hex = (n: number): string => n.toString(16).toUpperCase().padStart(2, '0');
  return `avc1.${hex(sps.profileIdc)}${hex(sps.constraintFlags)}${hex(sps.levelIdc)}`;
}
