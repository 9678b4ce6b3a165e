/**
 * Shared fixtures of the archive tests: a manual clock, a sealed interaction with encrypted media
 * in a blob store, the archive activities over in-memory stores, and a scripted driver for
 * `dispositionV1` (a fake orchestration context with virtual time).
 */
import { ManualClock } from '@attest/core/testing';
import { createHash, generateKeyPairSync, type KeyObject } from 'node:crypto';

const sha256Hex = (data: Buffer): string => createHash('sha256').update(data).digest('hex');
import type { OrchestrationContext } from 'durable-functions';
import {
  blockAad,
  blockIdFor,
  chainGenesis,
  chainNext,
  createDataKey,
  encryptBlock,
  serializeManifest,
  signManifest,
  signingKeyId,
  streamsMerkleRoot,
  wrapDataKey,
  type InteractionRecord,
  type ManifestBlock,
  type ManifestStream,
  type RecordingManifest,
  type RetentionPolicy,
  type SigningKeyLike,
} from '@attest/core';
import {
  createArchiveService,
  type ArchiveService,
} from '../../functions/src/archive/archive.service';
import { GuardedMediaStore } from '../../functions/src/adapters/guarded-archive-media';
import {
  createManifestIntegrity,
  type IntegrityAlertEvent,
  type ManifestIntegrity,
} from '../../functions/src/archive/manifest-integrity';
import {
  MemoryArchiveRecordStore,
  MemoryHoldStore,
  MemoryPartyIndex,
  MemoryLedgerStore,
  MemoryRecordingBlobStore,
} from './support/memory-archive-stores';
import type { GroupDirectory, RecordingBlobStore } from '../../functions/src/domain/archive-ports';
import { dispositionOrchestrator } from '../../functions/src/orchestrators/disposition.orchestrator';
import type {
  DispositionDecision,
  DispositionInput,
  DispositionResult,
} from '../../functions/src/domain/archive-names';

export const DAY_IN_MS = 86_400_000;

export { ManualClock };

export const testPolicy: RetentionPolicy = {
  defaultClassName: 'standard',
  classes: [
    { name: 'standard', periodInDays: 30, dispositionMode: 'auto' },
    {
      name: 'mifid',
      periodInDays: 60,
      dispositionMode: 'approval',
      legalBasis: 'MiFID II Art. 16(7)',
    },
  ],
  rules: [{ className: 'mifid', groupIds: ['traders'] }],
};

export const groupDirectory: GroupDirectory = {
  groupsOf: (userIds) => Promise.resolve(userIds.includes('user-trader') ? ['traders'] : ['staff']),
};

export const kek = generateKeyPairSync('rsa', { modulusLength: 2048 });
export const manifestKeys = generateKeyPairSync('ed25519');
export const ledgerKeys = generateKeyPairSync('ed25519');

export interface SealedFixture {
  readonly interaction: InteractionRecord;
  readonly manifest: RecordingManifest;
  readonly manifestBytes: Buffer;
  readonly plaintext: Map<string, Buffer>;
}

