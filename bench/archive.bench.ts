/**
 * Archive benchmarks:
 *  - ledger append rate against Azurite (in memory), table plus append-blob copy as composed:
 *    appends issued concurrently (the writer
 *    batches them into entity-group transactions) and one at a time (each awaited);
 *    target at least 1,000 entries/s;
 *  - the retention job over 100,000 archived interactions (in-memory stores, a starter that only
 *    counts) and over 2,000 in Azurite Tables (the expiry index scan and record reads).
 * Writes bench/results/archive.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { LedgerEntryKind, verifyLedger, type InteractionRecord } from '@attest/core';

import { startAzurite } from '@attest/local/dist/azurite/azurite-process';
import { TableLedgerStore } from '@attest/functions/dist/adapters/table-ledger';
import { AppendBlobLedgerMirror } from '@attest/functions/dist/adapters/append-blob-ledger';
import {
  archiveTableNames,
  TableArchiveRecordStore,
} from '@attest/functions/dist/adapters/table-archive-stores';
import {
  MemoryArchiveRecordStore,
  MemoryHoldStore,
} from '@attest/functions/dist/testing/memory-archive-stores';
import { createRetentionSweep } from '@attest/functions/dist/timers/retention-sweep.timer';
import type {
  ArchiveRecord,
  ArchiveRecordStore,
} from '@attest/functions/dist/domain/archive-ports';

const LEDGER_CONCURRENT = 5_000;
const LEDGER_SEQUENTIAL = 500;
const SWEEP_MEMORY = 100_000;
const SWEEP_AZURITE = 2_000;
const TARGET_ENTRIES_PER_SECOND = 1_000;
const clock = { now: () => new Date() };

function progress(label: string, done: number, total: number): void {
  process.stdout.write(`  ${label}: ${done}/${total}\n`);
}

function record(i: number): ArchiveRecord {
  const invitedAt = new Date(Date.UTC(2020, 0, 1) + i * 60_000).toISOString();
  const interaction: InteractionRecord = {
    tenantId: 'tenant-bench',
    interactionId: `int-${i.toString().padStart(7, '0')}`,
    callId: `call-${i}`,
    type: 'p2p',
    direction: 'inbound',
    outcome: 'recorded',
    invitedAt,
    sealedAt: invitedAt,
    recordedUserIds: [`user-${i % 500}`],
    recordingStatusHistory: [],
    gaps: [],
    retentionClass: 'default',
    expiresAt: new Date(Date.parse(invitedAt) + 30 * 86_400_000).toISOString(),
  };
  return { interaction, groupIds: ['staff'], dispositionMode: 'auto', state: 'active' };
}

async function sweepRate(records: ArchiveRecordStore, count: number, label: string) {
  const holds = new MemoryHoldStore();
  await holds.create({
    tenantId: 'tenant-bench',
    holdId: 'h',
    matterId: 'M',
    description: 'bench',
    custodian: 'c',
    scope: { recordedUserIds: ['user-7'] },
    createdAt: '2020-01-01T00:00:00Z',
    createdBy: 'c',
  });
  let started = 0;
  const sweep = createRetentionSweep({
    records,
    holds,
    clock,
    settings: { approvalTimeoutInMs: 86_400_000, reminderIntervalInMs: 86_400_000 },
    starter: {
      startIfIdle: () => Promise.resolve((started += 1) > 0 ? 'started' : 'alreadyRunning'),
    },
    onProgress: (s) => {
      if (s.expired % 20_000 === 0 && s.expired > 0) progress(label, s.expired, count);
    },
  });
  const t0 = performance.now();
  const summary = await sweep();
  const seconds = (performance.now() - t0) / 1000;
  return {
    interactions: count,
    ...summary,
    seconds: Number(seconds.toFixed(3)),
    interactionsPerSecond: Math.round(summary.expired / seconds),
  };
}

async function main(): Promise<void> {
  const azurite = await startAzurite({ inMemory: true });
  try {
    process.stdout.write('ledger: concurrent appends against Azurite\n');
    const names = archiveTableNames(`bench${Date.now().toString(36)}`);
    // As composed in the app: the table plus the write-once append-blob copy.
    const mirror = AppendBlobLedgerMirror.fromConnectionString(
      azurite.connectionString,
      `${names.ledger}copy`,
    );
    const ledger = TableLedgerStore.fromConnectionString(
      azurite.connectionString,
      names.ledger,
      clock,
      mirror,
    );
    await ledger.append({
      kind: LedgerEntryKind.configurationChanged,
      actor: 'bench',
      subjectType: 'configuration',
      subjectId: 'warm-up',
    });
    let t0 = performance.now();
    const pending: Promise<unknown>[] = [];
    for (let i = 0; i < LEDGER_CONCURRENT; i += 1) {
      pending.push(
        ledger.append({
          kind: LedgerEntryKind.accessed,
          actor: `user-${i % 50}`,
          subjectType: 'interaction',
          subjectId: `int-${i}`,
          details: { action: 'viewMetadata', outcome: 'allowed' },
        }),
      );
      if ((i + 1) % 1000 === 0) progress('appends issued', i + 1, LEDGER_CONCURRENT);
    }
    await Promise.all(pending);
    const concurrentSeconds = (performance.now() - t0) / 1000;
    await ledger.whenMirrored();
    const concurrentMirroredSeconds = (performance.now() - t0) / 1000;

    process.stdout.write('ledger: concurrent appends, table only (no append-blob copy)\n');
    const tableOnly = TableLedgerStore.fromConnectionString(
      azurite.connectionString,
      `${names.ledger}only`,
      clock,
    );
    await tableOnly.append({
      kind: LedgerEntryKind.configurationChanged,
      actor: 'bench',
      subjectType: 'configuration',
      subjectId: 'warm-up',
    });
    t0 = performance.now();
    await Promise.all(
      Array.from({ length: LEDGER_CONCURRENT }, (_, i) =>
        tableOnly.append({
          kind: LedgerEntryKind.accessed,
          actor: `user-${i % 50}`,
          subjectType: 'interaction',
          subjectId: `int-${i}`,
          details: { action: 'viewMetadata', outcome: 'allowed' },
        }),
      ),
    );
    const tableOnlySeconds = (performance.now() - t0) / 1000;

    process.stdout.write('ledger: sequential appends against Azurite\n');
    t0 = performance.now();
    for (let i = 0; i < LEDGER_SEQUENTIAL; i += 1) {
      await ledger.append({
        kind: LedgerEntryKind.accessed,
        actor: 'user-seq',
        subjectType: 'interaction',
        subjectId: `int-${i}`,
      });
    }
    const sequentialSeconds = (performance.now() - t0) / 1000;
    const entries = [];
    for await (const entry of ledger.listEntries(0)) entries.push(entry);
    const chain = verifyLedger(entries);

    process.stdout.write(`retention: ${SWEEP_MEMORY} interactions in memory\n`);
    const memory = new MemoryArchiveRecordStore();
    for (let i = 0; i < SWEEP_MEMORY; i += 1) await memory.upsert(record(i));
    const memorySweep = await sweepRate(memory, SWEEP_MEMORY, 'swept');

    process.stdout.write(`retention: ${SWEEP_AZURITE} interactions in Azurite Tables\n`);
    const tables = TableArchiveRecordStore.fromConnectionString(azurite.connectionString, names);
    for (let i = 0; i < SWEEP_AZURITE; i += 1) {
      await tables.upsert(record(i));
      if ((i + 1) % 1000 === 0) progress('archived', i + 1, SWEEP_AZURITE);
    }
    const tableSweep = await sweepRate(tables, SWEEP_AZURITE, 'swept');

    const result = {
      name: 'archive',
      at: new Date().toISOString(),
      machine: {
        cpus: availableParallelism(),
        model: cpus()[0]?.model ?? 'unknown',
        node: process.version,
        loadAverage1m: Number(loadavg()[0]!.toFixed(1)),
      },
      ledger: {
        concurrent: {
          entries: LEDGER_CONCURRENT,
          seconds: Number(concurrentSeconds.toFixed(3)),
          entriesPerSecond: Math.round(LEDGER_CONCURRENT / concurrentSeconds),
          secondsUntilCopyCaughtUp: Number(concurrentMirroredSeconds.toFixed(3)),
        },
        concurrentTableOnly: {
          entries: LEDGER_CONCURRENT,
          seconds: Number(tableOnlySeconds.toFixed(3)),
          entriesPerSecond: Math.round(LEDGER_CONCURRENT / tableOnlySeconds),
        },
        sequential: {
          entries: LEDGER_SEQUENTIAL,
          seconds: Number(sequentialSeconds.toFixed(3)),
          entriesPerSecond: Math.round(LEDGER_SEQUENTIAL / sequentialSeconds),
        },
        chainLength: entries.length,
        isChainValid: chain.isValid,
        targetEntriesPerSecond: TARGET_ENTRIES_PER_SECOND,
        meetsTarget: LEDGER_CONCURRENT / concurrentSeconds >= TARGET_ENTRIES_PER_SECOND,
      },
      retentionSweep: { memory: memorySweep, azuriteTables: tableSweep },
    };
    mkdirSync(join(__dirname, '..', 'results'), { recursive: true });
    writeFileSync(
      join(__dirname, '..', 'results', 'archive.json'),
      `${JSON.stringify(result, null, 2)}\n`,
    );
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    if (!chain.isValid) process.exitCode = 1;
  } finally {
    await azurite.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(
    `archive bench failed: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});
