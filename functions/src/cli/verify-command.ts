/**
 * `attest verify <export-dir> [--ledger-key <pem file>] [--manifest-key <pem file>]`
 * Keys: SPKI PEM or a JWK (JSON file), Ed25519 or EC P-256 (ES256).
 * Exit codes: 0 pass, 1 verification failed, 2 usage error.
 */
import { readFileSync } from 'node:fs';
import { verifyExport } from './verify-export';

export interface VerifyOptions {
  readonly ledgerKey?: string;
  readonly manifestKey?: string;
}

export async function runVerify(
  dir: string,
  options: VerifyOptions,
  out: (line: string) => void,
  err: (line: string) => void,
): Promise<number> {
  const keys: { ledgerPublicKeyPem?: string; manifestPublicKeyPem?: string } = {};
  for (const [file, key] of [
    [options.ledgerKey, 'ledgerPublicKeyPem'],
    [options.manifestKey, 'manifestPublicKeyPem'],
  ] as const) {
    if (file === undefined) continue;
    try {
      keys[key] = readFileSync(file, 'utf8');
    } catch {
      err(`cannot read ${file}`);
      return 2;
    }
  }
  const startedAt = Date.now();
  let lastShown = 0;
  const report = await verifyExport(dir, {
    ...keys,
    onProgress: (done, total) => {
      if (Date.now() - lastShown > 1000 || done === total) {
        lastShown = Date.now();
        err(`verifying: ${done}/${total} interactions`);
      }
    },
  });
  const seconds = (Date.now() - startedAt) / 1000;
  const key = (id: string | undefined, alg: string | undefined): string =>
    id === undefined ? 'none' : `${id} (${alg ?? 'unknown'})`;
  out(
    `ledger key ${key(report.keyIds.ledger, report.keyAlgorithms.ledger)}; manifest key ${key(report.keyIds.manifest, report.keyAlgorithms.manifest)}`,
  );
  out(
    `${report.interactionCount} interactions, ${report.blockCount} blocks, ${report.bytesHashed} bytes hashed, ${report.ledgerEntryCount} ledger entries in ${seconds.toFixed(1)} s`,
  );
  const outcomes = Object.entries(report.outcomes)
    .map(([outcome, count]) => `${outcome} ${count}`)
    .join(', ');
  out(`outcomes: ${outcomes === '' ? 'none' : outcomes}; ${report.gapCount} gaps`);
  if (report.isValid) {
    out('PASS');
    return 0;
  }
  for (const failure of report.failures) out(`FAIL ${failure.location}: ${failure.message}`);
  out(`FAILED: ${report.failures.length} problem(s)`);
  return 1;
}
