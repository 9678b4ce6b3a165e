/**
 * The doctor suites' common set-up: the local recorder stack with a media host, on storage of its
 * own (the doctor reads the whole deployment: every media host and every invite, and the other
 * suites' in the shared emulator are not this deployment's); the settings the function app runs
 * with, which the doctor reads too; a port where nothing listens; a doctor run that keeps its
 * lines; and heartbeats written straight to the deployment's host registry.
 */
import type { MediaHostHeartbeat } from '@attest/core';
import {
  createTableFactory,
  TablesMediaHostRegistry,
} from '../../functions/src/adapters/table-stores';
import { runDoctor, type DoctorOptions } from '../../functions/src/cli/doctor/doctor';
import {
  getFreePort,
  startAzurite,
  type AzuriteInstance,
} from '../../local/src/azurite/azurite-process';
import {
  startRecorderStackWithMedia,
  type RecorderStack,
} from '../recorder/support/recorder-stack';

export interface DoctorRun {
  readonly code: number;
  readonly lines: string[];
}

export type Settings = Record<string, string | undefined>;

export interface DoctorStack {
  readonly stack: RecorderStack;
  /** The function app's settings (the stack configures it through the environment). */
  readonly settings: Settings;
  /** A local port where nothing listens. */
  readonly closedPort: number;
  /** When the set-up began: the stack's invites are after it. */
  readonly startedAt: Date;
  /** Runs the doctor over the settings with `overrides`; its exit code and lines. */
  doctor(
    overrides?: Settings,
    options?: Partial<Omit<DoctorOptions, 'settings'>>,
  ): Promise<DoctorRun>;
  /** Writes a media host's heartbeat (a host taking calls in `local` unless `fields` say else). */
  beat(hostId: string, fields?: Partial<MediaHostHeartbeat>): Promise<void>;
  /** Stops the stack and its storage, and gives the other suites their storage back. */
  close(): Promise<void>;
}

export async function startDoctorStack(): Promise<DoctorStack> {
  const startedAt = new Date();
  const storage: AzuriteInstance = await startAzurite({ inMemory: true });
  const sharedConnection = process.env.ATTEST_TEST_STORAGE_CONNECTION;
  process.env.ATTEST_TEST_STORAGE_CONNECTION = storage.connectionString;
  let stack: RecorderStack;
  try {
    ({ stack } = await startRecorderStackWithMedia());
  } catch (error) {
    process.env.ATTEST_TEST_STORAGE_CONNECTION = sharedConnection;
    await storage.close();
    throw error;
  }
  const settings: Settings = { ...process.env };
  const closedPort = await getFreePort();
  const registry = new TablesMediaHostRegistry(
    createTableFactory({ connectionString: settings.ATTEST_STORAGE_CONNECTION_STRING }),
  );
  return {
    stack,
    settings,
    closedPort,
    startedAt,
    async doctor(overrides = {}, options = {}) {
      const lines: string[] = [];
      const code = await runDoctor(
        {
          certificateWarningInDays: 30,
          invitesSince: startedAt,
          ...options,
          settings: { ...settings, ...overrides },
        },
        (line) => lines.push(line),
      );
      return { code, lines };
    },
    beat: (hostId, fields = {}) =>
      registry.upsertHeartbeat(
        {
          hostId,
          controlUrl: 'https://127.0.0.1:9',
          region: 'local',
          isDraining: false,
          version: '0.1.0',
          capacity: { maxSessions: 10, activeSessions: 0 },
          spoolBytes: 0,
          spoolLimitInBytes: 1,
          sentAt: new Date().toISOString(),
          ...fields,
        },
        new Date(),
      ),
    async close() {
      await stack.close();
      process.env.ATTEST_TEST_STORAGE_CONNECTION = sharedConnection;
      await storage.close();
    },
  };
}

/** The line of check `name` (the name, then a space), or a line saying there is none. */
export const lineOf = (run: DoctorRun, name: string): string =>
  run.lines.find((line) => line.slice(6).startsWith(`${name} `)) ?? `no line for ${name}`;

/** A storage account connection string whose endpoints are all on `port` (where nothing listens). */
export function unreachableStorage(port: number): string {
  const endpoint = `http://127.0.0.1:${port}/devstoreaccount1`;
  return [
    'DefaultEndpointsProtocol=http',
    'AccountName=devstoreaccount1',
    `AccountKey=${Buffer.from('k').toString('base64')}`,
    `BlobEndpoint=${endpoint}`,
    `TableEndpoint=${endpoint}`,
    `QueueEndpoint=${endpoint}`,
    '',
  ].join(';');
}
