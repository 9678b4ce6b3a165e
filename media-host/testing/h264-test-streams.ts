/**
 * Synthetic H.264-shaped access units for tests and benchmarks: a real SPS/PPS syntax for the
 * requested size (written with Exp-Golomb codes, emulation prevention applied) and slice NAL
 * units of the right types with filler bodies. Decoders would reject the slices; containers don't.
 */

class BitWriter {
  readonly #bits: number[] = [];
  u(bits: number, value: number): this {
    for (let i = bits - 1; i >= 0; i -= 1) this.#bits.push(Math.floor(value / 2 ** i) % 2);
    return this;
  }
  ue(value: number): this {
    const code = value + 1;
    const length = Math.floor(Math.log2(code));
    return this.u(length, 0).u(length + 1, code);
  }
  trailing(): Buffer {
    this.#bits.push(1);
    while (this.#bits.length % 8 !== 0) this.#bits.push(0);
    const out = Buffer.alloc(this.#bits.length / 8);
    this.#bits.forEach((bit, i) => {
      if (bit === 1) out[i >> 3]! |= 0x80 >> (i & 7);
    });
    return out;
  }
}

/** Inserts emulation prevention bytes so the payload never contains a start code. */
export function escapeRbsp(rbsp: Buffer): Buffer {
  const out: number[] = [];
  let zeros = 0;
  for (const byte of rbsp) {
    if (zeros >= 2 && byte <= 3) {
      out.push(3);
      zeros = 0;
    }
    out.push(byte);
    zeros = byte === 0 ? zeros + 1 : 0;
  }
  return Buffer.from(out);
}

export interface TestSpsOptions {
  readonly width: number;
  readonly height: number;
  /** 66 baseline (default), 77 main or 100 high (writes the chroma fields). */
  readonly profileIdc?: number;
  readonly levelIdc?: number;
}

/** An SPS NAL unit (header byte 0x67) for a progressive 4:2:0 picture of the given size. */
export function testSps(options: TestSpsOptions): Buffer {
  const profile = options.profileIdc ?? 66;
  const mbsWide = Math.ceil(options.width / 16);
  const mbsHigh = Math.ceil(options.height / 16);
  const w = new BitWriter()
    .u(8, profile)
    .u(8, profile === 66 ? 0xc0 : 0)
    .u(8, options.levelIdc ?? 30)
    .ue(0);
  if (profile === 100) w.ue(1).ue(0).ue(0).u(1, 0).u(1, 0);
  w.ue(0).ue(0).ue(4); // log2_max_frame_num_minus4, poc type 0, log2_max_poc_lsb_minus4
  w.ue(1)
    .u(1, 0)
    .ue(mbsWide - 1)
    .ue(mbsHigh - 1)
    .u(1, 1)
    .u(1, 1); // refs, gaps, size, frame_mbs_only, direct_8x8
  const cropRight = (mbsWide * 16 - options.width) / 2;
  const cropBottom = (mbsHigh * 16 - options.height) / 2;
  if (cropRight > 0 || cropBottom > 0) w.u(1, 1).ue(0).ue(cropRight).ue(0).ue(cropBottom);
  else w.u(1, 0);
  w.u(1, 0); // vui_parameters_present_flag
  return Buffer.concat([Buffer.from([0x67]), escapeRbsp(w.trailing())]);
}

/** A PPS NAL unit (header byte 0x68). */
export function testPps(): Buffer {
  const w = new BitWriter()
    .ue(0)
    .ue(0)
    .u(1, 0)
    .u(1, 0)
    .ue(0)
    .ue(0)
    .ue(0)
    .u(1, 0)
    .u(2, 0)
    .u(6 + 1, 26 * 2)
    .u(1, 1)
    .u(1, 1)
    .u(1, 0)
    .u(1, 0);
  return Buffer.concat([Buffer.from([0x68]), escapeRbsp(w.trailing())]);
}

/** A slice NAL unit: IDR (type 5) or non-IDR (type 1), `size` bytes, content seeded by `seed`. */
export function testSlice(isIdr: boolean, size: number, seed: number): Buffer {
  const nal = Buffer.alloc(size);
  nal[0] = isIdr ? 0x65 : 0x41;
  for (let i = 1; i < size; i += 1) nal[i] = ((seed * 31 + i * 7) % 250) + 4; // never 0..3: no start code inside
  return nal;
}

/** Joins NAL units with start codes, alternating 4- and 3-byte ones as Teams may send. */
export function annexB(...nals: Buffer[]): Buffer {
  return Buffer.concat(
    nals.flatMap((nal, i) => [Buffer.from(i % 2 === 0 ? [0, 0, 0, 1] : [0, 0, 1]), nal]),
  );
}
