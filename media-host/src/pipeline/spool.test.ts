import { mkdtempSync, readdirSync, rmSync, statSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  decodeSpoolRecords,
  encodeSpoolRecord,
  Spool,
  SpoolRecordKind,
  type SpoolRecord,
} from './spool';

const A = '0f8fad5b-d9cb-469f-a165-70867728950e';
const B = '7c9e6679-7425-40de-944b-e07fc1f90ae7';

describe('spool', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'attest-spool-unit-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('replays what was flushed, in order, after a restart', async () => {
    const spool = new Spool({ dir, limitInBytes: 1024 * 1024 });
    await spool.open(() => undefined);
    spool.append(SpoolRecordKind.frame, A, 1, Buffer.from('one'));
    spool.append(SpoolRecordKind.frame, B, 1, Buffer.from('b-one'));
    spool.append(SpoolRecordKind.sequenceMark, A, 2);
    await spool.flush();
    const replayed: SpoolRecord[] = [];
    await new Spool({ dir, limitInBytes: 1024 * 1024 }).open((r) => replayed.push(r));
    expect(replayed.map((r) => [r.sessionId, r.sequence, r.kind, r.body.toString()])).toEqual([
      [A, 1, 1, 'one'],
      [B, 1, 1, 'b-one'],
      [A, 2, 2, ''],
    ]);
  });

  it('refuses an append beyond its bound without queuing it', async () => {
    const spool = new Spool({ dir, limitInBytes: 100 });
    await spool.open(() => undefined);
    expect(spool.append(SpoolRecordKind.frame, A, 1, Buffer.alloc(40))).toBe(true);
    expect(spool.append(SpoolRecordKind.frame, A, 2, Buffer.alloc(40))).toBe(false);
    expect(spool.sizeInBytes).toBe(72);
  });

  it('truncates a torn tail and keeps the whole records before it', async () => {
    const spool = new Spool({ dir, limitInBytes: 1024 * 1024 });
    await spool.open(() => undefined);
    spool.append(SpoolRecordKind.frame, A, 1, Buffer.from('whole'));
    spool.append(SpoolRecordKind.frame, A, 2, Buffer.from('torn-record'));
    await spool.close();
    const file = join(dir, readdirSync(dir)[0]!);
    truncateSync(file, statSync(file).size - 3);
    const replayed: SpoolRecord[] = [];
    await new Spool({ dir, limitInBytes: 1024 * 1024 }).open((r) => replayed.push(r));
    expect(replayed.map((r) => r.sequence)).toEqual([1]);
    expect(statSync(file).size).toBe(32 + 5);
  });

  it('stops at a record whose checksum does not match', () => {
    const good = encodeSpoolRecord(SpoolRecordKind.frame, A, 1, Buffer.from('x'));
    const bad = encodeSpoolRecord(SpoolRecordKind.frame, A, 2, Buffer.from('y'));
    bad[bad.length - 1] = (bad[bad.length - 1] ?? 0) ^ 0xff;
    const { records, validBytes } = decodeSpoolRecords(Buffer.concat([good, bad]));
    expect(records).toHaveLength(1);
    expect(validBytes).toBe(good.length);
  });

  it('deletes a segment once every session in it has released or finished', async () => {
    const spool = new Spool({ dir, limitInBytes: 1024 * 1024, segmentMaxBytes: 64 });
    await spool.open(() => undefined);
    spool.append(SpoolRecordKind.frame, A, 1, Buffer.alloc(40));
    await spool.flush();
    spool.append(SpoolRecordKind.frame, B, 1, Buffer.alloc(40));
    await spool.flush();
    expect(spool.segmentCount).toBe(2);
    await spool.release(A, 1);
    expect(spool.segmentCount).toBe(1);
    await spool.forget(B);
    expect(spool.segmentCount).toBe(0);
    expect(spool.sizeInBytes).toBe(0);
    await spool.close();
  });
});
