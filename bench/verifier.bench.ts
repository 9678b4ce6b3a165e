/**
 * Offline verifier throughput on a generated export of about 1 GiB (ATTEST_BENCH_EXPORT_MIB to
 * change the size): 16 interactions, two streams each, 1 MiB blocks, signed manifests, exported
 * by the real export writer, then checked by `verifyExport`. Reports the verifier's rate (GiB/s
 * of media hashed, file reads included; a warm-up pass, then two measured passes) and the bare SHA-256 rate of this core for comparison.
 * Target: at least 1 GiB/s per core (bound by SHA-256). Writes bench/results/verifier.json.
 */
import { createHash, generateKeyPairSync } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  blockIdFor,
  chainGenesis,
  chainNext,
  serializeManifest,
  signManifest,
  signingKeyId,
  streamsMerkleRoot,
  type ManifestBlock,
  type ManifestStream,
  type RecordingManifest,
} from '@attest/core';
import { createArchiveService } from '@attest/functions/dist/archive/archive.service';
import { createManifestIntegrity } from '@attest/functions/dist/archive/manifest-integrity';
import { createExportActivities } from '@attest/functions/dist/activities/export.activities';
import { DirectoryExportPackageStore } from '@attest/functions/dist/adapters/directory-export-packages';
import { GuardedMediaStore } from '@attest/functions/dist/adapters/guarded-archive-media';
import {
  MemoryArchiveRecordStore,
  MemoryExportRequestStore,
  MemoryHoldStore,
  MemoryLedgerStore,
  MemoryRecordingBlobStore,
} from '@attest/functions/dist/testing/memory-archive-stores';
import { verifyExport } from '@attest/functions/dist/cli/verify-export';

const TOTAL_MIB = Number(process.env.ATTEST_BENCH_EXPORT_MIB ?? '1024');
const INTERACTIONS = 16;
const STREAMS = 2;
const BLOCK_BYTES = 1024 * 1024;
const TARGET_GIB_PER_SECOND = 1;
const sha = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

