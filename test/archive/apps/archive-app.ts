/**
 * The archive as the function app composes it (real adapters on Azurite, real JWT verifier),
 * for tests through the local Functions host. Configuration comes from the test's environment
 * through the product's own config readers; the admin token settings are the test issuer's.
 */
import { composeArchive } from '../../../functions/src/composition/archive.composition';
import { testArchiveConfig } from './test-archive-config';

(globalThis as { __attestArchive?: unknown }).__attestArchive = composeArchive(
  testArchiveConfig(process.env),
);
