/**
 * `exportPackageV1` through the local durable engine: the real durable-functions replay, history
 * in Azurite, retry timers on the injected clock, started and followed through the product's
 * durable adapter (the one the admin API uses). A long export runs in short activities, reports
 * its progress, survives a failing step and is resumed by posting its id again.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path, { resolve } from 'node:path';
import { InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { createExportActivities } from '../../functions/src/activities/export.activities';
import { DirectoryExportPackageStore } from '../../functions/src/adapters/directory-export-packages';
import { DurableExportJobs } from '../../functions/src/adapters/durable-export-jobs';
import {
  MemoryExportRequestStore,
  MemoryRecordingBlobStore,
} from './support/memory-archive-stores';
import { verifyExport } from '../../functions/src/cli/verify-export';
import {
  ArchiveOrchestratorNames,
  exportInstanceId,
} from '../../functions/src/domain/archive-names';
import { createLocalDurableEngine, type LocalDurableEngine } from '../../local/src/durable';
import { loadFunctionApp } from '../../local/src/host/function-app';
import { memorySink } from '../../local/src/host/log-sink';
import {
  createHarness,
  kek,
  ledgerKeys,
  manifestKeys,
  memoryBlobWriter,
  writeSealedRecording,
  type ArchiveHarness,
} from './archive-fixtures';

const APP = resolve(__dirname, 'apps/export-app.ts');

class FailingBlobStore extends MemoryRecordingBlobStore {
  failOnRead: string | undefined;
  override readRecordingBlob(blobName: string): Promise<Buffer | undefined> {
    if (this.failOnRead !== undefined && blobName.includes(this.failOnRead))
      return Promise.reject(new Error('storage unavailable'));
    return super.readRecordingBlob(blobName);
  }
}

function connection(): string {
  const value = process.env.ATTEST_TEST_STORAGE_CONNECTION;
  if (value === undefined)
    throw new Error('ATTEST_TEST_STORAGE_CONNECTION is not set (integration global setup)');
  return value;
}

describe('exportPackageV1 on the local durable engine', () => {
  const blobs = new FailingBlobStore();
  let archive: ArchiveHarness;
  let engine: LocalDurableEngine;
  let jobs: DurableExportJobs;
  let client: df.DurableClient;
  let base: string;
  const exportRequests = new MemoryExportRequestStore();

  beforeAll(async () => {
    base = await mkdtemp(path.join(tmpdir(), 'attest-export-durable-'));
    archive = createHarness('2030-01-01T00:00:00.000Z', blobs);
    for (const [n, id] of ['int-1', 'int-2', 'int-3', 'int-4', 'int-5'].entries()) {
      const fixture = await writeSealedRecording(memoryBlobWriter(blobs), {
        tenantId: 'tenant-1',
        interactionId: id,
        recordedUserIds: ['user-a'],
        invitedAt: `2030-01-0${n + 1}T10:00:00.000Z`,
        callChainId: 'chain-1',
      });
      await archive.activities.recordInvite({ ...fixture.interaction, outcome: 'inProgress' });
      await archive.activities.recordSealed(fixture.interaction);
    }
    archive.clock.advance(10 * 86_400_000);
    (globalThis as { __attestExportActivities?: unknown }).__attestExportActivities =
      createExportActivities({
        records: archive.records,
        holds: archive.holds,
        ledger: archive.ledger,
        blobs,
        packages: DirectoryExportPackageStore.under(base),
        kekPrivateKey: kek.privateKey,
        ledgerSigningKey: ledgerKeys.privateKey,
        manifestPublicKeyPem: manifestKeys.publicKey
          .export({ type: 'spki', format: 'pem' })
          .toString(),
        requests: exportRequests,
        integrity: archive.integrity,
        clock: archive.clock,
      });
    const logs = memorySink();
    const app = await loadFunctionApp(APP, { logSink: logs });
    engine = createLocalDurableEngine({
      connectionString: connection(),
      taskHubName: `exp${randomUUID().replace(/-/g, '').slice(0, 12)}`,
      clock: archive.clock,
      logSink: logs,
    });
    app.setDurableClientData(() => engine.clientBindingData());
    await engine.start(app);
    const input = df.input.durableClient();
    const context = new InvocationContext({ options: { extraInputs: [input] } });
    context.extraInputs.set(input, engine.clientBindingData());
    client = df.getClient(context);
    // Two interactions per step and two steps per execution: five interactions continue as new once.
    jobs = new DurableExportJobs(
      client,
      { batchSize: 2, maxBatchesPerExecution: 2 },
      exportRequests,
      archive.clock,
    );
  });
  afterAll(async () => {
    await engine.close();
    await rm(base, { recursive: true, force: true });
  });

  const request = (exportId: string) => ({
    exportId,
    createdBy: 'officer-1',
    tenantId: 'tenant-1',
    query: {},
  });

  it('writes a package in steps, continuing as new, that passes the verifier', async () => {
    expect(await jobs.start(request('exp-a'))).toBe('started');
    await engine.runUntilIdle();
    const status = await jobs.status('exp-a');
    expect(status).toMatchObject({
      exportId: 'exp-a',
      state: 'completed',
      tenantId: 'tenant-1',
      createdBy: 'officer-1',
      progress: { phase: 'done', done: 5, total: 5 },
    });
    expect(status?.result).toMatchObject({ interactionCount: 5, absentCount: 0, resumedCount: 0 });
    const history = await client.getStatus(exportInstanceId('exp-a'), {
      showHistory: false,
      showInput: true,
    });
    // The input of the last execution carries where the previous one stopped.
    expect(history.input).toMatchObject({ total: 5, nextIndex: 4 });
    expect((await verifyExport(path.join(base, 'exp-a'))).failures).toEqual([]);
  });

  it('shows progress while a step is retried, fails after its retries, and resumes by id without rewriting', async () => {
    blobs.failOnRead = 'int-3/';
    expect(await jobs.start(request('exp-b'))).toBe('started');
    await engine.runUntilIdle();
    // int-1 and int-2 are written; the step with int-3 waits for its retry.
    expect(await jobs.status('exp-b')).toMatchObject({
      state: 'running',
      progress: { phase: 'writing', done: 2, total: 5 },
    });
    expect(await jobs.start(request('exp-b'))).toBe('alreadyRunning');
    // Four attempts (retries after 5, 10 and 20 s); the task fails when the last backoff ends.
    for (const waitInMs of [5_000, 10_000, 20_000]) {
      archive.clock.advance(waitInMs);
      await engine.runUntilIdle();
      expect(await jobs.status('exp-b')).toMatchObject({
        state: 'running',
        progress: { done: 2, total: 5 },
      });
    }
    archive.clock.advance(40_000);
    await engine.runUntilIdle();
    const failed = await jobs.status('exp-b');
    expect(failed).toMatchObject({
      state: 'failed',
      error: expect.stringContaining('post it again with its exportId to resume'),
    });

    blobs.failOnRead = undefined;
    expect(await jobs.start(request('exp-b'))).toBe('started');
    await engine.runUntilIdle();
    const resumed = await jobs.status('exp-b');
    expect(resumed).toMatchObject({
      state: 'completed',
      progress: { phase: 'done', done: 5, total: 5 },
    });
    expect(resumed?.result).toMatchObject({ interactionCount: 5, resumedCount: 2 });
    expect((await verifyExport(path.join(base, 'exp-b'))).failures).toEqual([]);
  });

  /** Starts `exportPackageV1` the way anyone reaching the durable management API could. */
  async function startDirectly(exportId: string, createdBy: string): Promise<void> {
    await client.startNew(ArchiveOrchestratorNames.exportPackage, {
      instanceId: exportInstanceId(exportId),
      input: {
        request: { ...request(exportId), createdBy },
        batchSize: 2,
        maxBatchesPerExecution: 2,
      },
    });
    await engine.runUntilIdle();
    // The refused step is retried (5, 10, 20 s) and the orchestration then fails.
    for (const waitInMs of [5_000, 10_000, 20_000, 40_000]) {
      archive.clock.advance(waitInMs);
      await engine.runUntilIdle();
    }
  }

  const refusals = (exportId: string) =>
    archive.ledger.entries.filter(
      (e) =>
        e.subjectType === 'export' &&
        e.subjectId === exportId &&
        typeof e.details.outcome === 'string' &&
        e.details.outcome.startsWith('refused:'),
    );

  it('does nothing for an orchestration started directly with a forged actor, and records the refusal', async () => {
    await startDirectly('exp-forged', 'mallory');
    expect(await jobs.status('exp-forged')).toMatchObject({ state: 'failed' });
    expect(existsSync(path.join(base, 'exp-forged'))).toBe(false);
    expect(archive.ledger.entries.some((e) => e.kind === 'exported' && e.actor === 'mallory')).toBe(
      false,
    );
    const refused = refusals('exp-forged');
    expect(refused.length).toBeGreaterThanOrEqual(1);
    expect(refused[0]).toMatchObject({
      kind: 'accessed',
      actor: 'system',
      tenantId: 'tenant-1',
      details: { action: 'export', outcome: 'refused:unrequested', claimedBy: 'mallory' },
    });
  });

  it('refuses a forged actor on the id of a real request, and runs the real one unchanged', async () => {
    expect(await jobs.start(request('exp-c'))).toBe('started');
    await engine.runUntilIdle();
    expect(await jobs.status('exp-c')).toMatchObject({ state: 'completed' });
    const exportedBefore = archive.ledger.entries.filter((e) => e.kind === 'exported').length;
    await startDirectly('exp-c', 'mallory');
    expect(await jobs.status('exp-c')).toMatchObject({ state: 'failed' });
    expect(archive.ledger.entries.filter((e) => e.kind === 'exported')).toHaveLength(
      exportedBefore,
    );
    expect(refusals('exp-c')[0]).toMatchObject({
      details: { outcome: 'refused:actor', claimedBy: 'mallory' },
    });
    // The package written for officer-1 is still the one the verifier accepts.
    expect((await verifyExport(path.join(base, 'exp-c'))).failures).toEqual([]);
  });

  it('fails an export at a manifest that does not verify, and its status names the interaction', async () => {
    const fixture = await writeSealedRecording(memoryBlobWriter(blobs), {
      tenantId: 'tenant-2',
      interactionId: 'int-x',
      recordedUserIds: ['user-b'],
      invitedAt: '2030-01-02T10:00:00.000Z',
    });
    await archive.activities.recordSealed(fixture.interaction);
    blobs.recordings.set(
      'tenant-2/int-x/manifest.sig',
      blobs.recordings.get('tenant-1/int-1/manifest.sig')!,
    );
    const tenant2 = { exportId: 'exp-t', createdBy: 'officer-2', tenantId: 'tenant-2', query: {} };
    expect(await jobs.start(tenant2)).toBe('started');
    await engine.runUntilIdle();
    for (const waitInMs of [5_000, 10_000, 20_000, 40_000]) {
      archive.clock.advance(waitInMs);
      await engine.runUntilIdle();
    }
    expect(await jobs.status('exp-t')).toMatchObject({
      state: 'failed',
      error: expect.stringMatching(
        /^\[ATT_INTEGRITY_VIOLATION\] export exp-t stopped: interaction int-x of tenant tenant-2/,
      ),
    });
    expect(existsSync(path.join(base, 'exp-t', 'export.json'))).toBe(false);
  });

  it('knows no status for an export that was never started', async () => {
    expect(await jobs.status('never')).toBeUndefined();
  });
});
