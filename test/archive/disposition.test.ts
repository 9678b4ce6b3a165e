import { readFileSync } from 'node:fs';
import path from 'node:path';
import { blockAad, decryptBlock, unwrapDataKey, type WrappedKeyRecord } from '@attest/core';
import type { MemoryRecordingBlobStore } from './support/memory-archive-stores';
import type { DispositionInput } from '../../functions/src/domain/archive-names';
import {
  createHarness,
  DAY_IN_MS,
  kek,
  memoryBlobWriter,
  runDisposition,
  writeSealedRecording,
  type ArchiveHarness,
} from './archive-fixtures';

const T0 = '2030-01-01T00:00:00.000Z';

async function sealed(harness: ArchiveHarness, interactionId: string, userId = 'user-a') {
  const fixture = await writeSealedRecording(
    memoryBlobWriter(harness.blobs as MemoryRecordingBlobStore),
    {
      tenantId: 'tenant-1',
      interactionId,
      recordedUserIds: [userId],
      invitedAt: T0,
    },
  );
  await harness.activities.recordSealed(fixture.interaction);
  return fixture;
}

function input(interactionId: string, mode: 'auto' | 'approval'): DispositionInput {
  return {
    tenantId: 'tenant-1',
    interactionId,
    mode,
    requestedBy: 'system',
    approvalTimeoutInMs: 7 * DAY_IN_MS,
    reminderIntervalInMs: 2 * DAY_IN_MS,
  };
}

const kinds = (harness: ArchiveHarness) => harness.ledger.entries.map((e) => e.kind);

