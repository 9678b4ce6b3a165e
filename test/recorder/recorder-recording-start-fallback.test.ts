/**
 * End to end through the local stack and the real local durable engine: the lifecycle's fallback
 * when the webhook instance that claimed a call leg's recording start died before it reported.
 * The claim such an instance leaves on the interaction row is written by the test while the
 * simulator holds `established`; the lifecycle's wait for the report is short here (2 s).
 * Needs NODE_EXTRA_CA_CERTS=.data/ca/ca-cert.pem.
 */
import { TableClient } from '@azure/data-tables';
import { interactionIdForCall, sanitizeKey } from '@attest/core';
import { TENANT, USERS } from '../simulator/support/fixtures';
import { startRecorderStackWithMedia, waitFor, type RecorderStack } from './support/recorder-stack';

const RECORDING_START_WAIT_IN_MS = 2_000;

interface CallView {
  interaction?: Record<string, unknown> & {
    outcome: string;
    gaps: { reason: string; startedAt: string; endedAt: string }[];
    recordingStatusHistory: { status: string; isConfirmed: boolean }[];
  };
  orchestration?: { runtimeStatus: string };
  streams: { bytes: number }[];
}

describe('recording start fallback end to end', () => {
  let stack: RecorderStack;
  let adminToken: string;

  beforeAll(async () => {
    ({ stack, adminToken } = await startRecorderStackWithMedia({
      env: { ATTEST_RECORDER_RECORDING_START_WAIT_MS: String(RECORDING_START_WAIT_IN_MS) },
    }));
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('sets the recording status from the lifecycle when the claiming instance died', async () => {
    const started = await stack.control<{ conversationId: string }>('POST', '/_sim/calls', {
      tenantId: TENANT,
      kind: 'p2p',
      durationInMs: 8_000,
      // Time to leave the dead instance's claim on the row before `established` arrives.
      delivery: { establishAfterInMs: 2_500 },
      participants: [
        {
          user: USERS.trader,
          role: 'caller',
          timeline: [{ atInMs: 0, action: 'speak', durationInMs: 7_500 }],
        },
        { user: USERS.unrecorded, role: 'callee' },
      ],
    });
    expect(started.status).toBe(201);
    const callId = await waitFor(async () => {
      const call = await stack.control<{ legs: { callId: string }[] }>(
        'GET',
        `/_sim/calls/${started.body.conversationId}`,
      );
      return call.body.legs[0]?.callId;
    }, 'the recorder leg');

    const interactions = TableClient.fromConnectionString(
      process.env.ATTEST_TEST_STORAGE_CONNECTION ?? '',
      'interactions',
      { allowInsecureConnection: true },
    );
    const key = {
      partitionKey: sanitizeKey(TENANT),
      rowKey: sanitizeKey(interactionIdForCall(callId)),
    };
    await waitFor(async () => {
      const row = await interactions
        .getEntity<{ mediaSessionId?: string }>(key.partitionKey, key.rowKey)
        .catch(() => undefined);
      return row?.mediaSessionId;
    }, 'the answered invite');
    // What an instance leaves behind that claimed the recording start and died before Graph.
    await interactions.updateEntity(
      { ...key, recordingStartClaimedAt: new Date().toISOString() },
      'Merge',
    );

    const view = await waitFor(
      async () => {
        const got = await stack.api<CallView>('GET', `/api/calls/${encodeURIComponent(callId)}`, {
          token: adminToken,
        });
        return got.status === 200 && got.body.orchestration?.runtimeStatus === 'Completed'
          ? got.body
          : undefined;
      },
      `call ${callId} to finish`,
      40_000,
    );
    const statusRequests = (
      await stack.control<{ operation: string; callId?: string; status: number }[]>(
        'GET',
        '/_sim/graph-requests',
      )
    ).body.filter((r) => r.callId === callId && r.operation === 'updateRecordingStatus');
    const logged = (message: string): boolean =>
      stack.logs.records.some((r) => {
        const text = JSON.stringify(r);
        return text.includes(callId) && text.includes(message);
      });

    expect(statusRequests.map((r) => r.status)).toEqual([200]);
    expect(logged('recording start left to the lifecycle')).toBe(true);
    expect(
      logged('no recording start report in time; the lifecycle sets the recording status'),
    ).toBe(true);
    expect(view.interaction?.outcome).toBe('recorded');
    expect(view.interaction?.recordingStatusHistory).toEqual([
      expect.objectContaining({ status: 'recording', isConfirmed: true }),
    ]);
    const before = view.interaction?.gaps.find((g) => g.reason === 'beforeRecordingStatus');
    expect(Date.parse(before!.endedAt) - Date.parse(before!.startedAt)).toBeGreaterThanOrEqual(
      RECORDING_START_WAIT_IN_MS,
    );
    expect(view.streams.some((s) => s.bytes > 0)).toBe(true);
  });
});
