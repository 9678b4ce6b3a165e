import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StreamWriterState } from '../pipeline/stream-writer';
import type { CheckpointLine } from './checkpoint-log';
import {
  foldRecordAndLog,
  newSessionRecord,
  SessionRecordFile,
  sessionRecordPath,
  type SessionRecord,
} from './session-record';

const REQUEST = { callId: 'c', tenantId: 't', interactionId: 'i', recordedUserIds: [] };

function stream(streamId: string, blockCount: number): StreamWriterState {
  return {
    streamId,
    kind: 'audio',
    msi: streamId.split('-')[1] ?? '0',
    segment: 0,
    blobName: `t/i/streams/${streamId}.wav`,
    contentType: 'audio/wav',
    blocks: Array.from({ length: blockCount }, (_, index) => ({
      index,
      blockId: `b${index}`,
      offset: 0,
      length: 1,
      sha256: '0',
      storedOffset: 0,
      storedLength: 1,
      storedSha256: '0',
      chainSha256: '0',
    })),
    chainHeadSha256: '0',
    plaintextBytes: blockCount,
    storedBytes: blockCount,
    committedThroughSequence: blockCount * 10,
    frameCount: blockCount * 10,
    mediaEndInMs: 0,
    timeline: [],
  };
}

const line = (through: number, streams: StreamWriterState[]): CheckpointLine => ({
  v: 1,
  through,
  framesReceived: through,
  framesDroppedBeforePersist: 0,
  streams,
});

describe('foldRecordAndLog (format 1 migration)', () => {
  it('takes a format 1 record streams as the base when the log is empty', () => {
    const folded = foldRecordAndLog({ streams: [stream('audio-1', 2)] }, []);
    expect(folded.streams.map((s) => [s.streamId, s.blocks.length])).toEqual([['audio-1', 2]]);
  });

  it('ignores a format 1 record streams once the log holds them as its first line', () => {
    const legacy = [stream('audio-1', 2)];
    const folded = foldRecordAndLog({ streams: legacy }, [line(20, legacy)]);
    expect(folded.streams.map((s) => [s.streamId, s.blocks.length])).toEqual([['audio-1', 2]]);
  });

  it('folds a format 2 record from its log alone', () => {
    const folded = foldRecordAndLog({}, [line(10, [stream('audio-1', 1)]), line(20, [])]);
    expect(folded.through).toBe(20);
    expect(folded.lineCount).toBe(2);
  });
});

describe('newSessionRecord', () => {
  it('keeps the token hash and no media state', () => {
    const record = newSessionRecord(
      { sessionId: 's', token: 'tok', request: REQUEST, dataKey: undefined, kekId: undefined },
      '2026-12-06T09:00:00.000Z',
    );
    expect(record).toMatchObject({ v: 2, state: 'created', framesReceived: 0, gaps: [] });
    expect(record.tokenSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(record).not.toHaveProperty('dataKey');
  });
});

describe('SessionRecordFile', () => {
  const record = (state: SessionRecord['state']): SessionRecord => ({
    ...newSessionRecord(
      { sessionId: 's-1', token: 'tok', request: REQUEST, dataKey: undefined, kekId: undefined },
      '2026-12-06T09:00:00.000Z',
    ),
    state,
  });

  it('leaves the last record asked for, written whole, with no temp file behind', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'attest-record-'));
    const file = new SessionRecordFile(dir, 's-1', (write) => write());
    let state: SessionRecord['state'] = 'created';
    const first = file.save(() => record(state));
    state = 'persisting';
    await Promise.all([first, file.save(() => record(state))]);
    const stored = JSON.parse(readFileSync(sessionRecordPath(dir, 's-1'), 'utf8')) as SessionRecord;
    expect(stored.state).toBe('persisting');
    expect(readdirSync(dir)).toEqual(['s-1.json']);
  });

  it('keeps an unsealed session files aside when retired, deletes a sealed one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'attest-record-'));
    const failed = new SessionRecordFile(dir, 's-1', (write) => write());
    await failed.save(() => record('failed'));
    await failed.retire(false);
    expect(readdirSync(join(dir, 'finished'))).toEqual(['s-1.json']);
    const sealed = new SessionRecordFile(dir, 's-2', (write) => write());
    await sealed.save(() => ({ ...record('sealed'), sessionId: 's-2' }));
    await sealed.retire(true);
    expect(readdirSync(dir)).toEqual(['finished']);
  });
});
