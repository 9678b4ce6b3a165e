/**
 * The recorder-answer benchmark's fixture (the tenant, bot and users it plays; the directory's
 * shape is the shared `local-stack-fixture.ts`) and its small measuring helpers (latency summaries, process CPU, ports).
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

import type { Directory } from '@attest/local/dist/simulator';
import { recorderDirectory, type RecorderTenantFixture } from './local-stack-fixture';

export const TENANT = 'a1b2c3d4-0000-4000-8000-0000000000aa';
export const BOT_APP = '55555555-0000-4000-8000-0000000000aa';
export const BOT_SECRET = 'bench-secret-value';
export const INSTANCE = '44444444-0000-4000-8000-0000000000aa';
export const RECORDED = '11111111-0000-4000-8000-0000000000a1';
export const OTHER = '11111111-0000-4000-8000-0000000000a3';
export const ADMIN = '22222222-0000-4000-8000-0000000000a1';

/** The tenant, bot and users the bench plays (one recorded trader, a colleague, an admin). */
export const FIXTURE: RecorderTenantFixture = {
  tenantId: TENANT,
  tenantName: 'Bench tenant',
  botAppId: BOT_APP,
  botSecret: BOT_SECRET,
  botName: 'Bench recorder',
  instanceId: INSTANCE,
  users: [
    { id: RECORDED, displayName: 'Bench Trader', userPrincipalName: 'trader@bench.example' },
    { id: OTHER, displayName: 'Bench Staff', userPrincipalName: 'staff@bench.example' },
    {
      id: ADMIN,
      displayName: 'Bench Admin',
      userPrincipalName: 'admin@bench.example',
      portalRoles: ['admin'],
    },
  ],
  recordedUserIds: [RECORDED],
};

export function directory(webhookUrl: string): Directory {
  return recorderDirectory(FIXTURE, webhookUrl);
}

export async function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => done(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}

export function percentile(sorted: readonly number[], p: number): number {
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return Number((sorted[Math.max(0, index)] ?? 0).toFixed(1));
}

export function summarise(latencies: readonly number[], expected: number) {
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    invites: expected,
    answered: sorted.length,
    p50InMs: percentile(sorted, 50),
    p99InMs: percentile(sorted, 99),
    maxInMs: Number((sorted.at(-1) ?? 0).toFixed(1)),
    laterThan5sCount: sorted.filter((ms) => ms > 5_000).length + (expected - sorted.length),
  };
}

export const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

/** CPU seconds (user + system) a process has used so far. */
export function cpuSecondsOf(pid: number | undefined): number {
  if (pid === undefined) return 0;
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}
