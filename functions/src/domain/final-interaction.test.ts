import type { InteractionRecord } from '@attest/core';
import { finalInteractionRecord } from './final-interaction';

const invited: InteractionRecord = {
  tenantId: 'tenant-a',
  interactionId: 'call-1',
  callId: 'call-1',
  type: 'groupCall',
  direction: 'outbound',
  outcome: 'inProgress',
  invitedAt: '2030-01-01T00:00:00.000Z',
  answeredAt: '2030-01-01T00:00:00.400Z',
  recordedUserIds: ['oid-1'],
  recordingStatusHistory: [],
  gaps: [],
  mediaHostId: 'mh-1',
};

describe('finalInteractionRecord', () => {
  it('completes the invite record with the final patch and leaves out the row-only columns', () => {
    const record = finalInteractionRecord(invited, undefined, {
      outcome: 'recorded',
      endedAt: '2030-01-01T00:01:00.000Z',
      manifestSha256: 'aa',
      callState: 'ended',
      lifecycleVersion: 'callLifecycleV3',
    });
    expect(record).toEqual({
      ...invited,
      outcome: 'recorded',
      endedAt: '2030-01-01T00:01:00.000Z',
      manifestSha256: 'aa',
    });
  });

  it('keeps a field the patch leaves undefined, as the row merge does', () => {
    const withReason = { ...invited, outcomeReason: 'kept' };
    expect(
      finalInteractionRecord(withReason, undefined, {
        outcome: 'recorded',
        outcomeReason: undefined,
      }).outcomeReason,
    ).toBe('kept');
  });

  it('makes the record a meeting with the facts a call update showed', () => {
    const record = finalInteractionRecord(
      invited,
      { meetingId: '19:meeting_q@thread.v2', joinWebUrl: 'https://teams.example/l/q' },
      { outcome: 'recorded' },
    );
    expect(record).toMatchObject({
      type: 'meeting',
      meetingId: '19:meeting_q@thread.v2',
      joinWebUrl: 'https://teams.example/l/q',
    });
  });
});
