/**
 * PCI pause end to end: a recording controller pauses a live call through the function app, the
 * media host stores nothing while paused (the stored stream's timeline skips the span, the
 * blob holds exactly the blocks the manifest lists) and records the gap with the actor and the
 * reason, both requests are in the ledger; a role without the right gets 403 and another
 * tenant's controller cannot reach the call. Real media pacing: the pause is a span of the call.
 * Needs NODE_EXTRA_CA_CERTS=.data/ca/ca-cert.pem.
 */
import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import { OTHER_TENANT, TENANT, USERS } from '../simulator/support/fixtures';
import { startRecorderStackWithMedia, waitFor, type RecorderStack } from './support/recorder-stack';

interface Gap {
  readonly startedAt: string;
  readonly endedAt: string;
  readonly reason: string;
  readonly actor?: string;
}
interface CallView {
  interaction?: {
    interactionId: string;
    outcome: string;
    callState?: string;
    gaps: Gap[];
    manifestBlobName?: string;
  };
  orchestration?: { runtimeStatus: string };
}
interface ManifestStream {
  readonly kind: string;
  readonly blobName: string;
  readonly frameCount: number;
  readonly storedBytes: number;
  readonly timeline?: readonly { mediaInMs: number; timestamp100ns: string }[];
}
interface LedgerView {
  entries: { kind: string; actor: string; subjectId: string; details?: Record<string, unknown> }[];
}

/** Media time not stored between consecutive timeline points, in ms (20 ms frames). */
function skippedSpansInMs(stream: ManifestStream): number[] {
  const points = stream.timeline ?? [];
  return points.slice(1).map((point, i) => {
    const before = points[i]!;
    const platformMs = Number(BigInt(point.timestamp100ns) - BigInt(before.timestamp100ns)) / 1e4;
    return platformMs - (point.mediaInMs - before.mediaInMs);
  });
}

/** The media host's recordings container (a fresh name per test host) that holds `blobName`. */
async function containerHolding(blobName: string): Promise<ContainerClient> {
  const service = BlobServiceClient.fromConnectionString(
    process.env.ATTEST_TEST_STORAGE_CONNECTION!,
  );
  for await (const item of service.listContainers({ prefix: 'rec' })) {
    const container = service.getContainerClient(item.name);
    if (await container.getBlobClient(blobName).exists()) return container;
  }
  throw new Error(`no container holds ${blobName}`);
}

