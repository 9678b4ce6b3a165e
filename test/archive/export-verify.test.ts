import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { InteractionRecord } from '@attest/core';
import { createExportActivities } from '../../functions/src/activities/export.activities';
import { DirectoryExportPackageStore } from '../../functions/src/adapters/directory-export-packages';
import {
  MemoryExportRequestStore,
  MemoryRecordingBlobStore,
} from './support/memory-archive-stores';
import { main } from '../../functions/src/cli/verify';
import { verifyExport } from '../../functions/src/cli/verify-export';
import {
  createHarness,
  kek,
  ledgerKeys,
  manifestKeys,
  memoryBlobWriter,
  writeSealedRecording,
  type ArchiveHarness,
} from './archive-fixtures';

const T0 = '2030-01-01T00:00:00.000Z';
const manifestPem = manifestKeys.publicKey.export({ type: 'spki', format: 'pem' }).toString();
let base: string;
let good: string;

class FailingBlobStore extends MemoryRecordingBlobStore {
  failOnRead: string | undefined;
  override readRecordingBlob(blobName: string): Promise<Buffer | undefined> {
    if (this.failOnRead !== undefined && blobName.includes(this.failOnRead))
      return Promise.reject(new Error('storage unavailable'));
    return super.readRecordingBlob(blobName);
  }
}

async function archiveWithCalls(blobs: MemoryRecordingBlobStore): Promise<ArchiveHarness> {
  const harness = createHarness(T0, blobs);
  for (const [n, id] of ['int-1', 'int-2', 'int-3'].entries()) {
    const fixture = await writeSealedRecording(memoryBlobWriter(blobs), {
      tenantId: 'tenant-1',
      interactionId: id,
      recordedUserIds: ['user-a'],
      invitedAt: `2030-01-0${n + 1}T10:00:00.000Z`,
      callChainId: 'chain-1',
    });
    await harness.activities.recordInvite({ ...fixture.interaction, outcome: 'inProgress' });
    await harness.activities.recordSealed(fixture.interaction);
  }
  const busy: InteractionRecord = {
    tenantId: 'tenant-1',
    interactionId: 'int-busy',
    callId: 'int-busy',
    type: 'p2p',
    direction: 'inbound',
    outcome: 'rejectedBusy',
    outcomeReason: 'no media host capacity',
    invitedAt: '2030-01-02T11:00:00.000Z',
    recordedUserIds: ['user-a'],
    recordingStatusHistory: [],
    gaps: [],
  };
  await harness.activities.recordInvite(busy);
  return harness;
}

function exporter(harness: ArchiveHarness) {
  return createExportActivities({
    records: harness.records,
    holds: harness.holds,
    ledger: harness.ledger,
    blobs: harness.blobs,
    // Each package in `{base}/{exportId}`, where the tamper cases copy and change it.
    packages: DirectoryExportPackageStore.under(base),
    kekPrivateKey: kek.privateKey,
    ledgerSigningKey: ledgerKeys.privateKey,
    manifestPublicKeyPem: manifestPem,
    requests: new MemoryExportRequestStore(),
    integrity: harness.integrity,
    clock: harness.clock,
  });
}

async function copyOfGood(): Promise<string> {
  const dir = await mkdtemp(path.join(base, 'case-'));
  await cp(good, dir, { recursive: true });
  return dir;
}

const locations = async (dir: string) =>
  (await verifyExport(dir)).failures.map((f) => `${f.location}: ${f.message}`);

beforeAll(async () => {
  base = await mkdtemp(path.join(tmpdir(), 'attest-export-'));
  good = path.join(base, 'exp-1');
  const harness = await archiveWithCalls(new MemoryRecordingBlobStore());
  harness.clock.advance(3 * 86_400_000);
  const progress: number[] = [];
  const result = await exporter(harness).runExport(
    {
      exportId: 'exp-1',
      createdBy: 'officer-1',
      tenantId: 'tenant-1',
      query: {
        from: '2030-01-01T00:00:00.000Z',
        to: '2030-02-01T00:00:00.000Z',
      },
    },
    (p) => progress.push(p.done),
  );
  expect(result).toMatchObject({ interactionCount: 3, absentCount: 1, resumedCount: 0 });
  expect(progress).toEqual([1, 2, 3, 4]);
});

afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

describe('export then verify', () => {
  it('passes on an untouched export, with the plaintext media playable as written', async () => {
    const report = await verifyExport(good);
    expect(report.failures).toEqual([]);
    expect(report).toMatchObject({ isValid: true, interactionCount: 3, blockCount: 18 });
    // Media is written decrypted: block 0 of the fixture's first stream is 200 bytes of 0x01.
    const media = await readFile(path.join(good, 'interactions/tenant-1/int-1/media/audio-11.bin'));
    expect(media.length).toBe(630);
    expect(media.subarray(0, 200).equals(Buffer.alloc(200, 1))).toBe(true);
  });

  it('exits 0 and prints PASS from the CLI', async () => {
    const lines: string[] = [];
    expect(
      await main(
        ['verify', good],
        (l) => lines.push(l),
        () => undefined,
      ),
    ).toBe(0);
    expect(lines[lines.length - 1]).toBe('PASS');
  });

  it('fails on a flipped media byte, naming interaction, stream and block', async () => {
    const dir = await copyOfGood();
    const file = path.join(dir, 'interactions/tenant-1/int-2/media/audio-11.bin');
    const bytes = await readFile(file);
    bytes[250] = (bytes[250] ?? 0) ^ 0x01; // block 1 spans bytes 200..409
    await writeFile(file, bytes);
    expect(await locations(dir)).toEqual([
      'interaction tenant-1/int-2 stream audio-11 block 1: bytes 200..409 do not match their hash',
    ]);
    const lines: string[] = [];
    expect(
      await main(
        ['verify', dir],
        (l) => lines.push(l),
        () => undefined,
      ),
    ).toBe(1);
    expect(lines).toContain(
      'FAIL interaction tenant-1/int-2 stream audio-11 block 1: bytes 200..409 do not match their hash',
    );
  });

  it('fails on a removed stream', async () => {
    const dir = await copyOfGood();
    await rm(path.join(dir, 'interactions/tenant-1/int-1/media/video-12.bin'));
    expect(await locations(dir)).toEqual([
      'interaction tenant-1/int-1 stream video-12: media file interactions/tenant-1/int-1/media/video-12.bin missing (stream removed)',
    ]);
  });

  it('fails on a removed interaction', async () => {
    const dir = await copyOfGood();
    await rm(path.join(dir, 'interactions/tenant-1/int-3'), { recursive: true });
    expect(await locations(dir)).toEqual([
      'interaction tenant-1/int-3: missing from the export (folder removed)',
    ]);
  });

  it('fails on an interaction removed from the index as well', async () => {
    const dir = await copyOfGood();
    const index = JSON.parse(await readFile(path.join(dir, 'export.json'), 'utf8'));
    index.interactions = index.interactions.filter(
      (i: { interactionId: string }) => i.interactionId !== 'int-3',
    );
    await writeFile(path.join(dir, 'export.json'), `${JSON.stringify(index, null, 2)}\n`);
    const found = await locations(dir);
    expect(found).toContain(
      'export.json: does not match the hash recorded in ledger entry 7 (altered)',
    );
    expect(found).toContain(
      'interaction tenant-1/int-3: listed as recorded in the completeness report but missing from the export',
    );
  });

  it('fails on a changed metadata field, naming the field', async () => {
    const dir = await copyOfGood();
    const file = path.join(dir, 'interactions/tenant-1/int-1/metadata.json');
    const metadata = JSON.parse(await readFile(file, 'utf8'));
    metadata.type = 'meeting';
    await writeFile(file, `${JSON.stringify(metadata, null, 2)}\n`);
    expect(await locations(dir)).toEqual([
      'interaction tenant-1/int-1 metadata.json: field(s) changed: type',
    ]);
  });

  it('fails on an altered ledger entry', async () => {
    const dir = await copyOfGood();
    const file = path.join(dir, 'ledger/entries.jsonl');
    const lines = (await readFile(file, 'utf8')).trim().split('\n');
    const entry = JSON.parse(lines[2]!);
    entry.actor = 'someone-else';
    lines[2] = JSON.stringify(entry);
    await writeFile(file, `${lines.join('\n')}\n`);
    expect(await locations(dir)).toEqual([
      `ledger entry ${entry.seq}: entry ${entry.seq} does not match its hash`,
    ]);
  });

  it('fails on a forged checkpoint', async () => {
    const dir = await copyOfGood();
    const file = path.join(dir, 'ledger/checkpoints.json');
    const checkpoints = JSON.parse(await readFile(file, 'utf8'));
    checkpoints[0].signature = Buffer.alloc(64, 7).toString('base64');
    await writeFile(file, JSON.stringify(checkpoints));
    expect((await locations(dir))[0]).toMatch(
      /^ledger entry \d+: checkpoint at entry \d+ has no valid signature$/,
    );
  });

  it('fails when the package ships another key than the one the auditor trusts', async () => {
    const other = (await import('node:crypto'))
      .generateKeyPairSync('ed25519')
      .publicKey.export({ type: 'spki', format: 'pem' })
      .toString();
    const report = await verifyExport(good, { ledgerPublicKeyPem: other });
    expect(report.isValid).toBe(false);
    expect(report.failures[0]).toEqual({
      location: 'export.json',
      message: 'names another ledger key than the one used to verify',
    });
  });

  it('answers exit code 2 with a usage line for bad arguments', async () => {
    const errors: string[] = [];
    expect(
      await main(
        ['verify'],
        () => undefined,
        (l) => errors.push(l),
      ),
    ).toBe(2);
    expect(errors).toEqual([
      'usage: attest verify <export-dir> [--ledger-key <pem>] [--manifest-key <pem>]',
    ]);
  });

  it('exports the interactions of a legal hold, and they verify', async () => {
    const harness = await archiveWithCalls(new MemoryRecordingBlobStore());
    await harness.activities.placeHold({
      tenantId: 'tenant-1',
      holdId: 'hold-x',
      matterId: 'M-X',
      description: 'd',
      custodian: 'c',
      scope: { from: '2030-01-02T00:00:00.000Z', to: '2030-01-03T00:00:00.000Z' },
      actor: 'officer-1',
    });
    const dir = path.join(base, 'exp-h');
    const result = await exporter(harness).runExport({
      exportId: 'exp-h',
      createdBy: 'officer-1',
      tenantId: 'tenant-1',
      holdId: 'hold-x',
    });
    expect(result).toMatchObject({ interactionCount: 1, absentCount: 1 });
    const index = JSON.parse(await readFile(path.join(dir, 'export.json'), 'utf8'));
    expect(index.interactions.map((i: { interactionId: string }) => i.interactionId)).toEqual([
      'int-2',
    ]);
    expect(index.absent).toEqual([
      { tenantId: 'tenant-1', interactionId: 'int-busy', reason: 'no media host capacity' },
    ]);
    expect((await verifyExport(dir)).failures).toEqual([]);
  });

  it('resumes an interrupted export and still verifies', async () => {
    const blobs = new FailingBlobStore();
    const harness = await archiveWithCalls(blobs);
    const dir = path.join(base, 'exp-r');
    blobs.failOnRead = 'int-2/';
    const request = {
      exportId: 'exp-r',
      createdBy: 'officer-1',
      tenantId: 'tenant-1',
      query: {},
    };
    await expect(exporter(harness).runExport(request)).rejects.toThrow('storage unavailable');
    blobs.failOnRead = undefined;
    const result = await exporter(harness).runExport(request);
    expect(result.resumedCount).toBe(1);
    expect((await verifyExport(dir)).failures).toEqual([]);
  });
});