async function main(): Promise<void> {
  const blocksPerStream = Math.max(1, Math.round(TOTAL_MIB / (INTERACTIONS * STREAMS)));
  const manifestKeys = generateKeyPairSync('ed25519');
  const ledgerKeys = generateKeyPairSync('ed25519');
  const clock = { now: () => new Date('2030-01-10T00:00:00Z') };
  const blobs = new MemoryRecordingBlobStore();
  const records = new MemoryArchiveRecordStore();
  const holds = new MemoryHoldStore();
  const ledger = new MemoryLedgerStore(clock);
  const integrity = createManifestIntegrity({
    blobs,
    records,
    manifestPublicKeyPem: manifestKeys.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    ledgerSigningKey: ledgerKeys.privateKey,
    clock,
    onAlert: () => {
      throw new Error('a bench manifest does not verify');
    },
  });
  const activities = createArchiveService({
    records,
    holds,
    ledger,
    blobs,
    media: new GuardedMediaStore(blobs, holds, clock),
    groups: { groupsOf: () => Promise.resolve([]) },
    policy: {
      defaultClassName: 'd',
      classes: [{ name: 'd', periodInDays: 365, dispositionMode: 'auto' }],
      rules: [],
    },
    clock,
  });

  process.stdout.write(
    `generating ${INTERACTIONS} interactions x ${STREAMS} streams x ${blocksPerStream} MiB\n`,
  );
  const block = Buffer.alloc(BLOCK_BYTES);
  for (let n = 0; n < INTERACTIONS; n += 1) {
    const interactionId = `int-${n}`;
    const streams: ManifestStream[] = [];
    for (let s = 0; s < STREAMS; s += 1) {
      const streamId = `audio-${s}`;
      const parts: Buffer[] = [];
      const blocks: ManifestBlock[] = [];
      let chain = chainGenesis(interactionId, streamId);
      for (let index = 0; index < blocksPerStream; index += 1) {
        const data = Buffer.from(block.fill((n * 31 + s * 7 + index) & 0xff));
        const digest = sha(data);
        chain = chainNext(chain, digest, digest);
        const offset = index * BLOCK_BYTES;
        blocks.push({
          index,
          blockId: blockIdFor(index),
          offset,
          length: BLOCK_BYTES,
          sha256: digest,
          storedOffset: offset,
          storedLength: BLOCK_BYTES,
          storedSha256: digest,
          chainSha256: chain,
        });
        parts.push(data);
      }
      const blobName = `t/${interactionId}/streams/${streamId}.wav`;
      blobs.recordings.set(blobName, Buffer.concat(parts));
      streams.push({
        streamId,
        kind: 'audio',
        msi: String(s),
        blobName,
        contentType: 'audio/wav',
        firstTimestamp100ns: '0',
        lastTimestamp100ns: '0',
        startedAt: '2030-01-01T00:00:00.000Z',
        endedAt: '2030-01-01T00:00:00.000Z',
        durationInMs: 0,
        frameCount: 0,
        plaintextBytes: blocksPerStream * BLOCK_BYTES,
        storedBytes: blocksPerStream * BLOCK_BYTES,
        blocks,
        chainHeadSha256: chain,
      });
    }
    const manifest: RecordingManifest = {
      formatVersion: 1,
      tenantId: 't',
      interactionId,
      callId: interactionId,
      sessionId: `s-${n}`,
      mediaHostId: 'mh',
      softwareVersion: 'bench',
      signingKeyId: signingKeyId(manifestKeys.publicKey),
      startedAt: '2030-01-01T00:00:00.000Z',
      endedAt: '2030-01-01T00:00:00.000Z',
      sealedAt: '2030-01-01T00:00:00.000Z',
      participants: [],
      streams,
      gaps: [],
      merkleRootSha256: streamsMerkleRoot(streams),
    };
    const bytes = serializeManifest(manifest);
    blobs.recordings.set(`t/${interactionId}/manifest.json`, bytes);
    blobs.recordings.set(
      `t/${interactionId}/manifest.sig`,
      Buffer.from(
        JSON.stringify(signManifest(bytes, manifestKeys.privateKey, manifest.signingKeyId)),
      ),
    );
    await activities.recordSealed({
      tenantId: 't',
      interactionId,
      callId: interactionId,
      type: 'p2p',
      direction: 'inbound',
      outcome: 'recorded',
      invitedAt: `2030-01-01T00:${String(n).padStart(2, '0')}:00.000Z`,
      sealedAt: '2030-01-01T01:00:00.000Z',
      recordedUserIds: ['u'],
      recordingStatusHistory: [],
      gaps: [],
      manifestSha256: sha(bytes),
    });
  }

  // tmpfs when available: on a shared VM disk the run measures the disk, not the verifier.
  const base = process.env.ATTEST_BENCH_DIR ?? (existsSync('/dev/shm') ? '/dev/shm' : tmpdir());
  const dir = mkdtempSync(join(base, 'attest-verifier-bench-'));
  try {
    process.stdout.write('exporting\n');
    let t0 = performance.now();
    const exports = createExportActivities({
      records,
      holds,
      ledger,
      blobs,
      packages: new DirectoryExportPackageStore(() => dir),
      kekPrivateKey: undefined,
      ledgerSigningKey: ledgerKeys.privateKey,
      manifestPublicKeyPem: manifestKeys.publicKey
        .export({ type: 'spki', format: 'pem' })
        .toString(),
      requests: new MemoryExportRequestStore(),
      integrity,
      clock,
    });
    await exports.runExport(
      { exportId: 'bench', createdBy: 'bench', tenantId: 't', query: {} },
      (p) => {
        if (p.done % 4 === 0) process.stdout.write(`  exported ${p.done}/${p.total}\n`);
      },
    );
    const exportSeconds = (performance.now() - t0) / 1000;
    blobs.recordings.clear();

    // Two passes: the first also pays first-touch costs (page cache, JIT, allocator growth).
    const passes: { seconds: number; cpuSeconds: number }[] = [];
    let report = await verifyExport(dir);
    for (let pass = 0; pass < 2; pass += 1) {
      process.stdout.write(`verifying (pass ${pass + 1})\n`);
      const cpuBefore = process.cpuUsage();
      t0 = performance.now();
      report = await verifyExport(dir, {
        onProgress: (done, total) =>
          done % 4 === 0 && process.stdout.write(`  verified ${done}/${total}\n`),
      });
      const cpu = process.cpuUsage(cpuBefore);
      passes.push({
        seconds: (performance.now() - t0) / 1000,
        cpuSeconds: (cpu.user + cpu.system) / 1e6,
      });
    }

    process.stdout.write('read-only baseline\n');
    const mediaFiles: string[] = [];
    const walk = (folder: string): void => {
      for (const name of readdirSync(folder)) {
        const full = join(folder, name);
        if (statSync(full).isDirectory()) walk(full);
        else if (full.includes('/media/')) mediaFiles.push(full);
      }
    };
    walk(dir);
    t0 = performance.now();
    for (const file of mediaFiles) readFileSync(file);
    const readOnlySeconds = (performance.now() - t0) / 1000;

    process.stdout.write('bare SHA-256\n');
    const sample = Buffer.alloc(BLOCK_BYTES * 256, 7);
    t0 = performance.now();
    for (let i = 0; i < 256; i += 1)
      createHash('sha256')
        .update(sample.subarray(i * BLOCK_BYTES, (i + 1) * BLOCK_BYTES))
        .digest();
    const bareSeconds = (performance.now() - t0) / 1000;

    const gib = report.bytesHashed / 2 ** 30;
    const result = {
      name: 'verifier',
      at: new Date().toISOString(),
      machine: {
        cpus: availableParallelism(),
        model: cpus()[0]?.model ?? 'unknown',
        node: process.version,
      },
      export: {
        interactions: INTERACTIONS,
        streams: INTERACTIONS * STREAMS,
        blocks: report.blockCount,
        gib: Number(gib.toFixed(3)),
        seconds: Number(exportSeconds.toFixed(2)),
      },
      verify: {
        isValid: report.isValid,
        failures: report.failures.length,
        passes: passes.map((p) => ({
          seconds: Number(p.seconds.toFixed(2)),
          gibPerSecondWall: Number((gib / p.seconds).toFixed(2)),
          gibPerSecondPerCpuSecond: Number((gib / p.cpuSeconds).toFixed(2)),
        })),
      },
      folder: base,
      readOnlyBaselineGibPerSecond: Number((gib / readOnlySeconds).toFixed(2)),
      bareSha256GibPerSecond: Number((0.25 / bareSeconds).toFixed(2)),
      targetGibPerSecondPerCore: TARGET_GIB_PER_SECOND,
    };
    mkdirSync(join(__dirname, '..', 'results'), { recursive: true });
    writeFileSync(
      join(__dirname, '..', 'results', 'verifier.json'),
      `${JSON.stringify(result, null, 2)}\n`,
    );
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    if (!report.isValid) process.exitCode = 1;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(
    `verifier bench failed: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});
