import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { blockIdFor, errorCodeOf, ErrorCode, type ManifestBlock } from '@attest/core';
import type { StreamWriterState } from '../pipeline/stream-writer';
import {
  appendCheckpointLine,
  foldCheckpoints,
  parseCheckpointLog,
  readCheckpointLog,
  readCheckpointLogSync,
  type CheckpointLine,
} from './checkpoint-log';

const block = (index: number): ManifestBlock => ({
  index,
  blockId: blockIdFor(index),
  offset: index * 100,
  length: 100,
  sha256: `${index}`.padStart(64, 'a'),
  storedOffset: index * 128,
  storedLength: 128,
  storedSha256: `${index}`.padStart(64, 'b'),
  chainSha256: `${index}`.padStart(64, 'c'),
});

const stream = (
  streamId: string,
  blocks: ManifestBlock[],
  frameCount: number,
): StreamWriterState => ({
  streamId,
  kind: 'audio',
  msi: streamId.split('-')[1]!.split('.')[0]!,
  segment: streamId.includes('.') ? 1 : 0,
  blobName: `t/i/streams/${streamId}.wav`,
  contentType: 'audio/wav',
  blocks,
  chainHeadSha256: blocks.at(-1)?.chainSha256 ?? 'genesis',
  plaintextBytes: frameCount * 640,
  storedBytes: frameCount * 640,
  committedThroughSequence: frameCount,
  frameCount,
  mediaEndInMs: frameCount * 20,
  timeline: frameCount <= 50 ? [{ mediaInMs: 0, timestamp100ns: '1000' }] : [],
});

const line = (through: number, streams: StreamWriterState[]): CheckpointLine => ({
  v: 1,
  through,
  framesReceived: through,
  framesDroppedBeforePersist: 0,
  streams,
});

describe('checkpoint log', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'attest-checkpoint-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('folds lines into each segment: blocks and timeline appended, counters from the newest line', () => {
    const folded = foldCheckpoints(
      [],
      [
        line(50, [stream('audio-11', [block(0), block(1)], 50)]),
        line(100, [stream('audio-11', [block(2)], 100), stream('audio-12', [block(0)], 40)]),
      ],
    );
    expect(folded.streams.map((s) => s.streamId)).toEqual(['audio-11', 'audio-12']);
    const audio11 = folded.streams[0]!;
    expect(audio11.blocks.map((b) => b.index)).toEqual([0, 1, 2]);
    expect(audio11).toMatchObject({
      frameCount: 100,
      committedThroughSequence: 100,
      chainHeadSha256: block(2).chainSha256,
    });
    expect(audio11.timeline).toEqual([{ mediaInMs: 0, timestamp100ns: '1000' }]);
    expect(folded).toMatchObject({ through: 100, lineCount: 2 });
  });

  it('starts from the streams of a first-format record', () => {
    const folded = foldCheckpoints(
      [stream('audio-11', [block(0)], 50)],
      [line(80, [stream('audio-11', [block(1)], 80)])],
    );
    expect(folded.streams[0]!.blocks.map((b) => b.index)).toEqual([0, 1]);
  });

  it('reads back what was appended, one line per append', async () => {
    const path = join(dir, 's.checkpoints.jsonl');
    await appendCheckpointLine(path, line(50, [stream('audio-11', [block(0)], 50)]));
    await appendCheckpointLine(path, line(100, [stream('audio-11', [block(1)], 100)]));
    expect(readFileSync(path, 'utf8').split('\n')).toHaveLength(3);
    const lines = await readCheckpointLog(path);
    expect(lines.map((l) => l.through)).toEqual([50, 100]);
    expect(foldCheckpoints([], lines).streams[0]!.blocks).toHaveLength(2);
  });

  it('reads no lines for a session that never checkpointed', async () => {
    expect(readCheckpointLogSync(join(dir, 'none.checkpoints.jsonl'))).toEqual([]);
    expect(await readCheckpointLog(join(dir, 'none.checkpoints.jsonl'))).toEqual([]);
  });

  it('drops a torn last line and cuts it off the file, so the next append starts a line of its own', async () => {
    const path = join(dir, 's.checkpoints.jsonl');
    await appendCheckpointLine(path, line(50, [stream('audio-11', [block(0)], 50)]));
    const whole = readFileSync(path).length;
    appendFileSync(path, '{"v":1,"through":100,"framesRec');
    expect(readCheckpointLogSync(path).map((l) => l.through)).toEqual([50]);
    expect(readFileSync(path).length).toBe(whole);
    await appendCheckpointLine(path, line(100, [stream('audio-11', [block(1)], 100)]));
    expect((await readCheckpointLog(path)).map((l) => l.through)).toEqual([50, 100]);
  });

  it('drops a last line that ends but is not a checkpoint', () => {
    const good = `${JSON.stringify(line(50, []))}\n`;
    expect(parseCheckpointLog(Buffer.from(`${good}{"v":1,"thr\n`))).toEqual({
      lines: [line(50, [])],
      validBytes: good.length,
    });
  });

  it('refuses a log with a bad line before good ones as corrupt', () => {
    const path = join(dir, 's.checkpoints.jsonl');
    writeFileSync(path, `not json\n${JSON.stringify(line(50, []))}\n`);
    let error: unknown;
    try {
      readCheckpointLogSync(path);
    } catch (caught) {
      error = caught;
    }
    expect(errorCodeOf(error)).toBe(ErrorCode.IntegrityViolation);
    expect((error as Error).message).toMatch(/corrupt at line 1/);
    // Nothing is cut from a corrupt log: it stays as it is for inspection.
    expect(readFileSync(path, 'utf8')).toContain('not json');
  });
});
