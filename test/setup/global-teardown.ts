import type { AzuriteInstance } from '../../local/src/azurite/azurite-process';

export default async function globalTeardown(): Promise<void> {
  const azurite = (globalThis as { __attestAzurite?: AzuriteInstance }).__attestAzurite;
  await azurite?.close();
}
