/**
 * The local stack for paired-recorder tests: its own storage emulator (the media host registry
 * must hold only this suite's hosts), the Teams simulator with a policy that invites two
 * recorder legs per call, the function app, and several media hosts, each in its own process so
 * a test can kill one (SIGKILL) mid-call. The media hosts share the keys and recordings container
 * the archive knows, so sealed captures can be exported and verified.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { startAzurite, type AzuriteInstance } from '../../../local/src/azurite/azurite-process';
import type { CompliancePolicy } from '../../../local/src/simulator/policy/model';
import { BlobServiceClient } from '@azure/storage-blob';
import { parseJournal } from '../../../media-host/src/session/session-journal';
import { hostFiles } from '../../media-host/media-host-fixtures';
import { USERS, application } from '../../simulator/support/fixtures';
import { startRecorderStack, waitFor, type RecorderStack } from './recorder-stack';

const CHILD_SCRIPT = join(__dirname, '..', '..', 'media-host', 'media-host-child.js');

export interface ChildMediaHost {
  readonly hostId: string;
  readonly controlUrl: string;
  /** SIGKILL: no seal, no goodbye; heartbeats simply stop. */
  kill(): void;
}

export interface PairedStack {
  readonly stack: RecorderStack;
  readonly adminToken: string;
  readonly mediaHosts: readonly ChildMediaHost[];
  /** Starts one more media host process (registered once its first heartbeat arrived). */
  addMediaHost(): Promise<ChildMediaHost>;
  /** Replaces the recorded users' policy (calls in progress keep theirs). */
  setPolicy(policy: Partial<CompliancePolicy>): void;
  /** Committed blocks named by the custody journals of an interaction's media sessions. */
  journaledBlocks(tenantId: string, interactionId: string): Promise<number>;
  /** The same blocks, and the first and last frame times (ISO) they hold. */
  journaledMedia(
    tenantId: string,
    interactionId: string,
  ): Promise<{ blocks: number; firstFrameAt?: string; lastFrameAt?: string }>;
  /**
   * Waits until the committed media of capture `dying` reaches a second past the first committed
   * frame of capture `surviving` (both read from their custody journals). A host killed before
   * that (a loaded machine delays a leg's start or a host's commits by seconds) leaves an interval
   * no capture holds: a real gap of the interaction, not what a kill-with-a-pair test is about.
   */
  untilMediaOverlaps(tenantId: string, dying: string, surviving: string): Promise<void>;
  close(): Promise<void>;
}

/** Two invites per call of the recorded users: `ConcurrentInvitationCount = 2`. */
export const CONCURRENT_POLICY: Partial<CompliancePolicy> = {
  applications: [application({ concurrentInvitationCount: 2 })],
};

