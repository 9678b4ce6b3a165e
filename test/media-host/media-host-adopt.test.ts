/**
 * Adopting a lost host's session: a media host is killed (SIGKILL) mid-call and never comes
 * back; another host, with its own spool, seals what the first committed, from storage alone
 * (`POST /v1/sessions/{id}/adopt`): the committed frames byte for byte, the lost span a
 * `mediaHostLost` gap, a manifest signed with the deployment's key that verifies.
 */
import { createPrivateKey, createPublicKey, randomUUID } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import {
  blockAad,
  decryptBlock,
  recordingBlobNames,
  unwrapDataKey,
  verifyManifest,
  wrappedKeyBlobName,
  type RecordingManifest,
  type SealSummary,
  type WrappedKeyRecord,
} from '@attest/core';
import { getFreePort } from '../../local/src/azurite/azurite-process';
import { foldCheckpoints } from '../../media-host/src/session/checkpoint-log';
import { parseJournal } from '../../media-host/src/session/session-journal';
import {
  control,
  downloadBlob,
  hostFiles,
  MediaTestClient,
  pcmFrame,
  startMediaHostChild,
  STEP,
  TEST_CONNECTION,
  TS0,
  type HostFiles,
  type MediaHostChild,
  persistedSession,
} from './media-host-fixtures';