/** Writes an encrypted two-stream recording (blocks, manifest, signature, wrapped key) to `blobs`. */
export async function writeSealedRecording(
  blobs: {
    putRecording(name: string, data: Buffer): Promise<void>;
    putKey(name: string, data: Buffer): Promise<void>;
  },
  options: {
    tenantId: string;
    interactionId: string;
    recordedUserIds: string[];
    invitedAt: string;
    type?: InteractionRecord['type'];
    callChainId?: string;
  },
): Promise<SealedFixture> {
  const { tenantId, interactionId } = options;
  const dataKey = createDataKey();
  const streams: ManifestStream[] = [];
  const plaintext = new Map<string, Buffer>();
  for (const [n, streamId] of ['audio-11', 'video-12'].entries()) {
    let chain = chainGenesis(interactionId, streamId);
    const blocks: ManifestBlock[] = [];
    const stored: Buffer[] = [];
    const plain: Buffer[] = [];
    let offset = 0;
    let storedOffset = 0;
    for (let index = 0; index < 3; index += 1) {
      const block = Buffer.alloc(200 + index * 10, (n * 40 + index + 1) & 0xff);
      const sealed = encryptBlock(dataKey, blockAad(interactionId, streamId, index), block);
      const sha = sha256Hex(block);
      const storedSha = sha256Hex(sealed);
      chain = chainNext(chain, sha, storedSha);
      blocks.push({
        index,
        blockId: blockIdFor(index),
        offset,
        length: block.length,
        sha256: sha,
        storedOffset,
        storedLength: sealed.length,
        storedSha256: storedSha,
        chainSha256: chain,
      });
      offset += block.length;
      storedOffset += sealed.length;
      stored.push(sealed);
      plain.push(block);
    }
    const blobName = `${tenantId}/${interactionId}/streams/${streamId}.bin`;
    await blobs.putRecording(blobName, Buffer.concat(stored));
    plaintext.set(streamId, Buffer.concat(plain));
    streams.push({
      streamId,
      kind: n === 0 ? 'audio' : 'video',
      msi: String(11 + n),
      blobName,
      contentType: 'application/octet-stream',
      firstTimestamp100ns: '0',
      lastTimestamp100ns: '10000000',
      startedAt: options.invitedAt,
      endedAt: options.invitedAt,
      durationInMs: 1000,
      frameCount: 3,
      plaintextBytes: offset,
      storedBytes: storedOffset,
      blocks,
      chainHeadSha256: chain,
    });
  }
  const keyBlobName = `${tenantId}/${interactionId}.json`;
  await blobs.putKey(
    keyBlobName,
    Buffer.from(
      JSON.stringify(wrapDataKey(kek.publicKey, 'kek-test', dataKey, new Date(options.invitedAt))),
    ),
  );
  const manifest: RecordingManifest = {
    formatVersion: 1,
    tenantId,
    interactionId,
    callId: interactionId,
    ...(options.callChainId === undefined ? {} : { callChainId: options.callChainId }),
    sessionId: `session-${interactionId}`,
    mediaHostId: 'mh-1',
    softwareVersion: '0.1.0',
    signingKeyId: signingKeyId(manifestKeys.publicKey),
    encryption: { alg: 'A256GCM', kekId: 'kek-test', wrappedKeyBlobName: keyBlobName },
    startedAt: options.invitedAt,
    endedAt: options.invitedAt,
    sealedAt: options.invitedAt,
    participants: [
      {
        participantId: 'p1',
        identityKind: 'user',
        identityId: options.recordedUserIds[0],
        msis: ['11', '12'],
      },
    ],
    streams,
    gaps: [],
    merkleRootSha256: streamsMerkleRoot(streams),
  };
  const manifestBytes = serializeManifest(manifest);
  await blobs.putRecording(`${tenantId}/${interactionId}/manifest.json`, manifestBytes);
  await blobs.putRecording(
    `${tenantId}/${interactionId}/manifest.sig`,
    Buffer.from(
      JSON.stringify(signManifest(manifestBytes, manifestKeys.privateKey, manifest.signingKeyId)),
    ),
  );
  const interaction: InteractionRecord = {
    tenantId,
    interactionId,
    callId: interactionId,
    ...(options.callChainId === undefined ? {} : { callChainId: options.callChainId }),
    type: options.type ?? 'p2p',
    direction: 'inbound',
    outcome: 'recorded',
    invitedAt: options.invitedAt,
    answeredAt: options.invitedAt,
    endedAt: options.invitedAt,
    sealedAt: options.invitedAt,
    recordedUserIds: options.recordedUserIds,
    recordingStatusHistory: [],
    gaps: [],
    manifestBlobName: `${tenantId}/${interactionId}/manifest.json`,
    manifestSha256: sha256Hex(manifestBytes),
  };
  return { interaction, manifest, manifestBytes, plaintext };
}

export function memoryBlobWriter(store: MemoryRecordingBlobStore) {
  return {
    putRecording: (name: string, data: Buffer) =>
      Promise.resolve(void store.recordings.set(name, data)),
    putKey: (name: string, data: Buffer) => Promise.resolve(void store.keys.set(name, data)),
  };
}

export interface ArchiveHarness {
  readonly clock: ManualClock;
  readonly records: MemoryArchiveRecordStore;
  readonly holds: MemoryHoldStore;
  readonly ledger: MemoryLedgerStore;
  readonly blobs: RecordingBlobStore;
  readonly media: GuardedMediaStore;
  readonly activities: ArchiveService;
  readonly parties: MemoryPartyIndex;
  /** Manifest checks with the test keys; each alert lands in {@link alerts}. */
  readonly integrity: ManifestIntegrity;
  readonly alerts: IntegrityAlertEvent[];
}

/** The keys a harness verifies manifests with; default the test keys of this file. */
export interface HarnessKeys {
  readonly manifestPublicKeyPem: string | (() => Promise<string>) | undefined;
  readonly ledgerSigningKey: SigningKeyLike;
}

