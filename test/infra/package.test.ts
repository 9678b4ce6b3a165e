import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { buildRelease, type ReleaseArtifacts } from '../../tools/package/build-release';

const root = resolve(__dirname, '../..');
const version = '1.2.3-rc.1';

function sha256(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

function unzip(zip: string, into: string): void {
  mkdirSync(into, { recursive: true });
  execFileSync('unzip', ['-q', zip, '-d', into]);
}

/** Runs a script with Node from `cwd`, as the package would run on its target. */
function nodeIn(cwd: string, script: string): string {
  return execFileSync(process.execPath, ['-e', script], { cwd, encoding: 'utf8' }).trim();
}

describe('npm run package', () => {
  let out: string;
  let result: ReleaseArtifacts;
  const progress: string[] = [];
  beforeAll(async () => {
    out = mkdtempSync(join(tmpdir(), 'attest-package-'));
    const bridgeDir = join(out, 'bridge-publish');
    mkdirSync(bridgeDir);
    writeFileSync(join(bridgeDir, 'Attest.MediaBridge.exe'), 'not a real bridge');
    result = await buildRelease({
      root,
      outDir: join(out, 'dist'),
      version,
      bridgeDir,
      cacheDir: join(root, '.data/package-cache'),
      onProgress: (message) => progress.push(message),
    });
  }, 600_000);
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('writes versioned artifacts with their SHA-256 in SHA256SUMS', () => {
    const sums = readFileSync(join(out, 'dist/SHA256SUMS'), 'utf8').trim().split('\n');
    expect(sums.map((line) => line.split(/\s+/)[1]).sort()).toEqual([
      `attest-functions-${version}.zip`,
      `attest-media-host-${version}-win-x64.zip`,
      'install-media-host.ps1',
    ]);
    for (const line of sums) {
      const [hash = '', file = ''] = line.split(/\s+/);
      expect(sha256(join(out, 'dist', file))).toBe(hash);
      expect(result.checksums[file]).toBe(hash);
    }
    expect(progress.at(-1)).toMatch(/SHA256SUMS/);
  });

  it('packages the function app as Azure Functions runs it, with every dependency', () => {
    const app = join(out, 'functions');
    unzip(join(out, `dist/attest-functions-${version}.zip`), app);
    const manifest = JSON.parse(readFileSync(join(app, 'package.json'), 'utf8')) as {
      version: string;
      main: string;
      dependencies: Record<string, string>;
    };
    expect(manifest.version).toBe(version);
    expect(readFileSync(join(app, 'host.json'), 'utf8')).toContain('"version"');
    const missing = nodeIn(
      app,
      `const deps = Object.keys(require('./package.json').dependencies);
       console.log(JSON.stringify(deps.filter((d) => { try { require.resolve(d, { paths: [process.cwd()] }); return false; } catch { return true; } })));`,
    );
    expect(JSON.parse(missing)).toEqual([]);
    // The app's own modules load from the package alone (not from the repository).
    expect(
      nodeIn(app, `console.log(typeof require('./dist/config/load-config.js').loadConfig)`),
    ).toBe('function');
  });

  it('ships the portal with the function app, where the app looks for it', () => {
    const app = join(out, 'functions-portal');
    unzip(join(out, `dist/attest-functions-${version}.zip`), app);
    expect(readFileSync(join(app, 'portal/index.html'), 'utf8')).toContain('<html');
    expect(
      nodeIn(
        app,
        `const { relative } = require('node:path');
         console.log(relative(process.cwd(), require('./dist/config/load-config.js').defaultPortalDir()));`,
      ),
    ).toBe('portal');
  });

  it('packages the media host for Windows with Node, the service wrapper, the bridge and the install script', () => {
    const folder = join(out, 'media');
    unzip(join(out, `dist/attest-media-host-${version}-win-x64.zip`), folder);
    const base = join(folder, `attest-media-host-${version}-win-x64`);
    const release = JSON.parse(readFileSync(join(base, 'release.json'), 'utf8')) as {
      version: string;
      node: { version: string; sha256: string };
      hasBridge: boolean;
    };
    expect(release.version).toBe(version);
    expect(release.hasBridge).toBe(true);
    expect(result.hasBridge).toBe(true);
    expect(sha256(join(base, 'node/node.exe'))).toBe(release.node.sha256);
    expect(readFileSync(join(base, 'node/node.exe')).subarray(0, 2).toString('latin1')).toBe('MZ');
    expect(readFileSync(join(base, 'service/winsw.exe')).subarray(0, 2).toString('latin1')).toBe(
      'MZ',
    );
    expect(readFileSync(join(base, 'bridge/Attest.MediaBridge.exe'), 'utf8')).toBe(
      'not a real bridge',
    );
    expect(readFileSync(join(base, 'install-media-host.ps1'), 'utf8')).toBe(
      readFileSync(join(root, 'media-host/deploy/install-media-host.ps1'), 'utf8'),
    );
    const app = join(base, 'app');
    expect(
      nodeIn(
        app,
        `const c = require('./media-host/dist/config/media-host.config.js');
         const b = require('./media-host/dist/deploy/windows-host-settings.js');
         console.log(typeof c.loadConfig, typeof b.buildWindowsHostFiles, typeof require.resolve('@azure/storage-blob', { paths: [process.cwd() + '/media-host'] }))`,
      ),
    ).toBe('function function string');
  });
});
