/**
 * `dispositionV1` through the local durable engine: the real durable-functions replay, history in
 * Azurite, timers on the injected clock, events raised through the real DurableClient, and the
 * retention sweep starting instances through the product's durable client adapter.
 */
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import type { DurableClient } from 'durable-functions';
import { loadFunctionApp } from '../../local/src/host/function-app';
import { memorySink } from '../../local/src/host/log-sink';
import { createLocalDurableEngine, type LocalDurableEngine } from '../../local/src/durable';
import { DurableDispositionClient } from '../../functions/src/adapters/durable-disposition-client';
import type { MemoryRecordingBlobStore } from './support/memory-archive-stores';
import {
  dispositionInstanceId,
  type DispositionInput,
} from '../../functions/src/domain/archive-names';
import { createRetentionSweep } from '../../functions/src/timers/retention-sweep.timer';
import {
  createHarness,
  DAY_IN_MS,
  memoryBlobWriter,
  writeSealedRecording,
  type ArchiveHarness,
} from './archive-fixtures';

const APP = resolve(__dirname, 'apps/disposition-app.ts');
const HOUR_IN_MS = 3_600_000;

function connection(): string {
  const value = process.env.ATTEST_TEST_STORAGE_CONNECTION;
  if (value === undefined)
    throw new Error('ATTEST_TEST_STORAGE_CONNECTION is not set (integration global setup)');
  return value;
}

interface EngineHarness {
  readonly archive: ArchiveHarness;
  readonly engine: LocalDurableEngine;
  readonly client: DurableClient;
}

async function start(): Promise<EngineHarness> {
  const archive = createHarness('2030-01-01T00:00:00.000Z');
  (globalThis as { __attestArchiveActivities?: unknown }).__attestArchiveActivities =
    archive.activities;
  const logs = memorySink();
  const app = await loadFunctionApp(APP, { logSink: logs });
  const engine = createLocalDurableEngine({
    connectionString: connection(),
    taskHubName: `arch${randomUUID().replace(/-/g, '').slice(0, 12)}`,
    clock: archive.clock,
    logSink: logs,
  });
  app.setDurableClientData(() => engine.clientBindingData());
  await engine.start(app);
  const input = df.input.durableClient();
  const context = new InvocationContext({ options: { extraInputs: [input] } });
  context.extraInputs.set(input, engine.clientBindingData());
  return { archive, engine, client: df.getClient(context) };
}

async function seal(archive: ArchiveHarness, interactionId: string, userId: string): Promise<void> {
  const fixture = await writeSealedRecording(
    memoryBlobWriter(archive.blobs as MemoryRecordingBlobStore),
    {
      tenantId: 'tenant-1',
      interactionId,
      recordedUserIds: [userId],
      invitedAt: '2030-01-01T00:00:00.000Z',
    },
  );
  await archive.activities.recordSealed(fixture.interaction);
}

const approvalInput = (interactionId: string): DispositionInput => ({
  tenantId: 'tenant-1',
  interactionId,
  mode: 'approval',
  requestedBy: 'system',
  approvalTimeoutInMs: 3 * DAY_IN_MS,
  reminderIntervalInMs: DAY_IN_MS,
});