export function createHarness(
  startAt: string,
  blobs: RecordingBlobStore = new MemoryRecordingBlobStore(),
  keys: HarnessKeys = {
    manifestPublicKeyPem: manifestKeys.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    ledgerSigningKey: ledgerKeys.privateKey,
  },
): ArchiveHarness {
  const clock = new ManualClock(Date.parse(startAt));
  const records = new MemoryArchiveRecordStore();
  const holds = new MemoryHoldStore();
  const ledger = new MemoryLedgerStore(clock);
  const media = new GuardedMediaStore(blobs, holds, clock);
  const parties = new MemoryPartyIndex();
  const alerts: IntegrityAlertEvent[] = [];
  const integrity = createManifestIntegrity({
    blobs,
    records,
    ...keys,
    clock,
    onAlert: (event) => alerts.push(event),
  });
  const activities = createArchiveService({
    parties,
    records,
    holds,
    ledger,
    blobs,
    media,
    groups: groupDirectory,
    policy: testPolicy,
    clock,
    integrity,
  });
  return {
    clock,
    records,
    holds,
    ledger,
    blobs,
    media,
    activities,
    parties,
    integrity,
    alerts,
  };
}

export interface ScriptedEvent {
  /** Offset from the orchestration start. */
  readonly afterInMs: number;
  readonly payload: DispositionDecision;
}

interface FakeTask {
  kind: 'activity' | 'timer' | 'event' | 'any';
  name?: string;
  input?: unknown;
  fireAt?: Date;
  tasks?: FakeTask[];
  result?: unknown;
  isCanceled?: boolean;
  cancel?: () => void;
}

/**
 * Runs `dispositionV1` to completion: activities run for real against the harness, timers fire in
 * virtual time (the harness clock follows), scripted events arrive at their offsets. Returns the
 * result and the trace of every yielded step (the golden trace).
 */
export async function runDisposition(
  harness: ArchiveHarness,
  input: DispositionInput,
  events: readonly ScriptedEvent[] = [],
): Promise<{ result: DispositionResult; trace: string[]; canceledTimers: number }> {
  const startedAt = harness.clock.now().getTime();
  let current = new Date(startedAt);
  const pending = [...events].sort((a, b) => a.afterInMs - b.afterInMs);
  const trace: string[] = [];
  let canceledTimers = 0;
  const df = {
    instanceId: `disp-${input.interactionId}`,
    isReplaying: false,
    get currentUtcDateTime() {
      return current;
    },
    getInput: () => input,
    callActivity: (name: string, payload?: unknown): FakeTask => ({
      kind: 'activity',
      name,
      input: payload,
    }),
    createTimer: (fireAt: Date): FakeTask => {
      const task: FakeTask = { kind: 'timer', fireAt };
      task.cancel = () => {
        task.isCanceled = true;
        canceledTimers += 1;
      };
      return task;
    },
    waitForExternalEvent: (name: string): FakeTask => ({ kind: 'event', name }),
    Task: { any: (tasks: FakeTask[]): FakeTask => ({ kind: 'any', tasks }) },
  };
  const context = {
    df,
    log: () => undefined,
    info: () => undefined,
    warn: () => undefined,
    error: () => undefined,
  } as unknown as OrchestrationContext;
  const run = dispositionOrchestrator(context) as Generator<FakeTask, DispositionResult, unknown>;
  const activities = harness.activities as unknown as Record<
    string,
    (payload: unknown) => Promise<unknown>
  >;
  const activityByName: Record<string, string> = {
    archiveCheckDisposition: 'checkDisposition',
    archiveRequestDispositionApproval: 'requestDispositionApproval',
    archiveRecordDispositionOutcome: 'recordDispositionOutcome',
    archiveDisposeInteraction: 'disposeInteraction',
  };
  let step = run.next();
  while (step.done !== true) {
    const task = step.value;
    if (task.kind === 'activity') {
      trace.push(`activity:${task.name}`);
      const method = activities[activityByName[task.name!]!]!;
      step = run.next(await method(task.input));
    } else if (task.kind === 'any') {
      const event = task.tasks!.find((t) => t.kind === 'event')!;
      const timer = task.tasks!.find((t) => t.kind === 'timer')!;
      trace.push(`any:${event.name}|timer+${timer.fireAt!.getTime() - current.getTime()}`);
      const next = pending[0];
      if (next !== undefined && startedAt + next.afterInMs <= timer.fireAt!.getTime()) {
        pending.shift();
        current = new Date(Math.max(current.getTime(), startedAt + next.afterInMs));
        event.result = next.payload;
        harness.clock.set(current);
        step = run.next(event);
      } else {
        current = timer.fireAt!;
        harness.clock.set(current);
        step = run.next(timer);
      }
    } else {
      throw new Error(`unexpected yield ${task.kind}`);
    }
  }
  return { result: step.value, trace, canceledTimers };
}

export type { KeyObject };