describe('PCI pause through the function app', () => {
  let stack: RecorderStack;
  let adminToken: string;

  beforeAll(async () => {
    ({ stack, adminToken } = await startRecorderStackWithMedia({
      // The other tenant's admins sign in too (a served tenant of the same deployment).
      envFor: (simUrl) => ({
        ATTEST_ADMIN_ISSUERS: `${simUrl}/${TENANT}/v2.0,${simUrl}/${OTHER_TENANT}/v2.0`,
        ATTEST_ADMIN_TENANT_IDS: `${TENANT},${OTHER_TENANT}`,
        ATTEST_ARCHIVE_RBAC_SCOPES: JSON.stringify({
          [USERS.admin]: ['*'],
          [USERS.otherAdmin]: ['*'],
        }),
      }),
    }));
    await stack.control('PATCH', '/_sim/behaviour', { mediaPacing: 'realtime' });
  });
  afterAll(async () => {
    await stack?.close();
  });

  const token = async (tenantId: string, userId: string, roles: string[]): Promise<string> =>
    (
      await stack.control<{ access_token: string }>('POST', '/_sim/users/token', {
        tenantId,
        userId,
        roles,
      })
    ).body.access_token;
  const callView = (callId: string) =>
    stack.api<CallView>('GET', `/api/calls/${encodeURIComponent(callId)}`, { token: adminToken });

  it('stores nothing while paused and records the gap with actor and reason, in the ledger', async () => {
    const controller = await token(TENANT, USERS.admin, ['recordingController']);
    const supervisor = await token(TENANT, USERS.admin, ['supervisor']);
    const otherController = await token(OTHER_TENANT, USERS.otherAdmin, ['recordingController']);
    const started = await stack.control<{ conversationId: string }>('POST', '/_sim/calls', {
      tenantId: TENANT,
      kind: 'p2p',
      durationInMs: 14_000,
      participants: [
        {
          user: USERS.trader,
          role: 'caller',
          timeline: [{ atInMs: 0, action: 'speak', durationInMs: 14_000 }],
        },
        { user: USERS.unrecorded, role: 'callee' },
      ],
    });
    const { conversationId } = started.body;
    const callId = await waitFor(async () => {
      const sim = await stack.control<{ legs: { callId: string; recordingStatus: string }[] }>(
        'GET',
        `/_sim/calls/${conversationId}`,
      );
      const leg = sim.body.legs[0];
      return leg?.recordingStatus === 'recording' ? leg.callId : undefined;
    }, 'recording to start');
    await waitFor(
      async () =>
        (await callView(callId)).body.interaction?.callState === 'established' ? true : undefined,
      'persistence to start',
    );
    const pausePath = `/api/calls/${encodeURIComponent(callId)}/pause`;
    const resumePath = `/api/calls/${encodeURIComponent(callId)}/resume`;

    // Refused: a role without the right (403), another tenant's controller (404: not its call).
    expect(await stack.api('POST', pausePath, { token: supervisor, body: {} })).toMatchObject({
      status: 403,
    });
    expect(
      await stack.api('POST', pausePath, { token: otherController, body: { reason: 'pci' } }),
    ).toMatchObject({ status: 404 });

    const paused = await stack.api<{ state: string; legs: string[] }>('POST', pausePath, {
      token: controller,
      body: { reason: 'pci' },
    });
    expect(paused).toMatchObject({ status: 200, body: { state: 'paused' } });
    // Three seconds of the call go by paused (real-time media: 150 frames).
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(await stack.api('POST', resumePath, { token: controller })).toMatchObject({
      status: 200,
      body: { state: 'recording' },
    });

    const view = await waitFor(
      async () => {
        const v = await callView(callId);
        return v.body.orchestration?.runtimeStatus === 'Completed' ? v.body : undefined;
      },
      'the call to finish',
      60_000,
    );
    const interaction = view.interaction!;
    expect(interaction.outcome).toBe('recordedWithGaps');
    const gap = interaction.gaps.find((g) => g.reason === 'pci');
    expect(gap).toMatchObject({ reason: 'pci', actor: USERS.admin });
    const gapInMs = Date.parse(gap!.endedAt) - Date.parse(gap!.startedAt);
    expect(gapInMs).toBeGreaterThanOrEqual(2_900);

    // The stored audio skips the paused span: nothing was stored for it.
    const container = await containerHolding(interaction.manifestBlobName!);
    const manifest = JSON.parse(
      (await container.getBlobClient(interaction.manifestBlobName!).downloadToBuffer()).toString(
        'utf8',
      ),
    ) as { streams: ManifestStream[]; gaps: Gap[] };
    expect(manifest.gaps).toContainEqual(
      expect.objectContaining({ reason: 'pci', actor: USERS.admin }),
    );
    const audio = manifest.streams.filter((s) => s.kind === 'audio');
    expect(audio.length).toBeGreaterThan(0);
    for (const stream of audio) {
      const skipped = Math.max(0, ...skippedSpansInMs(stream));
      // Frames in flight at either edge may fall on either side of the pause.
      expect(skipped).toBeGreaterThanOrEqual(gapInMs - 1_000);
      // The blob holds exactly the blocks the manifest lists, nothing from the paused span.
      const properties = await container.getBlobClient(stream.blobName).getProperties();
      expect(properties.contentLength).toBe(stream.storedBytes);
    }

    const ledger = await stack.api<LedgerView>('GET', '/api/archive/ledger', {
      token: adminToken,
    });
    const about = ledger.body.entries.filter((e) => e.subjectId === interaction.interactionId);
    expect(about).toContainEqual(
      expect.objectContaining({
        kind: 'recordingPaused',
        actor: USERS.admin,
        details: expect.objectContaining({ reason: 'pci', legs: [interaction.interactionId] }),
      }),
    );
    expect(about).toContainEqual(
      expect.objectContaining({ kind: 'recordingResumed', actor: USERS.admin }),
    );
    expect(about).toContainEqual(
      expect.objectContaining({
        kind: 'accessed',
        details: expect.objectContaining({ action: 'pauseRecording', outcome: 'denied:noRole' }),
      }),
    );
    // Teams was never told anything but `recording` (docs/pci-pause.md).
    const statuses = (
      await stack.control<{ callId: string; operation: string; body: { status: string } }[]>(
        'GET',
        '/_sim/graph-requests',
      )
    ).body
      .filter((r) => r.callId === callId && r.operation === 'updateRecordingStatus')
      .map((r) => r.body.status);
    expect(statuses).toEqual(['recording']);
  });

  it('answers 404 to a pause of a call that is not live and 400 to a malformed reason', async () => {
    const controller = await token(TENANT, USERS.admin, ['recordingController']);
    expect(
      await stack.api('POST', '/api/calls/no-such-call/pause', { token: controller, body: {} }),
    ).toMatchObject({ status: 404 });
    expect(
      await stack.api('POST', '/api/calls/no-such-call/pause', {
        token: controller,
        body: { reason: 'card number 4111' },
      }),
    ).toMatchObject({ status: 400 });
  });
});
