/**
 * One playback across captures: a paired call (two recorder legs on two media hosts) whose one
 * media host is killed mid-call plays back as one lane per speaker, continuous across the kill
 * point, each interval from the capture that covers it, and every block served checks against
 * its capture's signed manifest. Needs NODE_EXTRA_CA_CERTS=.data/ca/ca-cert.pem and a built tree
 * (the media hosts run from media-host/dist in their own processes).
 */
import type { PlaybackPlan } from '@attest/core';
import {
  estimateToneFrequency,
  toneFrequencyForMsi,
} from '../../local/src/simulator/media/synthetic-media';
import { TENANT, USERS } from '../simulator/support/fixtures';
import { playLane } from './support/lane-audio';
import { waitFor } from './support/recorder-stack';
import { startPairedStack, type PairedStack } from './support/paired-stack';

interface SimLeg {
  callId: string;
  recordingStatus: string;
}
interface LegRow {
  interactionId: string;
  outcome: string;
  mediaHostId?: string;
  pairedInteractionId?: string;
  manifestSha256?: string;
}

jest.setTimeout(180_000);

describe('playback of a paired call across its captures', () => {
  let paired: PairedStack;

  beforeAll(async () => {
    paired = await startPairedStack({
      mediaHostCount: 3,
      // A loaded machine delays heartbeats by seconds: a host thought stale would take neither
      // leg, and both would go to the other. It delays the control API's answers too: two health
      // checks timed out in a row would mark the survivor lost. A killed host is still found at
      // once (its control API refuses the lifecycle's health checks).
      env: { ATTEST_MEDIA_HOST_STALE_AFTER_MS: '30000', ATTEST_MEDIA_CONTROL_TIMEOUT_MS: '15000' },
    });
  }, 300_000);
  afterAll(async () => {
    await paired?.close();
  });

  const control = <T>(method: string, path: string, body?: unknown) =>
    paired.stack.control<T>(method, path, body);
  const api = <T>(method: string, path: string) =>
    paired.stack.api<T>(method, path, { token: paired.adminToken });

  it('plays each speaker as one continuous lane across a media host killed mid-call, from the capture that covers each interval', async () => {
    // Long enough to outlive the kill and its detection on a loaded machine.
    const started = await control<{ conversationId: string }>('POST', '/_sim/calls', {
      tenantId: TENANT,
      kind: 'p2p',
      durationInMs: 25_000,
      participants: [
        {
          user: USERS.trader,
          role: 'caller',
          timeline: [{ atInMs: 0, action: 'speak', durationInMs: 24_500 }],
        },
        {
          user: USERS.unrecorded,
          role: 'callee',
          timeline: [{ atInMs: 500, action: 'speak', durationInMs: 23_500 }],
        },
      ],
    });
    expect(started.status).toBe(201);
    const { conversationId } = started.body;
    const simLegs = async () =>
      (await control<{ legs: SimLeg[] }>('GET', `/_sim/calls/${conversationId}`)).body.legs;
    const legs = await waitFor(
      async () => {
        const recording = (await simLegs()).filter((l) => l.recordingStatus === 'recording');
        return recording.length >= 2 ? recording : undefined;
      },
      'two recording legs',
      60_000,
    );
    const first = await api<{ interaction: LegRow }>(
      'GET',
      `/api/calls/${encodeURIComponent(legs[0]!.callId)}`,
    );
    const second = await api<{ interaction: LegRow }>(
      'GET',
      `/api/calls/${encodeURIComponent(legs[1]!.callId)}`,
    );
    const victim = paired.mediaHosts.find((h) => h.hostId === first.body.interaction.mediaHostId);
    expect(victim).toBeDefined();
    expect(second.body.interaction.mediaHostId).not.toBe(victim!.hostId);
    // The victim dies once its committed media overlaps the survivor's by a second.
    await paired.untilMediaOverlaps(
      TENANT,
      first.body.interaction.interactionId,
      second.body.interaction.interactionId,
    );
    victim!.kill();
    const killedAt = Date.now();
    // The function app finds the host gone (two missed health checks a second apart) and tells
    // Teams that leg no longer records; the other leg records on to the call's end.
    await waitFor(
      async () =>
        (await simLegs()).some(
          (l) => l.callId === legs[0]!.callId && l.recordingStatus !== 'recording',
        )
          ? true
          : undefined,
      'the lost leg to stop recording',
      60_000,
    );

    const rows = await Promise.all(
      legs.map((l) =>
        waitFor(
          async () => {
            const view = await api<{
              interaction?: LegRow;
              orchestration?: { runtimeStatus: string };
            }>('GET', `/api/calls/${encodeURIComponent(l.callId)}`);
            return view.body.orchestration?.runtimeStatus === 'Completed'
              ? view.body.interaction
              : undefined;
          },
          `call ${l.callId} to finish`,
          90_000,
        ),
      ),
    );
    const survivor = rows.find((r) => r.mediaHostId !== victim!.hostId)!;
    expect(survivor.outcome).toBe('recorded');
    const interactionId = survivor.pairedInteractionId!;

    const officer = await control<{ access_token: string }>('POST', '/_sim/users/token', {
      tenantId: TENANT,
      userId: USERS.admin,
      roles: ['complianceOfficer'],
    });
    const token = officer.body.access_token;
    const get = (path: string) =>
      fetch(`${paired.stack.baseUrl}${path}`, { headers: { authorization: `Bearer ${token}` } });
    const plan = await waitFor(async () => {
      const response = await get(`/api/archive/interactions/${TENANT}/${interactionId}/playback`);
      return response.status === 200 ? ((await response.json()) as PlaybackPlan) : undefined;
    }, 'the sealed interaction and its playback plan');

    expect(plan.kind).toBe('captures');
    expect(plan.captureIds).toContain(survivor.interactionId);
    // One lane per speaker: the trader's and the colleague's audio, whichever capture plays them.
    const audio = plan.lanes.filter((l) => l.kind === 'audio');
    expect(audio).toHaveLength(2);
    for (const lane of audio) {
      // The lane's segments follow each other with no hole in the recorded window.
      // (A lane starts at its first covered interval with media: a capture's first frame comes
      // after the recording start the timeline begins with, by ms on a quiet machine and by up to
      // seconds on a loaded one.)
      expect(Date.parse(lane.segments[0]!.startedAt) - Date.parse(plan.startedAt!)).toBeLessThan(
        3000,
      );
      // It ends in the survivor's media, which outlives the kill. (The recorded window can run
      // on past the last media: a capture ends when its lifecycle has sealed it, seconds after
      // the call on a loaded machine, and the plan plays no media where there is none.)
      const last = lane.segments[lane.segments.length - 1]!;
      expect(last.captureId).toBe(survivor.interactionId);
      expect(Date.parse(last.endedAt)).toBeGreaterThan(killedAt + 2000);
      expect(Date.parse(last.endedAt)).toBeLessThanOrEqual(Date.parse(plan.endedAt!));
      const holes = lane.segments.flatMap((segment, i) =>
        i > 0 && segment.startedAt !== lane.segments[i - 1]!.endedAt
          ? [{ from: lane.segments[i - 1]!.endedAt, to: segment.startedAt }]
          : [],
      );
      // On failure the lane's segments show where the hole is and which captures meet at it.
      expect({ lane: lane.laneId, holes, segments: lane.segments }).toEqual({
        lane: lane.laneId,
        holes: [],
        segments: lane.segments,
      });
    }

    for (const lane of audio) {
      const played = await playLane(plan, lane, get);
      expect(played.blocksVerified).toBeGreaterThan(0);
      // Nothing the dead host could have recorded plays after it died.
      expect(played.captureAt(killedAt + 1000)).toBe(survivor.interactionId);
      // Every 100 ms from the second after the lane began to three seconds after the kill:
      // the speaker's own tone, whichever capture plays it.
      const expected = toneFrequencyForMsi(Number(lane.msi));
      const from = Date.parse(lane.segments[0]!.startedAt) + 1000;
      const laneEnd = Date.parse(lane.segments[lane.segments.length - 1]!.endedAt);
      const to = Math.min(laneEnd - 500, killedAt + 3000);
      expect(from).toBeLessThan(killedAt - 500);
      const heard: { atInMs: number; frequency?: number }[] = [];
      for (let at = from; at + 100 <= to; at += 100) {
        const pcm = played.pcmAt(at, 100);
        heard.push({
          atInMs: at - killedAt,
          ...(pcm === undefined ? {} : { frequency: Math.round(estimateToneFrequency(pcm)) }),
        });
      }
      const wrong = heard.filter(
        (h) => h.frequency === undefined || Math.abs(h.frequency - expected) > expected * 0.1,
      );
      // On failure: where the lane is silent or off-tone, and which capture plays there.
      expect({ lane: lane.laneId, expected, wrong, segments: lane.segments }).toEqual({
        lane: lane.laneId,
        expected,
        wrong: [],
        segments: lane.segments,
      });
      expect(heard.some((h) => h.atInMs < -500)).toBe(true);
      expect(heard.some((h) => h.atInMs > 1500)).toBe(true);
    }
  });
});
