// Makes the simulator's video clips (local/src/simulator/media/clips/): real H.264 that browsers
// and ffmpeg decode, so a recorded camera or screen share can be played back, not only stored.
// Encoded once with the browser's own H.264 encoder (WebCodecs VideoEncoder; Debian's Chromium
// ships OpenH264) from frames drawn on a canvas; the clips are committed, so nothing here runs in
// CI. Run again with: node local/scripts/make-video-clips.mjs [path to chromium]
//
// Each clip is an Annex-B elementary stream, every access unit led by an access unit delimiter
// (so the simulator can cut frames without parsing slices), constrained baseline, no B-frames.
// Every frame carries its index as a row of black and white cells along its top edge (bit 0 on
// the left, 24 px each; see `CELL_SIZE_IN_PX` in clips.ts), which the browser test reads back
// from decoded pixels.
import { createServer } from 'node:http';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, '..', 'src', 'simulator', 'media', 'clips');

const clips = [
  // A camera: 4 s at 15 fps, a key frame every 2 s (the simulator's camera cadence).
  {
    file: 'camera-320x180-15fps.h264',
    width: 320,
    height: 180,
    frames: 60,
    fps: 15,
    keyFrameEvery: 30,
    bitrate: 150_000,
    scene: 'camera',
  },
  // A shared screen: 8 slides, each a key frame (the simulator shares at 1.875 fps, all key frames).
  {
    file: 'screen-640x360.h264',
    width: 640,
    height: 360,
    frames: 8,
    fps: 1.875,
    keyFrameEvery: 1,
    bitrate: 300_000,
    scene: 'screen',
  },
];

// Runs in the page: draws each frame, encodes it, returns the access units (base64).
const encodeInPage = async (clip) => {
  const CELL = 24;
  const canvas = new OffscreenCanvas(clip.width, clip.height);
  const g = canvas.getContext('2d');
  const draw = (i) => {
    if (clip.scene === 'camera') {
      const grad = g.createLinearGradient(0, 0, clip.width, clip.height);
      grad.addColorStop(0, '#1b3a6b');
      grad.addColorStop(1, '#2f7d5c');
      g.fillStyle = grad;
      g.fillRect(0, 0, clip.width, clip.height);
      // A square crossing the picture and back once per clip: motion a viewer sees.
      const t = i / clip.frames;
      const x = 20 + (clip.width - 80) * (t < 0.5 ? 2 * t : 2 - 2 * t);
      g.fillStyle = '#f2c14e';
      g.fillRect(x, 90, 40, 40);
      g.fillStyle = '#ffffff';
      g.font = 'bold 18px sans-serif';
      g.fillText(`camera frame ${i}`, 16, 166);
    } else {
      g.fillStyle = '#f5f5f5';
      g.fillRect(0, 0, clip.width, clip.height);
      g.fillStyle = '#0f6cbd';
      g.fillRect(0, 40, clip.width, 56);
      g.fillStyle = '#ffffff';
      g.font = 'bold 30px sans-serif';
      g.fillText(`Shared screen, slide ${i + 1}`, 24, 80);
      const colours = ['#c50f1f', '#107c10', '#8764b8', '#ca5010'];
      for (let b = 0; b < 4; b++) {
        g.fillStyle = colours[(b + i) % 4];
        g.fillRect(
          40 + b * 140,
          330 - 30 * (1 + ((b * 3 + i) % 7)),
          100,
          30 * (1 + ((b * 3 + i) % 7)),
        );
      }
    }
    // The frame index, bit 0 first, as cells along the top edge.
    for (let bit = 0; bit < 8; bit++) {
      g.fillStyle = (i >> bit) & 1 ? '#ffffff' : '#000000';
      g.fillRect(bit * CELL, 0, CELL, CELL);
    }
  };
  const units = [];
  let failure;
  const encoder = new VideoEncoder({
    output: (chunk) => {
      const bytes = new Uint8Array(chunk.byteLength);
      chunk.copyTo(bytes);
      units.push({ isKey: chunk.type === 'key', bytes: btoa(String.fromCharCode(...bytes)) });
    },
    error: (e) => {
      failure = String(e);
    },
  });
  encoder.configure({
    codec: 'avc1.42001f',
    width: clip.width,
    height: clip.height,
    bitrate: clip.bitrate,
    framerate: clip.fps,
    latencyMode: 'quality',
    avc: { format: 'annexb' },
  });
  const step = Math.round(1_000_000 / clip.fps);
  for (let i = 0; i < clip.frames; i++) {
    draw(i);
    const frame = new VideoFrame(canvas, { timestamp: i * step, duration: step });
    encoder.encode(frame, { keyFrame: i % clip.keyFrameEvery === 0 });
    frame.close();
  }
  await encoder.flush();
  encoder.close();
  if (failure !== undefined) throw new Error(failure);
  return units;
};

const nalTypes = (unit) => {
  const types = [];
  for (let i = 0; i + 3 < unit.length; i++)
    if (unit[i] === 0 && unit[i + 1] === 0 && unit[i + 2] === 1) types.push(unit[i + 3] & 0x1f);
  return types;
};

const executablePath = process.argv[2] ?? '/usr/bin/chromium';
const server = createServer((_, res) => res.end('<!doctype html><title>clips</title>')).listen(
  0,
  '127.0.0.1',
);
await new Promise((resolve) => server.once('listening', resolve));
const browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] });
try {
  const page = await browser.newPage();
  // WebCodecs needs a secure context: a page on loopback.
  await page.goto(`http://127.0.0.1:${server.address().port}/`);
  for (const clip of clips) {
    const units = await page.evaluate(encodeInPage, clip);
    if (units.length !== clip.frames) throw new Error(`${clip.file}: ${units.length} frames`);
    const aud = Buffer.from([0, 0, 0, 1, 0x09, 0xf0]);
    const parts = [];
    for (const [i, unit] of units.entries()) {
      const bytes = Buffer.from(unit.bytes, 'base64');
      const types = nalTypes(bytes);
      const isKey = i % clip.keyFrameEvery === 0;
      // A key frame must carry SPS, PPS and an IDR slice in-band; others a non-IDR slice.
      if (
        isKey !== unit.isKey ||
        (isKey && !(types.includes(7) && types.includes(8) && types.includes(5)))
      )
        throw new Error(`${clip.file} frame ${i}: NAL types ${types.join(',')}, key ${unit.isKey}`);
      parts.push(aud, bytes);
    }
    const stream = Buffer.concat(parts);
    writeFileSync(join(out, clip.file), stream);
    process.stdout.write(`${clip.file}: ${units.length} frames, ${stream.length} bytes\n`);
  }
} finally {
  await browser.close();
  server.close();
}
