/**
 * Jest global setup for the integration project: one in-memory Azurite for the whole run.
 * Tests read `ATTEST_TEST_STORAGE_CONNECTION` and isolate themselves by unique table, queue,
 * container and task hub names.
 */
import { startAzurite } from '../../local/src/azurite/azurite-process';

export default async function globalSetup(): Promise<void> {
  const azurite = await startAzurite({ inMemory: true });
  process.env.ATTEST_TEST_STORAGE_CONNECTION = azurite.connectionString;
  process.env.ATTEST_TEST_AZURITE_PID = String(azurite.pid ?? '');
  (globalThis as { __attestAzurite?: typeof azurite }).__attestAzurite = azurite;
}
