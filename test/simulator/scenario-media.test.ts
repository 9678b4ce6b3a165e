/**
 * A scenario run against the minimal test recorder: invite → answer → established →
 * updateRecordingStatus(recording) → media over the Attest media protocol, with each speaker's
 * audio identifiable by MSI. Needs NODE_EXTRA_CA_CERTS=.data/ca/ca-cert.pem.
 */
import type { MediaProtocolFrame } from '@attest/core';
import { requireLocalCaTrust } from './support/local-ca';
import {
  ManualClock,
  startTeamsSimulator,
  synthesizeAudioFrame,
  type TeamsSimulator,
} from '../../local/src/simulator';
import {
  estimateToneFrequency,
  toneFrequencyForMsi,
} from '../../local/src/simulator/media/synthetic-media';
import { graphSchemaDir } from '../../local/src/simulator/graph/calls-api';
import { GraphSchemaId, SchemaValidator } from '../../local/src/simulator/graph/schema-validator';
import { BOT_APP, BOT_SECRET, TENANT, USERS, testDirectory } from './support/fixtures';
import { startTestMediaListener, type TestMediaListener } from './support/test-media-listener';
import { startTestRecorder, waitUntil, type TestRecorder } from './support/test-recorder';

const silent = (): void => undefined;

interface Outcome {
  state: string;
  endReason: string | null;
  participants: {
    participantId: string;
    userId: string | null;
    audioMsi: number;
    status: string;
    notice: { kind: string } | null;
  }[];
  legs: {
    callId: string;
    state: string;
    outcome: string;
    recordingStatus: string;
    terminatedResult: { code: number; subcode: number } | null;
    media: { audioFrames: number } | null;
  }[];
}

