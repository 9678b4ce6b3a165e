import { ErrorCode } from '@attest/core';
import type { MemoryRecordingBlobStore } from './support/memory-archive-stores';
import type { DispositionInput } from '../../functions/src/domain/archive-names';
import {
  createRetentionSweep,
  type DispositionStarter,
} from '../../functions/src/timers/retention-sweep.timer';
import {
  createHarness,
  DAY_IN_MS,
  memoryBlobWriter,
  runDisposition,
  writeSealedRecording,
  type ArchiveHarness,
} from './archive-fixtures';

const T0 = '2030-01-01T00:00:00.000Z';

/** Starts dispositions by running them to completion with the scripted driver. */
class RunningStarter implements DispositionStarter {
  readonly started: string[] = [];
  readonly running = new Set<string>();
  constructor(private readonly harness: ArchiveHarness) {}
  async startIfIdle(
    instanceId: string,
    input: DispositionInput,
  ): Promise<'started' | 'alreadyRunning'> {
    if (this.running.has(instanceId)) return 'alreadyRunning';
    this.started.push(input.interactionId);
    await runDisposition(this.harness, input);
    return 'started';
  }
}

async function seal(
  harness: ArchiveHarness,
  interactionId: string,
  invitedAt: string,
  userId = 'user-a',
) {
  const fixture = await writeSealedRecording(
    memoryBlobWriter(harness.blobs as MemoryRecordingBlobStore),
    { tenantId: 'tenant-1', interactionId, recordedUserIds: [userId], invitedAt },
  );
  await harness.activities.recordSealed(fixture.interaction);
}

function sweep(harness: ArchiveHarness, starter: DispositionStarter) {
  return createRetentionSweep({
    records: harness.records,
    holds: harness.holds,
    starter,
    clock: harness.clock,
    settings: { approvalTimeoutInMs: DAY_IN_MS, reminderIntervalInMs: DAY_IN_MS },
  });
}

describe('retention sweep', () => {
  it('catches up interactions that expired on days the job did not run', async () => {
    const harness = createHarness(T0);
    await seal(harness, 'int-day1', '2030-01-01T00:00:00.000Z');
    await seal(harness, 'int-day2', '2030-01-02T00:00:00.000Z');
    await seal(harness, 'int-day3', '2030-01-03T00:00:00.000Z');
    await seal(harness, 'int-later', '2030-01-20T00:00:00.000Z');
    const starter = new RunningStarter(harness);
    // Expiries fall on 31 Jan, 1 Feb and 2 Feb; the first run after them is on 5 Feb.
    harness.clock.set(Date.parse('2030-02-05T02:00:00.000Z'));

    const summary = await sweep(harness, starter)();

    expect(summary).toEqual({ expired: 3, started: 3, alreadyRunning: 0, held: 0 });
    expect(starter.started.sort()).toEqual(['int-day1', 'int-day2', 'int-day3']);
    expect((await harness.records.get('tenant-1', 'int-later'))!.state).toBe('active');
    expect((await harness.records.get('tenant-1', 'int-day2'))!.state).toBe('deleted');
  });

  it('does not start a disposition for a held interaction, then deletes it at the next run after release', async () => {
    const harness = createHarness(T0);
    await seal(harness, 'int-h', T0);
    await harness.activities.placeHold({
      tenantId: 'tenant-1',
      holdId: 'hold-1',
      matterId: 'M-1',
      description: 'd',
      custodian: 'c',
      scope: { recordedUserIds: ['user-a'] },
      actor: 'officer-1',
    });
    const starter = new RunningStarter(harness);
    harness.clock.set(Date.parse('2030-03-01T00:00:00.000Z'));

    expect(await sweep(harness, starter)()).toEqual({
      expired: 1,
      started: 0,
      alreadyRunning: 0,
      held: 1,
    });
    expect(await harness.blobs.listRecordingBlobs('tenant-1', 'int-h')).toHaveLength(4);

    await harness.activities.releaseHold({
      tenantId: 'tenant-1',
      holdId: 'hold-1',
      actor: 'officer-2',
    });
    harness.clock.advance(DAY_IN_MS);
    expect(await sweep(harness, starter)()).toEqual({
      expired: 1,
      started: 1,
      alreadyRunning: 0,
      held: 0,
    });
    expect(await harness.blobs.listRecordingBlobs('tenant-1', 'int-h')).toEqual([]);
    expect(harness.ledger.entries.map((e) => e.kind)).toEqual([
      'sealed',
      'held',
      'released',
      'deleted',
    ]);
  });

  it('leaves a running disposition alone', async () => {
    const harness = createHarness(T0);
    await seal(harness, 'int-r', T0);
    const starter = new RunningStarter(harness);
    starter.running.add('disp-tenant-1-int-r');
    harness.clock.set(Date.parse('2030-03-01T00:00:00.000Z'));
    expect(await sweep(harness, starter)()).toEqual({
      expired: 1,
      started: 0,
      alreadyRunning: 1,
      held: 0,
    });
  });

  it('refuses a second seal with another manifest (no overwrite of sealed data)', async () => {
    const harness = createHarness(T0);
    const fixture = await writeSealedRecording(
      memoryBlobWriter(harness.blobs as MemoryRecordingBlobStore),
      { tenantId: 'tenant-1', interactionId: 'int-o', recordedUserIds: ['u'], invitedAt: T0 },
    );
    await harness.activities.recordSealed(fixture.interaction);
    await harness.activities.recordSealed(fixture.interaction);
    await expect(
      harness.activities.recordSealed({ ...fixture.interaction, manifestSha256: 'f'.repeat(64) }),
    ).rejects.toThrow(ErrorCode.IntegrityViolation);
    expect(harness.ledger.entries).toHaveLength(1);
  });

  it('refuses a direct shred before expiry and under hold', async () => {
    const harness = createHarness(T0);
    await seal(harness, 'int-d', T0);
    const record = (await harness.records.get('tenant-1', 'int-d'))!;
    await expect(harness.media.shred(record)).rejects.toThrow(ErrorCode.RetentionLocked);
    await harness.activities.placeHold({
      tenantId: 'tenant-1',
      holdId: 'h',
      matterId: 'M',
      description: 'd',
      custodian: 'c',
      scope: { interactionIds: ['int-d'] },
      actor: 'o',
    });
    harness.clock.advance(100 * DAY_IN_MS);
    await expect(harness.media.shred(record)).rejects.toThrow(ErrorCode.LegalHold);
    expect(await harness.blobs.listRecordingBlobs('tenant-1', 'int-d')).toHaveLength(4);
  });
});