async function waitUntil(condition: () => Promise<boolean>, timeoutInMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutInMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const TENANT = 'tenant-adopt';
const INTERACTION = 'int-adopt';
const CALL = 'call-adopt';

describe('media host: adopting a lost host session', () => {
  let lostFiles: HostFiles;
  let adopterFiles: HostFiles;
  let lost: MediaHostChild | undefined;
  let adopter: MediaHostChild | undefined;

  beforeAll(async () => {
    lostFiles = hostFiles(TEST_CONNECTION, {
      hostId: 'mh-lost',
      controlPort: await getFreePort(),
      protocolPort: await getFreePort(),
    });
    // Its own spool; the deployment's container, manifest key and key-encryption key.
    adopterFiles = hostFiles(TEST_CONNECTION, {
      hostId: 'mh-adopter',
      recordingsContainer: lostFiles.config.recordingsContainer,
      signingKeyFile: lostFiles.config.signingKeyFile,
      kekPublicKeyFile: lostFiles.config.kekPublicKeyFile,
    });
  });

  afterAll(() => {
    lost?.process.kill('SIGKILL');
    adopter?.process.kill('SIGKILL');
    rmSync(lostFiles.dir, { recursive: true, force: true });
    rmSync(adopterFiles.dir, { recursive: true, force: true });
  });

  it('seals the killed host committed media with the lost span as a gap, verifiable', async () => {
    lost = await startMediaHostChild(lostFiles);
    const created = await persistedSession(lost.controlUrl, {
      callId: CALL,
      tenantId: TENANT,
      interactionId: INTERACTION,
    });
    await control(lost.controlUrl, 'PUT', `/v1/sessions/${created.sessionId}/participants`, {
      participants: [
        {
          msi: '11',
          participantId: 'p-11',
          kind: 'audio',
          identityKind: 'user',
          pii: { displayName: 'A' },
        },
      ],
    });
    const speakersOf = (n: number) => [11, 12].map((msi) => ({ msi, payload: pcmFrame(msi, n) }));
    const client = await MediaTestClient.connect(created.mediaConfigBlob);
    await client.until(() => client.acks.length > 0);
    for (let n = 1; n <= 200; n += 1) client.unmixed(n, TS0 + BigInt(n) * STEP, speakersOf(n));
    await client.until(() => (client.lastAck?.ackedSequence ?? 0) >= 200);
    const container = lostFiles.config.recordingsContainer;
    const journalName = recordingBlobNames(TENANT, INTERACTION).sessionJournal(created.sessionId);
    // Wait until commits of those frames are journaled, then kill the host for good.
    await waitUntil(async () => {
      const journal = await downloadBlob(container, journalName).catch(() => undefined);
      if (journal === undefined) return false;
      const folded = foldCheckpoints([], parseJournal(journal).checkpoints);
      return folded.streams.reduce((sum, s) => sum + s.blocks.length, 0) >= 4;
    });
    lost.process.kill('SIGKILL');
    await client.waitClosed();
    const lostUntil = new Date().toISOString();

    adopter = await startMediaHostChild(adopterFiles);
    const adopt = (body: unknown) =>
      control<SealSummary>(
        adopter!.controlUrl,
        'POST',
        `/v1/sessions/${created.sessionId}/adopt`,
        body,
      );
    const request = { tenantId: TENANT, interactionId: INTERACTION, callId: CALL, lostUntil };
    const sealed = await adopt(request);
    expect(sealed.status).toBe(200);
    expect(sealed.body.streams.map((s) => s.msi).sort()).toEqual(['11', '12']);
    expect(sealed.body.gaps).toEqual([
      expect.objectContaining({ reason: 'mediaHostLost', endedAt: lostUntil }),
    ]);

    const manifestBytes = await downloadBlob(container, sealed.body.manifestBlobName);
    const manifest = JSON.parse(manifestBytes.toString()) as RecordingManifest;
    expect(manifest.mediaHostId).toBe('mh-lost');
    expect(manifest.adoptedByHostId).toBe('mh-adopter');
    expect(manifest.participants).toEqual([
      expect.objectContaining({ participantId: 'p-11', msis: ['11'] }),
    ]);
    // The gap starts where the committed media ends.
    const lastMediaAt = manifest.streams
      .map((s) => s.endedAt)
      .sort()
      .at(-1);
    expect(manifest.gaps[0]?.startedAt).toBe(lastMediaAt);

    const keyRecord = JSON.parse(
      (await downloadBlob('recordingkeys', wrappedKeyBlobName(TENANT, INTERACTION))).toString(),
    ) as WrappedKeyRecord;
    const dataKey = unwrapDataKey(createPrivateKey(lostFiles.kekPrivateKeyPem), keyRecord);
    const blobs = new Map<string, Buffer>();
    for (const s of manifest.streams)
      blobs.set(s.blobName, await downloadBlob(container, s.blobName));
    for (const stream of manifest.streams) {
      const plaintext = Buffer.concat(
        stream.blocks.map((b) =>
          decryptBlock(
            dataKey,
            blockAad(manifest.interactionId, stream.streamId, b.index),
            blobs.get(stream.blobName)!.subarray(b.storedOffset, b.storedOffset + b.storedLength),
          ),
        ),
      );
      // Exactly the speaker's frames from the first, up to the last committed one.
      const frames = plaintext.length / pcmFrame(11, 1).length;
      expect(Number.isInteger(frames)).toBe(true);
      expect(frames).toBeGreaterThan(0);
      const expected = Buffer.concat(
        Array.from({ length: frames }, (_, i) => pcmFrame(Number(stream.msi), i + 1)),
      );
      expect(plaintext.equals(expected)).toBe(true);
      // The blob holds exactly the listed blocks (any later commit was cut back).
      expect(blobs.get(stream.blobName)!.length).toBe(stream.storedBytes);
    }
    const verification = await verifyManifest(
      manifestBytes,
      await downloadBlob(container, recordingBlobNames(TENANT, INTERACTION).signature),
      createPublicKey(readFileSync(`${lostFiles.config.signingKeyFile}.pub`)),
      {
        readStoredBlock: (s, b) =>
          Promise.resolve(
            blobs.get(s.blobName)?.subarray(b.storedOffset, b.storedOffset + b.storedLength),
          ),
      },
    );
    expect(verification.isValid).toBe(true);

    // Asked again (an activity retried): the same seal, not a second manifest.
    const again = await adopt(request);
    expect(again.status).toBe(200);
    expect(again.body.manifestSha256).toBe(sealed.body.manifestSha256);
  });

  it('answers 404 for a session that left no journal and 400 for a bad request', async () => {
    adopter ??= await startMediaHostChild(adopterFiles);
    const url = adopter.controlUrl;
    const none = await control(url, 'POST', `/v1/sessions/${randomUUID()}/adopt`, {
      tenantId: TENANT,
      interactionId: 'int-never',
      callId: 'call-never',
    });
    expect(none.status).toBe(404);
    const bad = await control(url, 'POST', `/v1/sessions/${randomUUID()}/adopt`, {
      tenantId: '../x',
      interactionId: INTERACTION,
      callId: CALL,
    });
    expect(bad.status).toBe(400);
    const noKey = await control(url, 'POST', `/v1/sessions/${randomUUID()}/adopt`, {}, null);
    expect(noKey.status).toBe(401);
  });
});
