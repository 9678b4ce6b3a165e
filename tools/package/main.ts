/**
 * `npm run package [-- --version 1.2.3 --out dist --bridge-dir <publish folder>]`. Progress on
 * stderr; the artifacts and their SHA-256 on stdout, one a line. Exit 1 with one line on failure.
 */
import { resolve } from 'node:path';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { buildRelease } from './build-release';

const root = resolve(__dirname, '../../..');

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      version: { type: 'string' },
      out: { type: 'string', default: 'dist' },
      'bridge-dir': {
        type: 'string',
        default: 'media-host/bridge/publish/win-x64',
      },
      'cache-dir': { type: 'string', default: '.data/package-cache' },
    },
    strict: true,
  });
  const rootManifest = JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8')) as {
    version: string;
  };
  const result = await buildRelease({
    root,
    outDir: resolve(root, values.out ?? 'dist'),
    version: values.version ?? rootManifest.version,
    bridgeDir: resolve(root, values['bridge-dir'] ?? ''),
    cacheDir: resolve(root, values['cache-dir'] ?? '.data/package-cache'),
    onProgress: (message) => process.stderr.write(`package: ${message}\n`),
  });
  for (const [file, hash] of Object.entries(result.checksums))
    process.stdout.write(`${hash}  ${file}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`package: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