export async function startPairedStack(
  options: {
    mediaHostCount?: number;
    policy?: Partial<CompliancePolicy>;
    /** More function app settings (they win over the stack's). */
    env?: Record<string, string>;
    /**
     * What the media hosts store: `raw` passthrough (default), or the `production` formats (Ogg
     * Opus, fragmented MP4) a browser plays.
     */
    storedFormats?: 'raw' | 'production';
  } = {},
): Promise<PairedStack> {
  const storage: AzuriteInstance = await startAzurite({ inMemory: true });
  const sharedConnection = process.env.ATTEST_TEST_STORAGE_CONNECTION;
  process.env.ATTEST_TEST_STORAGE_CONNECTION = storage.connectionString;
  const keysDir = mkdtempSync(join(tmpdir(), 'attest-paired-keys-'));
  const file = (name: string, text: string | Buffer): string => {
    writeFileSync(join(keysDir, name), text);
    return join(keysDir, name);
  };
  const kek = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const signing = generateKeyPairSync('ed25519');
  const kekPublic = file('kek-public.pem', kek.publicKey.export({ type: 'spki', format: 'pem' }));
  const kekPrivate = file(
    'kek-private.pem',
    kek.privateKey.export({ type: 'pkcs8', format: 'pem' }),
  );
  const signingPrivate = file(
    'signing.pem',
    signing.privateKey.export({ type: 'pkcs8', format: 'pem' }),
  );
  const signingPublic = file(
    'signing.pub.pem',
    signing.publicKey.export({ type: 'spki', format: 'pem' }),
  );
  const recordingsContainer = `pair${randomUUID().replace(/-/g, '').slice(0, 20)}`;
  const stack = await startRecorderStack({
    policy: options.policy ?? CONCURRENT_POLICY,
    env: {
      ATTEST_KEK_PRIVATE_KEY_FILE: kekPrivate,
      ATTEST_KEK_PUBLIC_KEY_FILE: kekPublic,
      ATTEST_MANIFEST_PUBLIC_KEY_FILE: signingPublic,
      ATTEST_ARCHIVE_RECORDINGS_CONTAINER: recordingsContainer,
      // The suite's officer (the directory's admin user) may export every group's calls.
      ATTEST_ARCHIVE_RBAC_SCOPES: JSON.stringify({ [USERS.admin]: ['*'] }),
      ...options.env,
    },
  });
  const adminToken = await stack.adminToken();
  const children: ChildProcess[] = [];
  const mediaHosts: ChildMediaHost[] = [];

  const registeredHostIds = async (): Promise<string[]> => {
    const listed = await stack.api<{ value: { hostId: string }[] }>('GET', '/api/mediahosts', {
      token: adminToken,
    });
    return listed.status === 200 ? listed.body.value.map((h) => h.hostId) : [];
  };

  async function addMediaHost(): Promise<ChildMediaHost> {
    const hostId = `mh-${mediaHosts.length + 1}-${randomUUID().slice(0, 6)}`;
    const files = hostFiles(storage.connectionString, {
      hostId,
      functionsUrl: stack.baseUrl,
      heartbeatIntervalInMs: 300,
      // The simulator's media platform trusts the local CA: serve its loopback certificate.
      tlsCertFile: join(process.cwd(), '.data', 'ca', 'server-cert.pem'),
      tlsKeyFile: join(process.cwd(), '.data', 'ca', 'server-key.pem'),
      kekPublicKeyFile: kekPublic,
      signingKeyFile: signingPrivate,
      recordingsContainer,
    });
    const child = spawn(process.execPath, [CHILD_SCRIPT], {
      env: {
        ...process.env,
        ATTEST_TEST_MEDIA_HOST_CONFIG: JSON.stringify(files.config),
        ATTEST_TEST_MEDIA_HOST_FORMATS: options.storedFormats ?? 'raw',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const ready = await new Promise<{ controlUrl: string }>((resolve, reject) => {
      createInterface({ input: child.stdout }).once('line', (line) =>
        resolve(JSON.parse(line) as { controlUrl: string }),
      );
      child.once('exit', (code) => reject(new Error(`media host exited with ${code}: ${stderr}`)));
    });
    await waitFor(
      async () => ((await registeredHostIds()).includes(hostId) ? true : undefined),
      `media host ${hostId} to register`,
      // A loaded machine (CI's two cores) can take long to start a process and its first beat.
      90_000,
    );
    const host: ChildMediaHost = {
      hostId,
      controlUrl: ready.controlUrl,
      kill: () => void child.kill('SIGKILL'),
    };
    mediaHosts.push(host);
    return host;
  }

  for (let i = 0; i < (options.mediaHostCount ?? 2); i += 1) await addMediaHost();
  const journaledMedia: PairedStack['journaledMedia'] = async (tenantId, interactionId) => {
    const container = BlobServiceClient.fromConnectionString(
      storage.connectionString,
    ).getContainerClient(recordingsContainer);
    let blocks = 0;
    let firstFrameAt: string | undefined;
    let lastFrameAt: string | undefined;
    if (!(await container.exists())) return { blocks };
    const prefix = `${tenantId}/${interactionId}/sessions/`;
    for await (const blob of container.listBlobsFlat({ prefix })) {
      const journal = parseJournal(await container.getBlobClient(blob.name).downloadToBuffer());
      // Each checkpoint line names the blocks committed since the one before, and the
      // segment's first and last committed frame times so far.
      for (const checkpoint of journal.checkpoints)
        for (const stream of checkpoint.streams) {
          blocks += stream.blocks.length;
          const { firstFrameAt: first, lastFrameAt: last } = stream;
          if (first !== undefined && (firstFrameAt === undefined || first < firstFrameAt))
            firstFrameAt = first;
          if (last !== undefined && (lastFrameAt === undefined || last > lastFrameAt))
            lastFrameAt = last;
        }
    }
    return {
      blocks,
      ...(firstFrameAt === undefined ? {} : { firstFrameAt }),
      ...(lastFrameAt === undefined ? {} : { lastFrameAt }),
    };
  };
  return {
    stack,
    adminToken,
    mediaHosts,
    addMediaHost,
    setPolicy(policy) {
      const directory = stack.sim.directory();
      stack.sim.setDirectory({
        ...directory,
        tenants: directory.tenants.map((tenant) => ({
          ...tenant,
          policies: tenant.policies.map((p) => ({ ...p, ...policy })),
        })),
      });
    },
    journaledMedia,
    async untilMediaOverlaps(tenantId, dying, surviving) {
      await waitFor(
        async () => {
          const [lost, kept] = await Promise.all([
            journaledMedia(tenantId, dying),
            journaledMedia(tenantId, surviving),
          ]);
          return lost.lastFrameAt !== undefined &&
            kept.firstFrameAt !== undefined &&
            Date.parse(lost.lastFrameAt) >= Date.parse(kept.firstFrameAt) + 1000
            ? true
            : undefined;
        },
        `the media of ${dying} to overlap that of ${surviving} by a second`,
        60_000,
      );
    },
    async journaledBlocks(tenantId, interactionId) {
      return (await journaledMedia(tenantId, interactionId)).blocks;
    },
    async close() {
      for (const child of children) child.kill('SIGKILL');
      await stack.close();
      process.env.ATTEST_TEST_STORAGE_CONNECTION = sharedConnection;
      await storage.close();
    },
  };
}
