#!/usr/bin/env node
/**
 * `attest verify <export-dir> [--ledger-key <pem file>] [--manifest-key <pem file>]`
 * Keys: SPKI PEM or a JWK (JSON file), Ed25519 or EC P-256 (ES256).
 * Exit codes: 0 pass, 1 verification failed, 2 usage error.
 */
import { readFileSync } from 'node:fs';
import { verifyExport } from './verify-export';

const USAGE = 'usage: attest verify <export-dir> [--ledger-key <pem>] [--manifest-key <pem>]';

export async function main(
  argv: readonly string[],
  out: (line: string) => void,
  err: (line: string) => void,
): Promise<number> {
  const [command, ...rest] = argv;
  if (command !== 'verify') {
    err(USAGE);
    return 2;
  }
  let dir: string | undefined;
  const keys: { ledgerPublicKeyPem?: string; manifestPublicKeyPem?: string } = {};
  for (let i = 0; i < rest.length; i += 1) {
    const arg = rest[i]!;
    if (arg === '--ledger-key' || arg === '--manifest-key') {
      const file = rest[(i += 1)];
      if (file === undefined) {
        err(`${arg} needs a file`);
        return 2;
      }
      try {
        keys[arg === '--ledger-key' ? 'ledgerPublicKeyPem' : 'manifestPublicKeyPem'] = readFileSync(
          file,
          'utf8',
        );
      } catch {
        err(`cannot read ${file}`);
        return 2;
      }
    } else if (dir === undefined) dir = arg;
    else {
      err(USAGE);
      return 2;
    }
  }
  if (dir === undefined) {
    err(USAGE);
    return 2;
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
  if (report.isValid) {
    out('PASS');
    return 0;
  }
  for (const failure of report.failures) out(`FAIL ${failure.location}: ${failure.message}`);
  out(`FAILED: ${report.failures.length} problem(s)`);
  return 1;
}

if (require.main === module) {
  main(
    process.argv.slice(2),
    (line) => process.stdout.write(`${line}\n`),
    (line) => process.stderr.write(`${line}\n`),
  ).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(
        `attest: ${error instanceof Error ? error.message : 'unexpected failure'}\n`,
      );
      process.exit(2);
    },
  );
}