describe('dispositionV1', () => {
  it('deletes at expiry without a hold, keeps a tombstone with the manifest hash and writes one deleted entry', async () => {
    const harness = createHarness(T0);
    const fixture = await sealed(harness, 'int-auto');
    harness.clock.advance(30 * DAY_IN_MS);

    const { result, trace } = await runDisposition(harness, input('int-auto', 'auto'));

    expect(result).toEqual({ status: 'deleted', ledgerSeq: 1 });
    expect(trace).toEqual([
      'activity:archiveCheckDisposition',
      'activity:archiveDisposeInteraction',
    ]);
    const record = await harness.records.get('tenant-1', 'int-auto');
    expect(record).toMatchObject({
      state: 'deleted',
      tombstone: {
        manifestSha256: fixture.interaction.manifestSha256,
        approvedBy: 'system',
        ledgerSeq: 1,
      },
    });
    expect(record!.interaction.recordedUserIds).toEqual([]);
    expect(kinds(harness)).toEqual(['sealed', 'deleted']);
    expect(harness.ledger.entries[1]!.subjectSha256).toBe(fixture.interaction.manifestSha256);
  });

  it('leaves no decryptable media after crypto-shredding', async () => {
    const harness = createHarness(T0);
    const blobs = harness.blobs as MemoryRecordingBlobStore;
    const fixture = await sealed(harness, 'int-shred');
    const wrapped = JSON.parse(
      blobs.keys.get('tenant-1/int-shred.json')!.toString(),
    ) as WrappedKeyRecord;
    const firstBlock = fixture.manifest.streams[0]!.blocks[0]!;
    const storedBefore = blobs.recordings
      .get(fixture.manifest.streams[0]!.blobName)!
      .subarray(firstBlock.storedOffset, firstBlock.storedOffset + firstBlock.storedLength);
    // Sanity: before shredding the stored block decrypts with the archive's key.
    expect(
      decryptBlock(
        unwrapDataKey(kek.privateKey, wrapped),
        blockAad('int-shred', 'audio-11', 0),
        storedBefore,
      ),
    ).toHaveLength(firstBlock.length);
    harness.clock.advance(31 * DAY_IN_MS);

    await runDisposition(harness, input('int-shred', 'auto'));

    expect(await harness.blobs.readWrappedKey('tenant-1', 'int-shred')).toBeUndefined();
    expect(await harness.blobs.listRecordingBlobs('tenant-1', 'int-shred')).toEqual([]);
  });

  it('skips an interaction under a legal hold whatever its expiry, and leaves its media', async () => {
    const harness = createHarness(T0);
    await sealed(harness, 'int-held');
    await harness.activities.placeHold({
      tenantId: 'tenant-1',
      holdId: 'hold-1',
      matterId: 'M-1',
      description: 'd',
      custodian: 'officer-1',
      scope: { interactionIds: ['int-held'] },
      actor: 'officer-1',
    });
    harness.clock.advance(400 * DAY_IN_MS);

    const { result } = await runDisposition(harness, input('int-held', 'auto'));

    expect(result).toEqual({ status: 'skipped', reason: 'legalHold' });
    expect(await harness.blobs.listRecordingBlobs('tenant-1', 'int-held')).toHaveLength(4);
  });

  it('skips before expiry', async () => {
    const harness = createHarness(T0);
    await sealed(harness, 'int-young');
    harness.clock.advance(29 * DAY_IN_MS);
    expect((await runDisposition(harness, input('int-young', 'auto'))).result).toEqual({
      status: 'skipped',
      reason: 'notExpired',
    });
  });

  it('deletes after approval by a second person, ignoring a decision by the requester', async () => {
    const harness = createHarness(T0);
    await sealed(harness, 'int-appr', 'user-trader');
    harness.clock.advance(60 * DAY_IN_MS);

    const { result, trace, canceledTimers } = await runDisposition(
      harness,
      input('int-appr', 'approval'),
      [
        { afterInMs: 1000, payload: { decisionId: 'd-0', decidedBy: 'system', isApproved: true } },
        {
          afterInMs: 3 * DAY_IN_MS,
          payload: { decisionId: 'd-1', decidedBy: 'officer-2', isApproved: true },
        },
      ],
    );

    expect(result).toEqual({ status: 'deleted', ledgerSeq: 3 });
    expect(trace).toEqual([
      'activity:archiveCheckDisposition',
      'activity:archiveRequestDispositionApproval',
      `any:DispositionDecision|timer+${2 * DAY_IN_MS}`,
      `any:DispositionDecision|timer+${2 * DAY_IN_MS - 1000}`,
      'activity:archiveRequestDispositionApproval',
      `any:DispositionDecision|timer+${2 * DAY_IN_MS}`,
      'activity:archiveDisposeInteraction',
    ]);
    expect(canceledTimers).toBe(2);
    expect(harness.ledger.entries[3]).toMatchObject({ kind: 'deleted', actor: 'officer-2' });
  });

  it('keeps the interaction when the approver rejects, and later runs skip it', async () => {
    const harness = createHarness(T0);
    await sealed(harness, 'int-rej', 'user-trader');
    harness.clock.advance(61 * DAY_IN_MS);

    const { result } = await runDisposition(harness, input('int-rej', 'approval'), [
      {
        afterInMs: DAY_IN_MS,
        payload: { decisionId: 'd-1', decidedBy: 'officer-2', isApproved: false },
      },
    ]);

    expect(result).toEqual({ status: 'rejected', decidedBy: 'officer-2' });
    expect((await harness.records.get('tenant-1', 'int-rej'))!.state).toBe('dispositionRejected');
    expect(await harness.blobs.listRecordingBlobs('tenant-1', 'int-rej')).toHaveLength(4);
    expect(kinds(harness)).toEqual(['sealed', 'dispositionRequested', 'dispositionRejected']);
  });

  it('times out with reminders when nobody decides, and deletes nothing', async () => {
    const harness = createHarness(T0);
    await sealed(harness, 'int-late', 'user-trader');
    harness.clock.advance(61 * DAY_IN_MS);

    const { result, trace } = await runDisposition(harness, input('int-late', 'approval'));

    expect(result).toEqual({ status: 'timedOut' });
    // 7 days with a reminder every 2 days: the request, 3 reminders, then the deadline timer.
    expect(trace.filter((t) => t === 'activity:archiveRequestDispositionApproval')).toHaveLength(4);
    expect(trace[trace.length - 1]).toBe('activity:archiveRecordDispositionOutcome');
    expect((await harness.records.get('tenant-1', 'int-late'))!.state).toBe('active');
    expect(await harness.blobs.listRecordingBlobs('tenant-1', 'int-late')).toHaveLength(4);
  });

  it('refuses when a hold appears while the approval is pending', async () => {
    const harness = createHarness(T0);
    await sealed(harness, 'int-race', 'user-trader');
    harness.clock.advance(61 * DAY_IN_MS);
    const activities = harness.activities as {
      requestDispositionApproval: typeof harness.activities.requestDispositionApproval;
    };
    const requestApproval = activities.requestDispositionApproval;
    // The hold is placed while the approval is pending.
    activities.requestDispositionApproval = async (request) => {
      await requestApproval(request);
      await harness.activities.placeHold({
        tenantId: 'tenant-1',
        holdId: 'hold-r',
        matterId: 'M',
        description: 'd',
        custodian: 'c',
        scope: { recordedUserIds: ['user-trader'] },
        actor: 'officer-1',
      });
    };
    const pending = runDisposition(harness, input('int-race', 'approval'), [
      {
        afterInMs: DAY_IN_MS,
        payload: { decisionId: 'd-1', decidedBy: 'officer-2', isApproved: true },
      },
    ]);
    expect((await pending).result).toEqual({ status: 'refused', reason: 'legalHold' });
    expect(await harness.blobs.listRecordingBlobs('tenant-1', 'int-race')).toHaveLength(4);
  });

  it('keeps the golden trace of dispositionV1 (a diff means a new orchestrator version is needed)', async () => {
    const golden = JSON.parse(
      readFileSync(path.join(__dirname, 'fixtures/dispositionV1.trace.json'), 'utf8'),
    ) as Record<string, string[]>;
    const traces: Record<string, string[]> = {};
    const auto = createHarness(T0);
    await sealed(auto, 'int-g1');
    auto.clock.advance(31 * DAY_IN_MS);
    traces.auto = (await runDisposition(auto, input('int-g1', 'auto'))).trace;
    const approved = createHarness(T0);
    await sealed(approved, 'int-g2', 'user-trader');
    approved.clock.advance(61 * DAY_IN_MS);
    traces.approvedAfterReminder = (
      await runDisposition(approved, input('int-g2', 'approval'), [
        {
          afterInMs: 3 * DAY_IN_MS,
          payload: { decisionId: 'd', decidedBy: 'officer-2', isApproved: true },
        },
      ])
    ).trace;
    const late = createHarness(T0);
    await sealed(late, 'int-g3', 'user-trader');
    late.clock.advance(61 * DAY_IN_MS);
    traces.timedOut = (await runDisposition(late, input('int-g3', 'approval'))).trace;
    expect(traces).toEqual(golden);
  });
});