describe('scenario run with media against a minimal recorder', () => {
  let sim: TeamsSimulator;
  let media: TestMediaListener;
  let recorder: TestRecorder;
  const clock = new ManualClock();

  const control = async (method: string, path: string, body?: unknown): Promise<Response> =>
    fetch(`${sim.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${sim.controlToken}`, 'content-type': 'application/json' },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  const outcome = async (id: string): Promise<Outcome> =>
    (await (await control('GET', `/_sim/calls/${id}`)).json()) as Outcome;

  beforeAll(async () => {
    requireLocalCaTrust();
    sim = await startTeamsSimulator({
      clock,
      log: silent,
      behaviour: { mediaPacing: 'fast' },
      directory: testDirectory('http://127.0.0.1:9/unused'),
    });
    media = await startTestMediaListener();
    recorder = await startTestRecorder({
      simulatorUrl: sim.url,
      tenantId: TENANT,
      appId: BOT_APP,
      appSecret: BOT_SECRET,
      mediaEndpoint: media.endpoint,
    });
    sim.setDirectory(testDirectory(recorder.webhookUrl));
  });
  afterAll(async () => {
    await sim.close();
    await recorder.close();
    await media.close();
  });

  it('streams each speaker as its own unmixed buffer, keyed by the roster MSI, after recording is confirmed', async () => {
    const started = await control('POST', '/_sim/calls', {
      kind: 'p2p',
      tenantId: TENANT,
      durationInMs: 2000,
      participants: [
        {
          user: USERS.trader,
          role: 'caller',
          timeline: [{ atInMs: 0, action: 'speak', durationInMs: 1000 }],
        },
        {
          user: USERS.unrecorded,
          role: 'callee',
          timeline: [
            { atInMs: 500, action: 'speak', durationInMs: 1000 },
            { atInMs: 100, action: 'videoOn' },
          ],
        },
      ],
    });
    expect(started.status).toBe(201);
    const { conversationId } = (await started.json()) as { conversationId: string };

    await waitUntil(() => recorder.sessions.size === 1, 'the recorder to answer');
    const [callId, sessionId] = [...recorder.sessions.entries()][0]!;
    await waitUntil(
      () => (media.frames.get(sessionId) ?? []).some((f) => f.type === 'end'),
      'the media stream to end',
    );

    const frames = media.frames.get(sessionId)!;
    expect(media.decodeErrors).toEqual([]);
    expect(frames[0]).toMatchObject({ type: 'hello', token: `token-${sessionId}` });
    const audio = frames.filter(
      (f): f is Extract<MediaProtocolFrame, { type: 'audioUnmixed' }> => f.type === 'audioUnmixed',
    );
    expect(audio).toHaveLength(100); // 2 s of 20 ms frames

    // The MSIs come from the roster the recorder received.
    const roster = recorder.received
      .flatMap((n) => n.body.value ?? [])
      .filter((item) => item.resourceUrl === `/communications/calls/${callId}/participants`)
      .at(-1)?.resourceData as {
      id: string;
      info: { identity: { user?: { id: string } } };
      mediaStreams: { mediaType: string; sourceId: string }[];
    }[];
    const msiOf = (userId: string): number =>
      Number(
        roster
          .find((p) => p.info.identity.user?.id === userId)!
          .mediaStreams.find((s) => s.mediaType === 'audio')!.sourceId,
      );
    const traderMsi = msiOf(USERS.trader);
    const staffMsi = msiOf(USERS.unrecorded);
    expect(traderMsi).not.toBe(staffMsi);

    audio.forEach((frame, k) => {
      const offset = k * 20;
      const expected = [
        ...(offset < 1000 ? [traderMsi] : []),
        ...(offset >= 500 && offset < 1500 ? [staffMsi] : []),
      ];
      expect(frame.buffers.map((b) => b.msi).sort()).toEqual(expected.sort());
      for (const buffer of frame.buffers)
        expect(buffer.payload.equals(synthesizeAudioFrame(buffer.msi, k))).toBe(true);
    });
    const traderOnly = audio[10]!.buffers[0]!;
    expect(
      Math.abs(estimateToneFrequency(traderOnly.payload) - toneFrequencyForMsi(traderMsi)),
    ).toBeLessThan(60);
    expect(frames.some((f) => f.type === 'dominantSpeaker' && f.dominantMsi === traderMsi)).toBe(
      true,
    );
    expect(
      frames.some(
        (f) => f.type === 'video' && f.payload.subarray(0, 4).equals(Buffer.from([0, 0, 0, 1])),
      ),
    ).toBe(true);

    // Sequence numbers run 1, 2, 3, … after hello; timestamps advance 20 ms (200 000 × 100 ns) per audio frame.
    frames.slice(1).forEach((f, i) => expect(f.sequence).toBe(i + 1));
    expect(audio[1]!.timestamp100ns - audio[0]!.timestamp100ns).toBe(200_000n);

    const during = await outcome(conversationId);
    expect(during.legs[0]).toMatchObject({
      callId,
      outcome: 'accepted',
      state: 'established',
      recordingStatus: 'recording',
    });
    expect(during.participants.map((p) => p.notice?.kind)).toEqual(['visual', 'visual']);
    expect(during.participants.find((p) => p.userId === USERS.trader)?.status).toBe('recorded');

    clock.advance(2000);
    const ended = await outcome(conversationId);
    expect(ended).toMatchObject({ state: 'ended', endReason: 'completed' });
    await waitUntil(
      () => recorder.received.some((n) => n.body.value?.[0]?.changeType === 'deleted'),
      'the terminated notification',
    );
    const terminated = recorder.received.find((n) => n.body.value?.[0]?.changeType === 'deleted')!
      .body.value![0]!;
    expect(terminated.resourceData).toMatchObject({
      state: 'terminated',
      resultInfo: { code: 200, subcode: 5001 },
    });
    expect(recorder.graphStatuses).toEqual([
      { op: 'answer', callId, status: 202 },
      { op: 'updateRecordingStatus', callId, status: 200 },
    ]);
  });

  it("resumes after the media connection drops: same token, from the host's next sequence, nothing lost or repeated", async () => {
    media.dropNextConnectionAfterFrames = 30;
    const before = new Set(recorder.sessions.values());
    const conversationId = sim.engine.startCall({
      kind: 'p2p',
      tenantId: TENANT,
      durationInMs: 2000,
      participants: [
        {
          user: USERS.trader,
          role: 'caller',
          timeline: [{ atInMs: 0, action: 'speak', durationInMs: 2000 }],
        },
        { user: USERS.unrecorded, role: 'callee' },
      ],
    });
    await waitUntil(
      () => [...recorder.sessions.values()].some((s) => !before.has(s)),
      'the recorder to answer',
    );
    const sessionId = [...recorder.sessions.values()].find((s) => !before.has(s))!;
    await waitUntil(
      () => (media.frames.get(sessionId) ?? []).some((f) => f.type === 'end'),
      'the media stream to end',
    );

    expect(media.hellos.get(sessionId)).toBe(2);
    expect(new Set(media.tokens.values()).has(`token-${sessionId}`)).toBe(true);
    const sequences = media.frames
      .get(sessionId)!
      .filter((f) => f.type !== 'hello')
      .map((f) => f.sequence);
    expect(sequences).toEqual(sequences.map((_, i) => i + 1));
    const audio = media.frames
      .get(sessionId)!
      .filter(
        (f): f is Extract<MediaProtocolFrame, { type: 'audioUnmixed' }> =>
          f.type === 'audioUnmixed',
      );
    expect(audio).toHaveLength(100);
    audio.forEach((frame, k) =>
      expect(frame.buffers[0]!.payload.equals(synthesizeAudioFrame(frame.buffers[0]!.msi, k))).toBe(
        true,
      ),
    );
    const leg = (
      sim.engine.outcome(conversationId) as { legs: { media: { reconnects: number } }[] }
    ).legs[0]!;
    expect(leg.media.reconnects).toBe(1);
  });

  it("sends notifications that validate against Graph's own schemas", () => {
    const validator = SchemaValidator.fromDirectory(graphSchemaDir());
    const problems: string[] = [];
    for (const received of recorder.received) {
      const envelope = validator.validate(GraphSchemaId.commsNotifications, received.body);
      if (!envelope.valid) problems.push(`envelope: ${JSON.stringify(envelope.errors)}`);
      for (const item of received.body.value ?? []) {
        const data = item.resourceData;
        if (Array.isArray(data)) {
          for (const participant of data) {
            const verdict = validator.validate(GraphSchemaId.participant, participant);
            if (!verdict.valid) problems.push(`participant: ${JSON.stringify(verdict.errors)}`);
          }
        } else if (data?.['@odata.type'] === '#microsoft.graph.call') {
          const verdict = validator.validate(GraphSchemaId.call, data);
          if (!verdict.valid) problems.push(`call: ${JSON.stringify(verdict.errors)}`);
        }
      }
    }
    expect(recorder.received.length).toBeGreaterThan(3);
    expect(problems).toEqual([]);
    // The check has teeth: the same invite with a PascalCase state does not validate.
    const invite = recorder.received.find((r) => r.body.value?.[0]?.changeType === 'created')!.body
      .value![0]!.resourceData as Record<string, unknown>;
    expect(validator.validate(GraphSchemaId.call, { ...invite, state: 'Incoming' }).valid).toBe(
      false,
    );
  });
});