describe('dispositionV1 on the local durable engine', () => {
  let h: EngineHarness;
  beforeAll(async () => {
    h = await start();
  });
  afterAll(async () => {
    await h.engine.close();
  });

  it('is started by the retention sweep and deletes an expired auto-class interaction', async () => {
    await seal(h.archive, 'int-e1', 'user-a');
    h.archive.clock.advance(31 * DAY_IN_MS);
    const sweep = createRetentionSweep({
      records: h.archive.records,
      holds: h.archive.holds,
      clock: h.archive.clock,
      starter: new DurableDispositionClient(h.client),
      settings: { approvalTimeoutInMs: DAY_IN_MS, reminderIntervalInMs: HOUR_IN_MS },
    });
    expect(await sweep()).toMatchObject({ started: 1 });
    await h.engine.runUntilIdle();
    const status = await h.client.getStatus(dispositionInstanceId('tenant-1', 'int-e1'));
    expect(status.runtimeStatus).toBe('Completed');
    expect(status.output).toMatchObject({ status: 'deleted' });
    expect(await h.archive.blobs.listRecordingBlobs('tenant-1', 'int-e1')).toEqual([]);
  });

  it('waits for a second person and deletes after the approval event', async () => {
    await seal(h.archive, 'int-e2', 'user-trader');
    h.archive.clock.advance(61 * DAY_IN_MS);
    const id = dispositionInstanceId('tenant-1', 'int-e2');
    const events = new DurableDispositionClient(h.client);
    await events.startIfIdle(id, approvalInput('int-e2'));
    await h.engine.runUntilIdle();
    expect((await h.client.getStatus(id)).runtimeStatus).toBe('Running');
    expect(
      await events.raiseDecision(id, {
        decisionId: 'd-1',
        decidedBy: 'officer-2',
        isApproved: true,
      }),
    ).toBe(true);
    await h.engine.runUntilIdle();
    const status = await h.client.getStatus(id);
    expect(status.output).toMatchObject({ status: 'deleted' });
    expect(await h.archive.blobs.readWrappedKey('tenant-1', 'int-e2')).toBeUndefined();
  });

  it('rejects on a rejection event and keeps the media', async () => {
    await seal(h.archive, 'int-e3', 'user-trader');
    h.archive.clock.advance(61 * DAY_IN_MS);
    const id = dispositionInstanceId('tenant-1', 'int-e3');
    const events = new DurableDispositionClient(h.client);
    await events.startIfIdle(id, approvalInput('int-e3'));
    await h.engine.runUntilIdle();
    await events.raiseDecision(id, {
      decisionId: 'd-2',
      decidedBy: 'officer-2',
      isApproved: false,
    });
    await h.engine.runUntilIdle();
    expect((await h.client.getStatus(id)).output).toEqual({
      status: 'rejected',
      decidedBy: 'officer-2',
    });
    expect(await h.archive.blobs.listRecordingBlobs('tenant-1', 'int-e3')).toHaveLength(4);
  });

  it('sends reminders and times out when nobody decides', async () => {
    await seal(h.archive, 'int-e4', 'user-trader');
    h.archive.clock.advance(61 * DAY_IN_MS);
    const id = dispositionInstanceId('tenant-1', 'int-e4');
    await new DurableDispositionClient(h.client).startIfIdle(id, approvalInput('int-e4'));
    await h.engine.runUntilIdle();
    for (let day = 0; day < 3; day += 1) {
      h.archive.clock.advance(DAY_IN_MS);
      await h.engine.runUntilIdle();
    }
    const status = await h.client.getStatus(id);
    expect(status.output).toEqual({ status: 'timedOut' });
    const requests = h.archive.ledger.entries.filter(
      (e) => e.kind === 'dispositionRequested' && e.subjectId === 'int-e4',
    );
    expect(requests.map((e) => e.details.reminder)).toEqual([0, 1, 2]);
    expect(await h.archive.blobs.listRecordingBlobs('tenant-1', 'int-e4')).toHaveLength(4);
  });

  it('does not start a second instance while one is running', async () => {
    await seal(h.archive, 'int-e5', 'user-trader');
    h.archive.clock.advance(61 * DAY_IN_MS);
    const id = dispositionInstanceId('tenant-1', 'int-e5');
    const starter = new DurableDispositionClient(h.client);
    expect(await starter.startIfIdle(id, approvalInput('int-e5'))).toBe('started');
    await h.engine.runUntilIdle();
    expect(await starter.startIfIdle(id, approvalInput('int-e5'))).toBe('alreadyRunning');
  });
});
