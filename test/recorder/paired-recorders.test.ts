/**
 * Paired recorders end to end: Teams (the simulator) invites two recorder legs to every call of
 * a recorded user (`ConcurrentInvitationCount = 2`); the function app answers both on different
 * media hosts and both captures build one interaction, whose merged timeline covers the call
 * even when one media host is killed mid-call. Needs NODE_EXTRA_CA_CERTS=.data/ca/ca-cert.pem
 * and a built tree (the media hosts run from media-host/dist in their own processes).
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mediaExtension, type RecordingGap } from '@attest/core';
import { verifyExport } from '../../functions/src/cli/verify-export';
import {
  AUDIO_FRAME_BYTES,
  synthesizeAudioFrame,
} from '../../local/src/simulator/media/synthetic-media';
import { unzipPackage } from '../support/export-download';
import { TENANT, USERS, application } from '../simulator/support/fixtures';
import { waitFor } from './support/recorder-stack';
import { inWindow, pairedCalls, type Interaction, type LegRow } from './support/paired-calls';
import { CONCURRENT_POLICY, startPairedStack, type PairedStack } from './support/paired-stack';

jest.setTimeout(120_000);

describe('paired recorders: two legs, one interaction', () => {
  let paired: PairedStack;
  let calls: ReturnType<typeof pairedCalls>;

  beforeAll(async () => {
    paired = await startPairedStack({ mediaHostCount: 3 });
    calls = pairedCalls(paired);
    // A loaded machine can take minutes to start four processes and an emulator.
  }, 300_000);
  afterAll(async () => {
    await paired?.close();
  });

  /** Exports by call chain as a compliance officer, downloads and unzips the package. */
  const exportedPackage = async (callChainId: string): Promise<string> => {
    const officer = await calls.control<{ access_token: string }>('POST', '/_sim/users/token', {
      tenantId: TENANT,
      userId: USERS.admin,
      roles: ['complianceOfficer'],
    });
    const token = officer.body.access_token;
    const started = await paired.stack.api<{ exportId: string }>('POST', '/api/archive/exports', {
      token,
      body: { query: { callChainId } },
    });
    expect(started.status).toBe(202);
    const { exportId } = started.body;
    await waitFor(async () => {
      const status = await paired.stack.api<{ state: string; error?: string }>(
        'GET',
        `/api/archive/exports/${exportId}`,
        { token },
      );
      if (status.body.state === 'failed') throw new Error(`export failed: ${status.body.error}`);
      return status.body.state === 'completed' ? true : undefined;
    }, 'the export');
    const download = await fetch(
      `${paired.stack.baseUrl}/api/archive/exports/${exportId}/download`,
      { headers: { authorization: `Bearer ${token}` } },
    );
    expect(download.status).toBe(200);
    return unzipPackage(Buffer.from(await download.arrayBuffer()), exportId);
  };

  let firstInteraction: Interaction;

  it('answers both concurrent invites on different media hosts and builds one interaction with two captures', async () => {
    // Long enough for a cold start on a loaded machine (the first answers can take seconds).
    const conversationId = await calls.traderCalls(12_000);

    const legs = await calls.recordingLegs(conversationId, 2);
    const rows = await Promise.all(legs.map((l) => calls.finishedLeg(l.callId)));
    expect((await calls.simOutcome(conversationId)).endReason).toBe('completed');

    firstInteraction = await calls.expectOneRecordedInteraction(rows);
  });

  it('verifies the merged interaction offline, and names the block when one in either capture is flipped', async () => {
    const dir = await exportedPackage(firstInteraction.callChainId);
    const clean = await verifyExport(dir);
    expect(clean.failures).toEqual([]);
    expect(clean.isValid).toBe(true);

    for (const capture of firstInteraction.captures ?? []) {
      const mediaDir = join(dir, 'interactions', TENANT, capture.captureId, 'media');
      const media = join(mediaDir, readdirSync(mediaDir)[0]!);
      const bytes = readFileSync(media);
      const flipped = Buffer.from(bytes);
      flipped[0] = (flipped[0] ?? 0) ^ 0xff;
      writeFileSync(media, flipped);
      const report = await verifyExport(dir);
      expect(report.isValid).toBe(false);
      expect(report.failures).toEqual([
        expect.objectContaining({
          location: expect.stringMatching(
            new RegExp(`^interaction ${TENANT}/${capture.captureId} stream \\S+ block 0$`),
          ),
        }),
      ]);
      writeFileSync(media, bytes);
    }
  });

  it('keeps the interaction free of gaps when a media host is killed mid-call and the paired capture survives', async () => {
    const conversationId = await calls.traderCalls(15_000);
    const legs = await calls.recordingLegs(conversationId, 2);
    const view = await calls.api<{ interaction: LegRow }>(
      'GET',
      `/api/calls/${encodeURIComponent(legs[0]!.callId)}`,
    );
    const other = await calls.api<{ interaction: LegRow }>(
      'GET',
      `/api/calls/${encodeURIComponent(legs[1]!.callId)}`,
    );
    const victim = paired.mediaHosts.find((h) => h.hostId === view.body.interaction.mediaHostId);
    expect(victim).toBeDefined();
    // Killed once its committed media overlaps the other capture's by a second.
    await paired.untilMediaOverlaps(
      TENANT,
      view.body.interaction.interactionId,
      other.body.interaction.interactionId,
    );
    victim!.kill();

    const rows = await Promise.all(legs.map((l) => calls.finishedLeg(l.callId)));
    const lost = rows.find((r) => r.mediaHostId === victim!.hostId)!;
    const survivor = rows.find((r) => r.mediaHostId !== victim!.hostId)!;
    // The lost capture: its committed media adopted by another host and sealed, with the loss
    // as its gap (partial, not failed).
    expect(lost.outcome).toBe('recordedWithGaps');
    expect(lost.outcomeReason).toBe('mediaHostLost');
    expect(inWindow(lost.gaps)).toEqual([expect.objectContaining({ reason: 'mediaHostLost' })]);
    expect(lost.manifestSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(survivor.outcome).toBe('recorded');

    const interaction = await calls.sealedInteraction(lost.pairedInteractionId!);
    expect(interaction.outcome).toBe('recorded');
    expect(inWindow(interaction.gaps)).toEqual([]);
    // Every interval is covered; the survivor covers the call after the kill (the lost capture's
    // adopted media may cover intervals before it).
    expect(interaction.coverage?.every((i) => i.captureId !== undefined)).toBe(true);
    expect(interaction.coverage?.at(-1)?.captureId).toBe(survivor.interactionId);
    expect(interaction.captures).toHaveLength(2);
    // The call itself went on: one recorder was still in it.
    expect(await calls.simOutcome(conversationId)).toMatchObject({
      state: 'ended',
      endReason: 'completed',
    });
  });

  it('records the gap and the policy outcome when a media host is killed mid-call without a paired capture', async () => {
    paired.setPolicy({ applications: [application({ concurrentInvitationCount: 1 })] });
    try {
      // Long: the policy ends the call once the recorder leaves, well before this.
      const conversationId = await calls.traderCalls(30_000);
      const [leg] = await calls.recordingLegs(conversationId, 1);
      const view = await calls.api<{ interaction: LegRow }>(
        'GET',
        `/api/calls/${encodeURIComponent(leg!.callId)}`,
      );
      expect(view.body.interaction.pairedInteractionId).toBeUndefined();
      const victim = paired.mediaHosts.find((h) => h.hostId === view.body.interaction.mediaHostId);
      // Killed once some media is committed and journaled (what another host can adopt).
      await waitFor(
        async () =>
          (await paired.journaledBlocks(TENANT, view.body.interaction.interactionId)) > 0
            ? true
            : undefined,
        'media of the call to be committed',
        30_000,
      );
      const killedAt = new Date().toISOString();
      victim!.kill();
      const row = await calls.finishedLeg(leg!.callId);
      // The media committed before the kill was adopted by another host and sealed: a partial
      // recording, not a failed one.
      expect(row.outcome).toBe('recordedWithGaps');
      expect(row.outcomeReason).toBe('mediaHostLost');
      expect(inWindow(row.gaps)).toEqual([expect.objectContaining({ reason: 'mediaHostLost' })]);
      expect(row.manifestSha256).toMatch(/^[0-9a-f]{64}$/);
      // The policy's answer: the recorder reported `failed` and left; RequiredDuringCall (the
      // default) then removed the recorded user from the call.
      const outcome = await calls.simOutcome(conversationId);
      expect(outcome).toMatchObject({ state: 'ended', endReason: 'droppedByPolicy' });
      expect(outcome.participants.find((p) => p.userId === USERS.trader)?.status).toBe('ejected');

      // `attest verify` passes on the export, and the media is the speakers' frames up to the kill.
      const dir = await exportedPackage(row.callChainId!);
      const report = await verifyExport(dir);
      expect(report.failures).toEqual([]);
      expect(report.isValid).toBe(true);
      const captureDir = join(dir, 'interactions', TENANT, row.interactionId);
      const manifest = JSON.parse(readFileSync(join(captureDir, 'manifest.json'), 'utf8')) as {
        mediaHostId: string;
        adoptedByHostId?: string;
        gaps: RecordingGap[];
        streams: {
          streamId: string;
          msi: string;
          kind: string;
          endedAt: string;
          contentType: string;
        }[];
      };
      expect(manifest.mediaHostId).toBe(victim!.hostId);
      expect(manifest.adoptedByHostId).toBeDefined();
      expect(manifest.adoptedByHostId).not.toBe(victim!.hostId);
      expect(manifest.gaps).toContainEqual(expect.objectContaining({ reason: 'mediaHostLost' }));
      const audio = manifest.streams.filter((s) => s.kind === 'audio');
      expect(audio.length).toBeGreaterThan(0);
      for (const stream of audio) {
        expect(stream.endedAt <= killedAt).toBe(true);
        const file = `${stream.streamId}.${mediaExtension(stream.contentType)}`;
        const pcm = readFileSync(join(captureDir, 'media', file));
        expect(pcm.length).toBeGreaterThanOrEqual(AUDIO_FRAME_BYTES * 25);
        expect(pcm.length % AUDIO_FRAME_BYTES).toBe(0);
        const msi = Number(stream.msi);
        const first = pcm.subarray(0, AUDIO_FRAME_BYTES);
        let k0 = -1;
        for (let k = 0; k < 5_000 && k0 < 0; k += 1)
          if (synthesizeAudioFrame(msi, k).equals(first)) k0 = k;
        expect(k0).toBeGreaterThanOrEqual(0);
        for (let j = 0; j * AUDIO_FRAME_BYTES < pcm.length; j += 1) {
          const frame = pcm.subarray(j * AUDIO_FRAME_BYTES, (j + 1) * AUDIO_FRAME_BYTES);
          if (!frame.equals(synthesizeAudioFrame(msi, k0 + j)))
            throw new Error(`stream ${stream.streamId}: frame ${j} is not the speaker's frame`);
        }
      }
    } finally {
      paired.setPolicy(CONCURRENT_POLICY);
    }
  });
});
